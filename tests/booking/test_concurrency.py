"""No double booking under real concurrency (PostgreSQL): many threads, each with its own database
connection and transaction, book at the same moment; the exclusion constraint has the last word.
"""

from __future__ import annotations

import threading
from collections.abc import Callable
from datetime import UTC, datetime, timedelta

import pytest
from django.db import IntegrityError, connection, connections, transaction

from booking import services
from booking.models import Booking, Partner, Service
from booking.services import CustomerDetails
from tests.actors import BOOKING_CUSTOMER
from tests.booking.conftest import zurich
from tests.staffing import person, resource, team

pytestmark = [pytest.mark.postgres]

NOW = datetime(2025, 3, 3, 6, 0, tzinfo=UTC)  # Monday, 07:00 in Zurich
WEDNESDAY_9 = zurich(2025, 3, 5, 9)
THREADS = 20
# Each race is repeated on other days: a lost race is timing-dependent, and one round alone
# would let a rare failure (e.g. a deadlock between two inserts) slip through.
ROUND_DAYS = [zurich(2025, 3, day, 9) for day in (5, 6, 7, 10, 11)]


def race(calls: list[Callable[[], object]]) -> list[tuple[str, object]]:
    """Run the calls in as many threads, released together by a barrier. Each thread uses its own
    connection (Django's are per thread) and closes it at the end. Returns per call
    ("ok", result), ("taken", None) or ("error", exception)."""
    barrier = threading.Barrier(len(calls), timeout=30)
    results: list[tuple[str, object]] = [("error", "did not run")] * len(calls)

    def run(index: int, call: Callable[[], object]) -> None:
        try:
            connection.ensure_connection()  # connect before the barrier: the race is the booking
            barrier.wait()
            results[index] = ("ok", call())
        except services.SlotTaken:
            results[index] = ("taken", None)
        except Exception as exc:
            results[index] = ("error", exc)
        finally:
            connections.close_all()

    threads = [threading.Thread(target=run, args=(i, call)) for i, call in enumerate(calls)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=60)
    assert not any(thread.is_alive() for thread in threads), "a booking thread hung"
    return results


def booker(service: Service, start: datetime, n: int) -> Callable[[], object]:
    def call() -> Booking:
        booking, _ = services.booking_create(
            service=service,
            start=start,
            customer=CustomerDetails(name=f"Customer {n}", email=f"c{n}@example.com"),
            actor=BOOKING_CUSTOMER,
            now=NOW,
        )
        return booking

    return call


def overlapping_pairs(partner: Partner) -> int:
    """Blocking bookings of the partner whose busy ranges overlap, counted by the database."""
    with connection.cursor() as cursor:
        cursor.execute(
            """
            SELECT count(*) FROM booking_booking a JOIN booking_booking b
              ON a.id < b.id AND a.partner_id = b.partner_id
             AND tstzrange(a.busy_start, a.busy_end, '[)') && tstzrange(b.busy_start, b.busy_end, '[)')
            WHERE a.partner_id = %s
              AND a.status IN ('pending_payment', 'confirmed') AND b.status IN ('pending_payment', 'confirmed')
            """,
            [partner.pk],
        )
        return cursor.fetchone()[0]


@pytest.mark.slow
def test_concurrent_bookings_of_the_same_slot_yield_exactly_one(
    transactional_db, service: Service
) -> None:
    for day, start in enumerate(ROUND_DAYS, start=1):
        results = race([booker(service, start, n) for n in range(THREADS)])

        errors = [value for outcome, value in results if outcome == "error"]
        assert errors == [], f"unexpected exceptions: {errors!r}"
        assert [outcome for outcome, _ in results].count("ok") == 1
        assert [outcome for outcome, _ in results].count("taken") == THREADS - 1
        assert Booking.objects.filter(start=start).count() == 1
        assert Booking.objects.count() == day


@pytest.mark.slow
def test_concurrent_overlapping_bookings_never_overlap(transactional_db, partner: Partner) -> None:
    hour = Service.objects.create(
        partner=partner,
        name="Hour",
        slug="hour",
        duration_minutes=60,
        slot_interval_minutes=15,
        horizon_days=30,
    )
    buffered = Service.objects.create(
        partner=partner,
        name="Buffered",
        slug="buffered",
        duration_minutes=30,
        slot_interval_minutes=15,
        buffer_before_minutes=15,
        buffer_after_minutes=15,
        horizon_days=30,
    )
    team(partner)
    created: list[int] = []
    for first in ROUND_DAYS:
        # Starts 09:00, 09:15, ... 13:45, alternating the two services: every start overlaps its
        # neighbours, so many different interleavings are possible.
        calls = [
            booker(hour if n % 2 == 0 else buffered, first + timedelta(minutes=15 * n), n)
            for n in range(THREADS)
        ]
        results = race(calls)

        errors = [value for outcome, value in results if outcome == "error"]
        assert errors == [], f"unexpected exceptions: {errors!r}"
        won = [value.pk for outcome, value in results if outcome == "ok"]  # type: ignore[attr-defined]
        assert won, "someone must get a slot"
        created += won
        assert sorted(created) == sorted(Booking.objects.values_list("pk", flat=True))
        assert overlapping_pairs(partner) == 0


def _row(
    service: Service, start: datetime, status: str = Booking.Status.CONFIRMED, n: int = 0
) -> Booking:
    end = start + timedelta(minutes=service.duration_minutes)
    return Booking(
        partner=service.partner,
        service=service,
        staff=service.staff.get(),
        start=start,
        end=end,
        busy_start=start - timedelta(minutes=service.buffer_before_minutes),
        busy_end=end + timedelta(minutes=service.buffer_after_minutes),
        customer_name="Direct",
        customer_email="d@example.com",
        status=status,
        cancelled_at=NOW if status == Booking.Status.CANCELLED else None,
        cancelled_because=Booking.CancelledBecause.CUSTOMER
        if status == Booking.Status.CANCELLED
        else "",
        hold_expires_at=NOW + timedelta(minutes=15)
        if status == Booking.Status.PENDING_PAYMENT
        else None,
        manage_token_hash=f"{n:064x}",
    )


def test_the_database_refuses_an_overlapping_booking_written_past_the_services(
    db, service: Service
) -> None:
    _row(service, WEDNESDAY_9, n=1).save()
    for status in (Booking.Status.CONFIRMED, Booking.Status.PENDING_PAYMENT):
        with pytest.raises(IntegrityError, match="booking_staff_no_overlap"), transaction.atomic():
            _row(service, WEDNESDAY_9 + timedelta(minutes=30), status=status, n=2).save()
    assert Booking.objects.count() == 1


def test_the_database_counts_buffers_but_allows_back_to_back(
    db, service: Service, partner: Partner
) -> None:
    buffered = Service.objects.create(
        partner=partner,
        name="Buffered",
        slug="buffered",
        duration_minutes=30,
        buffer_after_minutes=15,
    )
    team(partner)
    _row(buffered, WEDNESDAY_9, n=1).save()  # busy 09:00-09:45
    with pytest.raises(IntegrityError), transaction.atomic():
        _row(service, WEDNESDAY_9 + timedelta(minutes=30), n=2).save()
    _row(service, WEDNESDAY_9 + timedelta(minutes=45), n=3).save()  # '[)': touching is fine
    assert Booking.objects.count() == 2


def test_a_cancelled_booking_does_not_block_in_the_database(db, service: Service) -> None:
    _row(service, WEDNESDAY_9, status=Booking.Status.CANCELLED, n=1).save()
    _row(service, WEDNESDAY_9, n=2).save()
    _row(service, WEDNESDAY_9, status=Booking.Status.CANCELLED, n=3).save()
    assert Booking.objects.filter(status=Booking.Status.CONFIRMED).count() == 1
    assert Booking.objects.count() == 3


def test_another_partner_is_not_blocked_in_the_database(
    db, service: Service, other_partner: Partner
) -> None:
    _row(service, WEDNESDAY_9, n=1).save()
    _row(other_partner.services.get(), WEDNESDAY_9, n=2).save()
    assert Booking.objects.count() == 2


# --- several staff members and resources ------------------------------------------------------


def _cut(partner: Partner, kind: str = "") -> Service:
    return Service.objects.create(
        partner=partner,
        name=f"Cut {kind}",
        slug=f"cut{kind}",
        duration_minutes=60,
        horizon_days=30,
        required_resource_kind=kind,
    )


@pytest.mark.slow
def test_twenty_clients_booking_anyone_at_three_free_people_get_three_bookings(
    transactional_db, partner: Partner
) -> None:
    cut = _cut(partner)
    people = {person(partner, name, services=[cut]).pk for name in ("Anna", "Ben", "Cara")}
    for start in ROUND_DAYS[:3]:
        results = race([booker(cut, start, n) for n in range(THREADS)])

        errors = [value for outcome, value in results if outcome == "error"]
        assert errors == [], f"unexpected exceptions: {errors!r}"
        outcomes = [outcome for outcome, _ in results]
        assert (outcomes.count("ok"), outcomes.count("taken")) == (3, THREADS - 3)
        booked = Booking.objects.filter(start=start)
        assert set(booked.values_list("staff_id", flat=True)) == people
        assert booked.count() == 3


@pytest.mark.slow
def test_two_clients_racing_for_the_last_basin(transactional_db, partner: Partner) -> None:
    colour = _cut(partner, "wash-basin")
    for name in ("Anna", "Ben", "Cara"):
        person(partner, name, services=[colour])
    first, last = (
        resource(partner, "Basin 1", "wash-basin"),
        resource(partner, "Basin 2", "wash-basin"),
    )
    for n, start in enumerate(ROUND_DAYS):
        taken = booker(colour, start, 100 + n)()  # the first basin goes to an earlier customer
        assert taken.resource_id == first.pk
        results = race([booker(colour, start, 2 * n), booker(colour, start, 2 * n + 1)])

        errors = [value for outcome, value in results if outcome == "error"]
        assert errors == [], f"unexpected exceptions: {errors!r}"
        assert sorted(outcome for outcome, _ in results) == ["ok", "taken"]
        booked = Booking.objects.filter(start=start)
        assert sorted(booked.values_list("resource_id", flat=True)) == [first.pk, last.pk]
        assert len(set(booked.values_list("staff_id", flat=True))) == 2
