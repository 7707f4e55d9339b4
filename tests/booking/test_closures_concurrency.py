"""The closure decides on the bookings it finds under the partner lock (PostgreSQL): a booking
written by another transaction holding the lock while the owner confirms is seen once the lock
is free, and the closure is refused rather than saved over a booking nobody was shown."""

from __future__ import annotations

import threading
from datetime import UTC, datetime, timedelta

import pytest
from admin_world import make_booking
from django.contrib.auth import get_user_model
from django.db import connections, transaction

from booking.closures import CoveredChanged, CoveredChoice, closure_create
from booking.models import Booking, Closure, Partner, Service
from booking.services import partner_lock
from security.actors import Actor, Via
from tests.booking.conftest import zurich
from tests.staffing import team

pytestmark = [pytest.mark.postgres]

NOW = datetime(2025, 3, 3, 6, 0, tzinfo=UTC)  # Monday, 07:00 in Zurich
FRIDAY = zurich(2025, 3, 7, 9)


def test_a_booking_written_under_the_lock_meanwhile_refuses_the_closure(
    transactional_db, partner: Partner, service: Service
) -> None:
    team(partner)
    owner = get_user_model().objects.create_user("boss@alpha.example", is_staff=True)
    locked, release = threading.Event(), threading.Event()
    outcome: dict[str, object] = {}

    def writer() -> None:
        """Another booking writer: takes the partner lock, books Friday, commits on release."""
        try:
            with transaction.atomic():
                partner_lock(partner.pk)
                locked.set()
                release.wait(timeout=30)
                outcome["booking"] = make_booking(service, FRIDAY.astimezone(UTC))
        finally:
            connections.close_all()

    def closer() -> None:
        try:
            closure_create(
                partner=partner,
                actor=Actor.user(owner, via=Via.ADMIN),
                first_day=FRIDAY.date(),
                last_day=FRIDAY.date() + timedelta(days=2),
                note="Holidays",
                choice=CoveredChoice.KEEP,
                shown=set(),  # the owner saw no bookings on those days
                now=NOW,
            )
            outcome["closure"] = "saved"
        except CoveredChanged:
            outcome["closure"] = "refused"
        finally:
            connections.close_all()

    first = threading.Thread(target=writer)
    first.start()
    assert locked.wait(timeout=30)
    second = threading.Thread(target=closer)
    second.start()
    second.join(timeout=1)
    assert second.is_alive(), "the closure did not wait for the partner lock"
    release.set()
    first.join(timeout=30)
    second.join(timeout=30)
    assert outcome["closure"] == "refused"
    assert not Closure.objects.exists()
    booking = outcome["booking"]
    assert isinstance(booking, Booking)
    assert Booking.objects.get(pk=booking.pk).status == Booking.Status.CONFIRMED
