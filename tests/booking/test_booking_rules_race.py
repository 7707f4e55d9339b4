"""A booking never lands where a closure, an absence or new weekly hours committed just before it
(PostgreSQL, real transactions).

A booking reads the hours, the people and their absences before it takes the partner lock
(booking.services.booking_create). Here the booking has read them (Friday open) and waits for
the lock while the owner's change holds it; the change closes Friday and commits; then the
booking gets the lock. It must not be written: the owner was shown no bookings that day and
chose on that.
"""

from __future__ import annotations

import threading
from collections.abc import Callable
from datetime import UTC, datetime, time, timedelta

import pytest
from django.contrib.auth import get_user_model
from django.db import connections, transaction

from booking.closures import CoveredChoice, closure_create
from booking.hours import date_override_set, weekly_hours_set
from booking.models import Booking, Partner, Service, StaffMember
from booking.services import SlotNotOffered, booking_create, partner_lock
from security.actors import Actor, Via
from tests.actors import BOOKING_CUSTOMER, customer_details
from tests.booking.conftest import zurich
from tests.staffing import team

pytestmark = [pytest.mark.postgres]

NOW = datetime(2025, 3, 3, 6, 0, tzinfo=UTC)  # Monday, 07:00 in Zurich
FRIDAY = zurich(2025, 3, 7, 10)


def _close_friday(partner: Partner, owner: Actor) -> None:
    closure_create(
        partner=partner,
        actor=owner,
        first_day=FRIDAY.date(),
        last_day=FRIDAY.date(),
        note="Closed",
        choice=CoveredChoice.KEEP,
        shown=set(),
        now=NOW,
    )


def _friday_away(partner: Partner, owner: Actor) -> None:
    closure_create(
        partner=partner,
        actor=owner,
        first_day=FRIDAY.date(),
        last_day=FRIDAY.date(),
        note="Away",
        choice=CoveredChoice.KEEP,
        shown=set(),
        staff=StaffMember.objects.get(partner=partner),
        now=NOW,
    )


def _hours_without_friday(partner: Partner, owner: Actor) -> None:
    weekly_hours_set(
        partner=partner,
        actor=owner,
        week={day: [(time(9), time(17))] for day in range(4)},
        choice=CoveredChoice.KEEP,
        shown=set(),
        now=NOW,
    )


def _special_hours_closing_friday(partner: Partner, owner: Actor) -> None:
    date_override_set(
        partner=partner,
        actor=owner,
        day=FRIDAY.date(),
        ranges=[],
        note="Closed",
        choice=CoveredChoice.KEEP,
        shown=set(),
        now=NOW,
    )


@pytest.mark.parametrize(
    "change",
    [_close_friday, _friday_away, _hours_without_friday, _special_hours_closing_friday],
)
def test_a_booking_checked_before_a_change_committed_is_not_written_into_it(
    transactional_db, partner: Partner, service: Service, change: Callable[[Partner, Actor], None]
) -> None:
    team(partner)
    user = get_user_model().objects.create_user("boss@alpha.example", is_staff=True)
    owner = Actor.user(user, via=Via.ADMIN)
    locked, release = threading.Event(), threading.Event()
    outcome: dict[str, object] = {}

    def owner_changes() -> None:
        """The owner's change: holds the partner lock while the booking checks, then commits."""
        try:
            with transaction.atomic():
                partner_lock(partner.pk)
                locked.set()
                release.wait(timeout=30)
                change(partner, owner)
            outcome["change"] = "saved"
        finally:
            connections.close_all()

    def customer_books() -> None:
        customer, _rest = customer_details()
        try:
            booking, _token = booking_create(
                service=service, start=FRIDAY, customer=customer, actor=BOOKING_CUSTOMER, now=NOW
            )
            outcome["booking"] = booking.pk
        except SlotNotOffered:
            outcome["booking"] = "refused"
        finally:
            connections.close_all()

    first = threading.Thread(target=owner_changes)
    first.start()
    assert locked.wait(timeout=30)
    second = threading.Thread(target=customer_books)
    second.start()
    second.join(timeout=1)
    assert second.is_alive(), "the booking did not wait for the partner lock"
    release.set()
    first.join(timeout=30)
    second.join(timeout=30)

    assert outcome["change"] == "saved"
    assert outcome["booking"] == "refused"
    friday = (FRIDAY.replace(hour=0), FRIDAY.replace(hour=0) + timedelta(days=1))
    assert not Booking.objects.filter(
        status__in=Booking.BLOCKING, start__gte=friday[0], start__lt=friday[1]
    ).exists()


def test_a_booking_still_goes_in_when_the_change_is_elsewhere(
    transactional_db, partner: Partner, service: Service
) -> None:
    """A change that leaves the slot open (a closure on another day) costs the booking a second
    look under the lock, not its slot."""
    team(partner)
    user = get_user_model().objects.create_user("boss@alpha.example", is_staff=True)
    owner = Actor.user(user, via=Via.ADMIN)
    locked, release = threading.Event(), threading.Event()
    outcome: dict[str, object] = {}

    def owner_changes() -> None:
        try:
            with transaction.atomic():
                partner_lock(partner.pk)
                locked.set()
                release.wait(timeout=30)
                closure_create(
                    partner=partner,
                    actor=owner,
                    first_day=FRIDAY.date() - timedelta(days=1),
                    last_day=FRIDAY.date() - timedelta(days=1),
                    note="Thursday off",
                    choice=CoveredChoice.KEEP,
                    shown=set(),
                    now=NOW,
                )
        finally:
            connections.close_all()

    def customer_books() -> None:
        customer, _rest = customer_details()
        try:
            booking, _token = booking_create(
                service=service, start=FRIDAY, customer=customer, actor=BOOKING_CUSTOMER, now=NOW
            )
            outcome["booking"] = booking.pk
        finally:
            connections.close_all()

    first = threading.Thread(target=owner_changes)
    first.start()
    assert locked.wait(timeout=30)
    second = threading.Thread(target=customer_books)
    second.start()
    second.join(timeout=1)
    release.set()
    first.join(timeout=30)
    second.join(timeout=30)

    booking = Booking.objects.get(pk=outcome["booking"])
    assert booking.status == Booking.Status.CONFIRMED and booking.start == FRIDAY
