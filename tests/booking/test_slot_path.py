"""The slot path stays cheap as a partner grows: busy intervals come from an index over the
bookings that overlap the window (no sort, no rows outside it), one slots request has a bounded
amount of work, and a booking write costs a bounded number of SQL statements.

Time is frozen at Monday 3 March 2025, 07:00 in Zurich. The fixture partner is open Mon-Fri
09:00-17:00 Europe/Zurich with a 60-minute "Haircut" (60 minutes' notice, 30 days ahead).
"""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, datetime, timedelta

import pytest
import time_machine
from django.db import connection
from django.test import Client
from django.test.utils import CaptureQueriesContext

from booking import selectors
from booking.api import forms as api_forms
from booking.api.openapi import OPENAPI
from booking.models import Booking, Partner, Service, StaffMember
from tests.booking.conftest import zurich
from tests.staffing import person

pytestmark = pytest.mark.django_db

NOW = datetime(2025, 3, 3, 6, 0, tzinfo=UTC)


@pytest.fixture(autouse=True)
def frozen() -> Iterator[None]:
    with time_machine.travel(NOW, tick=False):
        yield


# --- busy intervals ---------------------------------------------------------------------------


def test_busy_rows_of_a_window_are_the_blocking_bookings_overlapping_it(
    service: Service, book
) -> None:
    inside, _ = book(service, zurich(2025, 3, 12, 10))
    far, _ = book(service, zurich(2025, 3, 28, 10))
    staff_id = inside.staff_id
    window = (zurich(2025, 3, 10, 0), zurich(2025, 3, 15, 0))

    busy = selectors.busy_by_owner(
        "staff_id", [staff_id], *window, exclude_booking_id=None, now=NOW
    )

    assert [(b.start, b.end) for b in busy.by_owner[staff_id]] == [(inside.start, inside.busy_end)]
    assert far.start not in {b.start for b in busy.by_owner[staff_id]}


def test_busy_rows_keep_each_bookings_own_buffers(partner: Partner, service: Service, book) -> None:
    service.buffer_before_minutes = 15
    service.buffer_after_minutes = 30
    service.save()
    booking, _ = book(service, zurich(2025, 3, 12, 10))

    busy = selectors.busy_by_owner(
        "staff_id",
        [booking.staff_id],
        zurich(2025, 3, 12, 0),
        zurich(2025, 3, 13, 0),
        exclude_booking_id=None,
        now=NOW,
    ).by_owner[booking.staff_id]

    # The engine widens [start - before, end + after] by the asking service's buffers.
    (interval,) = busy
    assert interval.start - interval.buffer_before == booking.busy_start
    assert interval.end + interval.buffer_after == booking.busy_end
    assert interval.start == booking.start  # the day the booking counts on for "anyone"


def test_an_expired_hold_and_the_booking_being_moved_are_not_busy(service: Service, book) -> None:
    hold, _ = book(
        service, zurich(2025, 3, 12, 10), status=Booking.Status.PENDING_PAYMENT, hold_minutes=30
    )
    moved, _ = book(service, zurich(2025, 3, 12, 14))
    window = (zurich(2025, 3, 12, 0), zurich(2025, 3, 13, 0))

    later = NOW + timedelta(minutes=31)
    busy = selectors.busy_by_owner(
        "staff_id", [hold.staff_id], *window, exclude_booking_id=moved.pk, now=later
    )

    assert busy.by_owner[hold.staff_id] == []
    before = selectors.busy_by_owner(
        "staff_id", [hold.staff_id], *window, exclude_booking_id=moved.pk, now=NOW
    )
    assert [b.start for b in before.by_owner[hold.staff_id]] == [hold.start]
    assert before.holds_until == hold.hold_expires_at  # a cached answer is good until then


def _fill(staff: StaffMember, service: Service, count: int) -> None:
    """`count` confirmed one-hour bookings of `staff`, one an hour from 2024 on, written by the
    database itself (a copy of one real booking), then analysed like a live table."""
    template, _ = selectors_book(service, staff)
    hour = "TIMESTAMPTZ '2024-01-01 00:00Z' + g * INTERVAL '1 hour'"
    shifted = {
        "start": hour,
        "busy_start": hour,
        "end": f"{hour} + INTERVAL '1 hour'",
        "busy_end": f"{hour} + INTERVAL '1 hour'",
    }
    columns = [f.column for f in Booking._meta.concrete_fields if f.column != "id"]
    values = [shifted.get(c, f'"{c}"') for c in columns]
    names = ", ".join(f'"{c}"' for c in columns)
    insert = (
        f"INSERT INTO booking_booking ({names}) "  # noqa: S608 (the model's own column names)
        f"SELECT {', '.join(values)} FROM booking_booking, generate_series(1, %s) AS g "
        "WHERE id = %s"
    )
    with connection.cursor() as cursor:
        cursor.execute(insert, [count, template.pk])
        cursor.execute("ANALYZE booking_booking")


def selectors_book(service: Service, staff: StaffMember) -> tuple[Booking, str]:
    from booking import services
    from tests.actors import BOOKING_CUSTOMER, customer_details

    customer, _rest = customer_details()
    return services.booking_create(
        service=service,
        start=datetime(2023, 6, 5, 8, tzinfo=UTC),
        customer=customer,
        actor=BOOKING_CUSTOMER,
        now=datetime(2023, 6, 1, tzinfo=UTC),
        staff=staff,
    )


@pytest.mark.postgres
def test_the_busy_query_of_a_month_reads_the_busy_index_without_sorting(
    partner: Partner, service: Service
) -> None:
    staff = person(partner, "Mia", hours={d: [] for d in range(7)} | {0: []})
    staff.hours.all().delete()
    staff.works_opening_hours = True
    staff.save()
    _fill(staff, service, 100_000)

    rows = selectors.blocking_rows(
        "staff_id",
        [staff.pk, staff.pk + 1],
        zurich(2025, 3, 1, 0),
        zurich(2025, 4, 1, 0),
        exclude_booking_id=None,
        now=NOW,
    )
    plan = rows.explain()

    assert "booking_staff_blocking_busy" in plan, plan
    (condition,) = [line for line in plan.splitlines() if "Index Cond:" in line]
    assert "staff_id = ANY" in condition and "busy_start >=" in condition, plan
    assert "Sort" not in plan, plan
    assert "Seq Scan" not in plan, plan
    # Only the month (and the two days of margin) is read: 35 days of hourly bookings.
    assert 31 * 24 <= rows.count() <= 35 * 24


# --- the work of one slots request ----------------------------------------------------------


def slots_url(partner: str = "salon-alpha", service: str = "haircut") -> str:
    return f"/api/v1/partners/{partner}/services/{service}/slots"


def test_a_month_with_a_small_team_is_answered(client: Client, service: Service) -> None:
    response = client.get(slots_url(), {"start": "2025-03-03", "end": "2025-04-02"})

    assert response.status_code == 200
    assert len(response.json()["days"]) == 31


def test_too_much_work_for_one_request_is_a_clear_400_naming_the_limit(
    client: Client, partner: Partner, service: Service
) -> None:
    team_size = api_forms.MAX_STAFF_DAYS // 31 + 1
    for n in range(team_size):
        person(partner, f"Person {n}")

    response = client.get(slots_url(), {"start": "2025-03-03", "end": "2025-04-02"})

    assert response.status_code == 400
    assert response["Content-Type"].startswith("application/json")
    body = response.json()
    assert body["error"] == "invalid"
    (message,) = body["fields"]["end"]
    assert str(api_forms.MAX_STAFF_DAYS) in message
    # Fewer days, or one person, is within the limit.
    assert client.get(slots_url(), {"start": "2025-03-03", "end": "2025-03-09"}).status_code == 200
    one = StaffMember.objects.filter(partner=partner, name="Person 0").get()
    assert (
        client.get(
            slots_url(), {"start": "2025-03-03", "end": "2025-04-02", "staff": str(one.pk)}
        ).status_code
        == 200
    )


def test_the_openapi_description_states_the_work_limit() -> None:
    operation = OPENAPI["paths"]["/partners/{slug}/services/{service}/slots"]["get"]

    assert str(api_forms.MAX_STAFF_DAYS) in operation["description"]
    assert str(api_forms.MAX_STAFF_DAYS) in operation["responses"]["400"]["description"]


# --- one booking write ------------------------------------------------------------------------


def test_a_booking_costs_a_bounded_number_of_statements(service: Service, book) -> None:
    book(service, zurich(2025, 3, 4, 9))  # the customer record exists, as for a returning one

    with CaptureQueriesContext(connection) as queries:
        book(service, zurich(2025, 3, 5, 9))

    # 39 on SQLite and 40 on PostgreSQL while full_clean repeated the database's checks (now one
    # of them moves the partner's slot cache version); one more reads the partner's closures
    # with its hours. One more (24) reads the partner's rules_version before the hours, so a
    # closure or hours change committed before the partner lock makes the check run again.
    # One less (23): the partner lock is taken by the UPDATE that moves its slots version.
    assert len(queries.captured_queries) <= 23, "\n".join(
        q["sql"] for q in queries.captured_queries
    )


def test_a_first_booking_costs_only_the_customer_record_more(service: Service, book) -> None:
    # The new customer's record is one INSERT under the partner lock; the constraints it must
    # meet are checked by the database (and its one-per-email rule by the lookup just before),
    # not by more SELECTs while every other booking of the partner waits.
    with CaptureQueriesContext(connection) as queries:
        book(service, zurich(2025, 3, 5, 9))

    assert len(queries.captured_queries) <= 24, "\n".join(
        q["sql"] for q in queries.captured_queries
    )


def test_a_write_the_database_refuses_gets_the_constraints_clear_message(
    service: Service, book
) -> None:
    from django.core.exceptions import ValidationError

    from booking import services

    booking, _ = book(service, zurich(2025, 3, 5, 9))
    booking.busy_end = booking.busy_start + timedelta(days=4)  # longer than any service allows

    with pytest.raises(ValidationError) as refused:
        services._save_blocking(booking, update_fields=["busy_end"])

    assert refused.value.messages == ["A booking's busy time is at most three days."]
    booking.refresh_from_db()
    assert booking.busy_end - booking.busy_start == timedelta(hours=1)
