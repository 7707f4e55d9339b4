"""The shared cache of free starts (per service, staff member or anyone, and partner-local day)
never shows a stale slot: every write that changes what is free (a booking, cancellation or
move, hours, date overrides and closures, absences, staff and service changes) moves the
partner's version in its own transaction, an expired hold stops blocking at its expiry without
any write, and times past or within the notice are never served from the cache.

Each step compares what the pages and the API show (selectors.free_starts_by_local_day) with the
engine's answer straight from the database. Run on the embedded file cache and on Redis.

Time starts frozen at Monday 3 March 2025, 07:00 in Zurich. The fixture partner is open Mon-Fri
09:00-17:00 Europe/Zurich with a 60-minute "Haircut" (60 minutes' notice, 30 days ahead).
"""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, date, datetime, time, timedelta
from pathlib import Path

import pytest
import time_machine
from django.conf import settings
from django.core.cache import cache
from django.db import connection
from django.test import override_settings
from django.test.utils import CaptureQueriesContext

from booking import selectors, services, slots
from booking.models import (
    Booking,
    DateOverride,
    DateOverrideRange,
    OpeningHours,
    Partner,
    Service,
    StaffAbsence,
    StaffMember,
)
from tests.actors import BOOKING_CUSTOMER
from tests.booking.conftest import ZURICH, zurich
from tests.staffing import person

pytestmark = pytest.mark.django_db

NOW = datetime(2025, 3, 3, 6, 0, tzinfo=UTC)
FIRST, LAST = date(2025, 3, 3), date(2025, 3, 21)  # today (live) and the cached days after


def shown(service: Service, staff: StaffMember | None = None) -> dict[date, list[datetime]]:
    from django.utils import timezone

    return selectors.free_starts_by_local_day(
        service=service, zone=ZURICH, first=FIRST, last=LAST, now=timezone.now(), staff=staff
    )


def truth(service: Service, staff: StaffMember | None = None) -> dict[date, list[datetime]]:
    """The engine's answer from the database, no cache involved."""
    from django.utils import timezone

    found = selectors.service_slots(
        service=service,
        window_start=slots.local_midnight(ZURICH, FIRST),
        window_end=slots.local_midnight(ZURICH, LAST + timedelta(days=1)),
        now=timezone.now(),
        staff=staff,
    )
    by_day = slots.group_by_local_date(found, ZURICH)
    return {
        FIRST + timedelta(days=n): sorted(by_day.get(FIRST + timedelta(days=n), []))
        for n in range((LAST - FIRST).days + 1)
    }


def fresh(service: Service, staff: StaffMember | None = None) -> dict[date, list[datetime]]:
    """What is shown, asserted equal to the truth (twice: once filling the cache, once from it)."""
    first = shown(service, staff)
    assert first == truth(service, staff)
    again = shown(service, staff)
    assert again == first
    return again


def starts(days: dict[date, list[datetime]], day: date) -> list[int]:
    return [s.astimezone(ZURICH).hour for s in days[day]]


def customer(n: int) -> services.CustomerDetails:
    return services.CustomerDetails(name=f"Customer {n}", email=f"c{n}@example.com")


def never_stale(partner: Partner, service: Service) -> None:
    wednesday, thursday, friday = date(2025, 3, 12), date(2025, 3, 13), date(2025, 3, 14)
    days = fresh(service)
    assert starts(days, wednesday) == [9, 10, 11, 12, 13, 14, 15, 16]
    assert starts(days, date(2025, 3, 3)) == [9, 10, 11, 12, 13, 14, 15, 16]  # today, live

    # The second request is answered from the cache: no booking is read for the later days.
    with CaptureQueriesContext(connection) as queries:
        shown(service)
    booking_reads = [q for q in queries.captured_queries if '"booking_booking"' in q["sql"]]
    assert len(booking_reads) <= 1, booking_reads  # today's live day only

    booked, _ = services.booking_create(
        service=service, start=zurich(2025, 3, 12, 10), customer=customer(1), actor=BOOKING_CUSTOMER
    )
    assert 10 not in starts(fresh(service), wednesday)

    services.booking_cancel(booking=booked, actor=BOOKING_CUSTOMER)
    assert 10 in starts(fresh(service), wednesday)

    moving, _ = services.booking_create(
        service=service, start=zurich(2025, 3, 13, 10), customer=customer(2), actor=BOOKING_CUSTOMER
    )
    assert 10 not in starts(fresh(service), thursday)
    services.booking_reschedule(
        booking=moving, new_start=zurich(2025, 3, 14, 11), actor=BOOKING_CUSTOMER
    )
    days = fresh(service)
    assert 10 in starts(days, thursday)
    assert 11 not in starts(days, friday)

    # Hours changed and removed as the admin does it (model saves and deletes).
    wednesday_hours = OpeningHours.objects.get(partner=partner, weekday=2)
    wednesday_hours.start = time(12)
    wednesday_hours.save()
    assert starts(fresh(service), wednesday) == [12, 13, 14, 15, 16]
    wednesday_hours.delete()
    assert starts(fresh(service), wednesday) == []

    # An absence of the only person.
    staff = StaffMember.objects.get(partner=partner)
    absence = StaffAbsence.objects.create(
        staff=staff, starts_at=zurich(2025, 3, 17, 9), ends_at=zurich(2025, 3, 17, 12)
    )
    assert starts(fresh(service), date(2025, 3, 17)) == [12, 13, 14, 15, 16]
    absence.delete()
    assert starts(fresh(service), date(2025, 3, 17))[0] == 9

    # A closure, then one opening range on that date.
    closure = DateOverride.objects.create(partner=partner, date=date(2025, 3, 18), note="Closed")
    assert starts(fresh(service), date(2025, 3, 18)) == []
    DateOverrideRange.objects.create(override=closure, start=time(9), end=time(10))
    assert starts(fresh(service), date(2025, 3, 18)) == [9]

    # A hold blocks until it expires, then its time is free again without any write.
    services.booking_create(
        service=service,
        start=zurich(2025, 3, 20, 10),
        customer=customer(3),
        actor=BOOKING_CUSTOMER,
        status=Booking.Status.PENDING_PAYMENT,
        hold_minutes=30,
    )
    assert 10 not in starts(fresh(service), date(2025, 3, 20))
    with time_machine.travel(NOW + timedelta(minutes=31), tick=False):
        assert 10 in starts(fresh(service), date(2025, 3, 20))

    # A day later, today's starts are gone, whatever was cached.
    with time_machine.travel(NOW + timedelta(days=1), tick=False):
        days = fresh(service)
        assert days[date(2025, 3, 3)] == []

    # The service and the team change.
    service.duration_minutes = 120
    service.save()
    assert 16 not in starts(fresh(service), date(2025, 3, 20))
    other = person(partner, "Mia", services=[service])
    days = fresh(service, other)
    assert starts(days, date(2025, 3, 20))[-1] == 15
    other.is_active = False
    other.save()
    staff.services.remove(service)
    assert fresh(service) == {day: [] for day in fresh(service)}


@pytest.fixture(autouse=True)
def frozen() -> Iterator[None]:
    with time_machine.travel(NOW, tick=False):
        yield


def test_the_file_cache_never_shows_a_stale_slot(
    tmp_path: Path, partner: Partner, service: Service
) -> None:
    files = {
        "default": {
            "BACKEND": "django.core.cache.backends.filebased.FileBasedCache",
            "LOCATION": str(tmp_path / "cache"),
        }
    }
    with override_settings(CACHES=files):
        never_stale(partner, service)


@pytest.mark.redis
def test_redis_never_shows_a_stale_slot(partner: Partner, service: Service) -> None:
    assert "redis" in settings.CACHES["default"]["BACKEND"].lower()
    cache.clear()
    never_stale(partner, service)


def test_every_write_that_changes_slots_moves_the_partners_version(
    partner: Partner, service: Service, other_partner: Partner
) -> None:
    def version(p: Partner) -> int:
        return Partner.objects.values_list("slots_version", flat=True).get(pk=p.pk)

    before, others = version(partner), version(other_partner)
    partner.name = "Salon Alpha Two"
    partner.save()  # a stale in-memory version never moves it back
    assert version(partner) == before + 1
    OpeningHours.objects.create(partner=partner, weekday=5, start=time(9), end=time(12))
    assert version(partner) == before + 2
    assert version(other_partner) == others


def test_deleting_a_partner_does_not_move_its_version_once_per_row(
    partner: Partner, service: Service
) -> None:
    person(partner, "Mia", services=[service])  # hours, staff, services and links cascade

    with CaptureQueriesContext(connection) as queries:
        partner.delete()

    bumps = [q for q in queries.captured_queries if "slots_version" in q["sql"]]
    assert bumps == []
    assert not Partner.objects.filter(pk=partner.pk).exists()


def test_bookings_move_the_slots_version_but_not_the_rules_version(
    partner: Partner, service: Service, book
) -> None:
    """A booking checked before a rules change checks again under the partner lock when the
    rules version moved (booking.services.booking_create): other bookings must not move it, or
    every booking of a busy partner would check twice."""

    def versions() -> tuple[int, int]:
        row = Partner.objects.values_list("slots_version", "rules_version").get(pk=partner.pk)
        return row[0], row[1]

    slots_before, rules_before = versions()
    book(service, zurich(2025, 3, 4, 10))
    slots_after, rules_after = versions()
    assert slots_after > slots_before and rules_after == rules_before
    OpeningHours.objects.create(partner=partner, weekday=5, start=time(9), end=time(12))
    assert versions()[1] > rules_after


def test_a_booking_moves_the_slots_version_once_and_a_refused_one_not_at_all(
    partner: Partner, service: Service, book
) -> None:
    """The partner lock of a new booking is the UPDATE moving the slots version; its booking's
    save does not move it a second time, a refused booking (the time taken) moves nothing, and
    the booking's cancellation, another write, moves it again."""

    def version() -> int:
        return Partner.objects.values_list("slots_version", flat=True).get(pk=partner.pk)

    before = version()
    booking, _ = book(service, zurich(2025, 3, 4, 10))
    assert version() == before + 1
    with pytest.raises(services.SlotTaken):
        book(service, zurich(2025, 3, 4, 10), customer_email="second@example.com")
    assert version() == before + 1
    services.booking_cancel(booking=booking, actor=BOOKING_CUSTOMER)
    assert version() == before + 2
