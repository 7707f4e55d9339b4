"""The offered-and-free check a booking write makes under the partner lock reads the bookings
overlapping the new slot, one aggregate per staff member for the rest of the day (where the
free time before the slot began, and the day's load that decides "anyone"), never the days
around it; and it answers exactly what the slots of the whole day say.

Time is frozen at Monday 3 March 2025, 07:00 in Zurich. The partner is open Mon-Fri
09:00-17:00 Europe/Zurich.
"""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
import time_machine
from django.db import connection

from booking import selectors
from booking.models import Booking, Partner, Service
from tests.booking.conftest import zurich
from tests.staffing import person, team

pytestmark = pytest.mark.django_db

NOW = datetime(2025, 3, 3, 6, 0, tzinfo=UTC)


@pytest.fixture(autouse=True)
def frozen() -> Iterator[None]:
    with time_machine.travel(NOW, tick=False):
        yield


class RowsRead:
    """Counts the rows the SELECTs on the bookings table return (each one counted by the
    database itself, before it runs)."""

    def __init__(self) -> None:
        self.rows = 0
        self._inside = False

    def __call__(self, execute: Any, sql: str, params: Any, many: bool, context: Any) -> Any:
        if not self._inside and sql.lstrip().upper().startswith("SELECT"):
            if '"booking_booking"' in sql:
                self._inside = True
                try:
                    with connection.cursor() as cursor:
                        cursor.execute(f"SELECT COUNT(*) FROM ({sql}) AS q", params)  # noqa: S608
                        self.rows += cursor.fetchone()[0]
                finally:
                    self._inside = False
        return execute(sql, params, many, context)


def _partner_lock(sql: list[str]) -> int:
    """Where a new booking takes the partner lock: the UPDATE moving its slots version."""
    (lock,) = [
        n for n, q in enumerate(sql) if q.startswith('UPDATE "booking_partner" SET "slots_version"')
    ]
    return lock


@pytest.fixture
def clinic(partner: Partner, book) -> tuple[Service, Service]:
    """A 45-minute service on a 45-minute grid with buffers, a 20-minute one, two people; the
    20-minute bookings end off the 45-minute grid, so they move where its free time starts."""
    long = Service.objects.create(
        partner=partner,
        name="Long",
        slug="long",
        duration_minutes=45,
        buffer_before_minutes=5,
        buffer_after_minutes=10,
        min_notice_minutes=0,
        horizon_days=30,
    )
    short = Service.objects.create(
        partner=partner,
        name="Short",
        slug="short",
        duration_minutes=20,
        min_notice_minutes=0,
        horizon_days=30,
    )
    first = team(partner)
    second = person(partner, "Mia", order=1)
    for staff in (first, second):
        for day in (11, 13):  # the days around the one asked about
            for hour in (9, 10, 11, 13, 14, 15):
                book(short, zurich(2025, 3, day, hour), staff=staff)
    book(short, zurich(2025, 3, 12, 9), staff=first)
    book(short, zurich(2025, 3, 12, 9, 20), staff=second)
    book(short, zurich(2025, 3, 12, 12), staff=second)
    return long, short


def test_the_check_reads_the_slots_bookings_and_one_row_per_person_not_the_days_around(
    clinic: tuple[Service, Service],
) -> None:
    long, _short = clinic
    counter = RowsRead()

    with connection.execute_wrapper(counter):
        status, assignment = selectors.service_slot_assignment(
            service=long, start=zurich(2025, 3, 12, 14), now=NOW
        )

    assert status is selectors.SlotStatus.OFFERED and assignment is not None
    # Two people: at most their two aggregate rows and the bookings touching 14:00-14:55 (none);
    # the 24 bookings of the 11th and 13th and those of the 12th before noon are not read.
    assert counter.rows <= 2, counter.rows


@pytest.mark.parametrize("overnight", [False, True])
def test_the_check_answers_what_the_days_slots_say(
    clinic: tuple[Service, Service], book, overnight: bool
) -> None:
    long, short = clinic
    date = 12
    if overnight:  # a booking of the day before whose buffer reaches into the day's hours
        late = Service.objects.create(
            partner=long.partner,
            name="Late",
            slug="late",
            duration_minutes=60,
            buffer_after_minutes=20 * 60,
            min_notice_minutes=0,
            horizon_days=30,
        )
        team(long.partner)
        book(late, zurich(2025, 3, 13, 16), staff=team(long.partner))  # busy until 12:00
        date = 14
    for service in (long, short):
        day = selectors.service_slot_assignments(
            service=service,
            window_start=zurich(2025, 3, date, 0),
            window_end=zurich(2025, 3, date + 1, 0),
            now=NOW,
        )
        assert not overnight or min(day) >= zurich(2025, 3, date, 9)
        start = zurich(2025, 3, date, 9)
        while start < zurich(2025, 3, date, 17):
            status, assignment = selectors.service_slot_assignment(
                service=service, start=start, now=NOW
            )
            if start in day:
                assert status is selectors.SlotStatus.OFFERED, start
                assert assignment == day[start], start
            else:
                assert status is not selectors.SlotStatus.OFFERED, start
                assert assignment is None
            start += timedelta(minutes=5)


def test_under_the_lock_a_booking_reads_bookings_not_hours_people_or_absences(
    clinic: tuple[Service, Service], book
) -> None:
    from django.test.utils import CaptureQueriesContext

    long, _short = clinic
    with CaptureQueriesContext(connection) as queries:
        booking, _ = book(long, zurich(2025, 3, 12, 14))

    sql = [q["sql"] for q in queries.captured_queries]
    lock = _partner_lock(sql)
    under_lock = "\n".join(sql[lock:])
    for table in (
        "booking_openinghours",
        "booking_dateoverride",
        "booking_servicestaff",
        "booking_staffhours",
        "booking_staffabsence",
    ):
        assert f'"{table}"' not in under_lock, table
    assert f'"{table}"' in "\n".join(sql[:lock])  # read before it instead
    assert booking.staff is not None


@pytest.mark.postgres
def test_on_100k_bookings_the_check_reads_one_index_range_from_the_last_booking_before(
    partner: Partner, service: Service
) -> None:
    from django.test.utils import CaptureQueriesContext

    from tests.booking.test_slot_path import _fill

    staff = team(partner)
    _fill(staff, service, 100_000)  # one an hour from 2024 on
    start = datetime(2025, 3, 12, 13, tzinfo=UTC)

    with CaptureQueriesContext(connection) as queries:
        busy = selectors.BusyAtStart.prepare(
            "staff_id",
            [staff.pk],
            service,
            start,
            timedelta(hours=1),
            exclude_booking_id=None,
            now=NOW,
        ).read()
    (sql,) = [q["sql"] for q in queries.captured_queries if "COUNT(" in q["sql"]]
    with connection.cursor() as cursor:
        cursor.execute(f"EXPLAIN (ANALYZE, COSTS OFF) {sql}")
        plan = "\n".join(row[0] for row in cursor.fetchall())

    assert "Seq Scan" not in plan, plan
    assert "booking_staff_blocking_busy" in plan, plan
    # The day (24 bookings) and the one before midnight, not the three days before it.
    (scan,) = [line for line in plan.splitlines() if "Index Scan using booking_staff_b" in line]
    assert "rows=" in scan and int(scan.split("rows=")[1].split()[0]) <= 26, plan
    assert busy.day_load == {staff.pk: {start.astimezone(partner.zone).date(): 24}}


@pytest.mark.postgres
def test_under_the_lock_a_booking_builds_no_query_and_reads_no_holds(
    clinic: tuple[Service, Service], book, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Every other booking of the partner waits while one holds the lock, so what needs no lock
    happens before it: the check's query on the bookings is built and compiled before (building
    it costs about three times running it), and with no hold run out, nothing about holds is
    read under it. (On SQLite the write lock serialises everything and the insert's overlap
    check is built under it: PostgreSQL only.)"""
    from django.db.models.sql.compiler import SQLCompiler
    from django.test.utils import CaptureQueriesContext

    long, _short = clinic
    built: list[int] = []  # how many statements had run when a SELECT on the bookings was built
    original = SQLCompiler.as_sql

    def as_sql(self: SQLCompiler, *args: Any, **kwargs: Any) -> Any:
        sql, params = original(self, *args, **kwargs)
        model = self.query.model
        if model is Booking and sql.startswith("SELECT"):
            built.append(len(queries.captured_queries))
        return sql, params

    monkeypatch.setattr(SQLCompiler, "as_sql", as_sql)
    with CaptureQueriesContext(connection) as queries:
        booking, _ = book(long, zurich(2025, 3, 12, 14), customer_email="new@example.com")

    sql = [q["sql"] for q in queries.captured_queries]
    lock = _partner_lock(sql)
    assert built and max(built) <= lock, (built, lock)
    on_bookings = [q for q in sql[lock:] if q.startswith("SELECT") and '"booking_booking"' in q]
    assert len(on_bookings) == 1 and "COUNT(" in on_bookings[0], on_bookings  # the check alone
    assert booking.customer is not None and booking.customer.email == "new@example.com"
