"""The slots request loads only the busy ranges that can block a start in the open hours
(selectors.busy_in_hours, filtered and counted by PostgreSQL there, in Python on SQLite): on
random bookings of two staff members and two chairs around both clock changes of Zurich, the
free starts, who gets each, and until when the answer holds are exactly those given by every
booking near the window (selectors.busy_by_owner), as before.

The partner (tests.booking.conftest) is open Mon-Fri 09:00-17:00 and, here, all Sunday (the
clock changes on Sundays at 02:00 or 03:00) and Saturday 22:00-24:00."""

from __future__ import annotations

import random
from datetime import UTC, date, datetime, time, timedelta

import pytest
from django.db import transaction
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from booking import selectors
from booking.models import Booking, CancelledBecause, DateOverride, OpeningHours, Partner, Service
from tests.booking.conftest import ZURICH
from tests.staffing import person, resource

pytestmark = pytest.mark.django_db(transaction=False)

NOW = datetime(2025, 3, 3, 6, 0, tzinfo=UTC)
# Thursday to Wednesday around each change: spring forward (30 March), fall back (26 October).
WEEKS = {"spring": date(2025, 3, 27), "autumn": date(2025, 10, 23)}

a_booking = st.fixed_dictionaries(
    {
        "gap": st.sampled_from([0, 0, 5, 15, 30, 45, 60, 90, 240, 600, 1200]),
        "minutes": st.integers(5, 240),
        "before": st.sampled_from([0, 0, 5, 15, 30]),
        "after": st.sampled_from([0, 0, 10, 30]),
        "status": st.sampled_from(["confirmed", "confirmed", "hold", "expired", "cancelled"]),
        "staff": st.integers(0, 1),
        "chair": st.integers(0, 1),
    }
)


@pytest.fixture
def world(partner: Partner, service: Service, book) -> dict:
    OpeningHours.objects.create(partner=partner, weekday=6, start=time(0), end=time(0))
    OpeningHours.objects.create(partner=partner, weekday=5, start=time(22), end=time(0))
    service.horizon_days = 400
    service.save()
    mia = person(partner, "Mia", hours={d: [(time(0), time(0))] for d in range(7)}, order=1)
    chairs = [resource(partner, "Chair A", "chair"), resource(partner, "Chair B", "chair")]
    template, _ = book(service, datetime(2025, 3, 3, 9, tzinfo=UTC), now=NOW)
    staff = [template.staff_id, mia.pk]
    return {"service": service, "template": template, "staff": staff, "chairs": chairs}


def _answers(
    service: Service, window: tuple[datetime, datetime], hours_first: bool, load: bool = True
):
    start, end = window
    hours = selectors._hours_around(service, start, end)
    team = selectors.team_calendars(
        service=service,
        window_start=start,
        window_end=end,
        now=NOW,
        hours=hours if hours_first else None,
        load=load,
    )
    found = selectors._compute(service, hours, team, start, end, NOW)
    return found, team.holds_until


@settings(
    max_examples=60,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)
@given(
    week=st.sampled_from(sorted(WEEKS)),
    offset_minutes=st.integers(-3 * 24 * 60, 24 * 60),
    bookings=st.lists(a_booking, max_size=40),
    buffers=st.tuples(st.sampled_from([0, 5, 15, 45]), st.sampled_from([0, 10, 30])),
    duration=st.sampled_from([15, 30, 60, 120]),
    with_chair=st.booleans(),
    closed_day=st.one_of(st.none(), st.integers(0, 6)),
)
def test_the_bookings_in_the_open_hours_give_the_answers_of_all_bookings(
    world: dict,
    week: str,
    offset_minutes: int,
    bookings: list[dict],
    buffers: tuple[int, int],
    duration: int,
    with_chair: bool,
    closed_day: int | None,
) -> None:
    service: Service = world["service"]
    first = WEEKS[week]
    window = (
        datetime.combine(first, time(0), ZURICH).astimezone(UTC),
        datetime.combine(first + timedelta(days=7), time(0), ZURICH).astimezone(UTC),
    )
    with transaction.atomic():
        service.buffer_before_minutes, service.buffer_after_minutes = buffers
        service.duration_minutes = duration
        service.required_resource_kind = "chair" if with_chair else ""
        service.save()
        if closed_day is not None:
            DateOverride.objects.create(
                partner=service.partner, date=first + timedelta(days=closed_day)
            )
        rows = []
        # One after another, never overlapping (as the database requires of one person or
        # chair), some back to back; from a few days before the window into it.
        cursor = window[0] + timedelta(minutes=offset_minutes)
        for spec in bookings:
            busy_start = cursor + timedelta(minutes=spec["gap"])
            start = busy_start + timedelta(minutes=spec["before"])
            end = start + timedelta(minutes=spec["minutes"])
            cursor = end + timedelta(minutes=spec["after"])
            row = Booking.objects.get(pk=world["template"].pk)
            row.pk = None
            row.start, row.end, row.busy_start, row.busy_end = start, end, busy_start, cursor
            row.staff_id = world["staff"][spec["staff"]]
            row.resource = world["chairs"][spec["chair"]] if with_chair else None
            if spec["status"] == "cancelled":
                row.status, row.cancelled_at = Booking.Status.CANCELLED, NOW
                row.cancelled_because = CancelledBecause.values[0]
            elif spec["status"] in ("hold", "expired"):
                row.status = Booking.Status.PENDING_PAYMENT
                ahead = 30 if spec["status"] == "hold" else -30
                row.hold_expires_at = NOW + timedelta(minutes=ahead + spec["minutes"])
            rows.append(row)
        Booking.objects.bulk_create(rows)

        expected = _answers(service, window, hours_first=False)
        assert _answers(service, window, hours_first=True) == expected
        # Without the day's counts (the free starts only, as the slot cache asks): the same
        # starts, and the same moment the answer stops holding.
        starts, until = _answers(service, window, hours_first=True, load=False)
        assert (list(starts), until) == (list(expected[0]), expected[1])
        transaction.set_rollback(True)


def test_bookings_outside_the_hours_are_counted_not_loaded(world: dict) -> None:
    """The load "anyone" goes by counts a booking outside the hours (a night appointment), but
    no interval of it is loaded: it cannot block a start in the hours."""
    service: Service = world["service"]
    night = datetime(2025, 3, 11, 21, tzinfo=ZURICH)  # a Tuesday; open 09:00-17:00
    day = datetime(2025, 3, 11, 10, tzinfo=ZURICH)
    rows = []
    for start in (night, day):
        row = Booking.objects.get(pk=world["template"].pk)
        row.pk = None
        row.start = row.busy_start = start
        row.end = row.busy_end = start + timedelta(hours=1)
        rows.append(row)
    Booking.objects.bulk_create(rows)
    window = (datetime(2025, 3, 10, tzinfo=ZURICH), datetime(2025, 3, 17, tzinfo=ZURICH))
    hours = selectors._hours_around(service, *window)
    team = selectors.team_calendars(
        service=service, window_start=window[0], window_end=window[1], now=NOW, hours=hours
    )

    (calendar,) = [c for c in team.staff if c.id == world["staff"][0]]
    assert [(b.start, b.end) for b in calendar.busy] == [(day, day + timedelta(hours=1))]
    assert calendar.day_load == {date(2025, 3, 11): 2}


@pytest.mark.postgres
def test_the_database_gives_instants_to_the_microsecond() -> None:
    """busy_in_hours' query turns timestamps into microseconds since the epoch through a double
    (cheaper than EXTRACT's numeric): exact for every instant until the year 2100, odd
    microseconds and leap days included."""
    from django.db import connection

    from booking.selectors import _EPOCH, _MICROSECOND, EPOCH_MICROS_SQL

    rng = random.Random(19)
    instants = [
        datetime(1970, 1, 1, tzinfo=UTC),
        datetime(2024, 2, 29, 23, 59, 59, 999999, tzinfo=UTC),
        datetime(2099, 12, 31, 23, 59, 59, 999999, tzinfo=UTC),
    ] + [_EPOCH + rng.randrange(0, 4_102_444_800_000_000) * _MICROSECOND for _ in range(5000)]
    with connection.cursor() as cursor:
        cursor.execute(
            f"SELECT {EPOCH_MICROS_SQL.format('t')} FROM unnest(%s::timestamptz[]) AS t",  # noqa: S608
            [instants],
        )
        got = [row[0] for row in cursor.fetchall()]
    assert got == [(t - _EPOCH) // _MICROSECOND for t in instants]
