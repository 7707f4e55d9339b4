"""The slot engine for several staff members and resources, without Django: exact lists worked
out by hand. Partner and staff hours meet, absences and bookings block, and "anyone" is assigned
by a documented rule."""

from __future__ import annotations

from datetime import UTC, date, datetime, time, timedelta
from zoneinfo import ZoneInfo

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from booking.slots import (
    Assignment,
    BusyInterval,
    OpenRange,
    ResourceCalendar,
    ServiceRules,
    StaffCalendar,
    compute_slots,
    compute_team_slots,
)
from tests.booking.test_slots import scenarios

ZURICH = ZoneInfo("Europe/Zurich")
MONDAY = date(2025, 3, 31)  # CEST, UTC+2
BEFORE = datetime(2025, 3, 28, 12, tzinfo=UTC)  # the Friday before


def local(d: date, h: int, m: int = 0) -> datetime:
    return datetime.combine(d, time(h, m), tzinfo=ZURICH)


def rng(h1: int, h2: int, m1: int = 0, m2: int = 0) -> OpenRange:
    return OpenRange(time(h1, m1), time(h2 % 24, m2))


def booked(start: datetime, minutes: int = 60) -> BusyInterval:
    return BusyInterval(start, start + timedelta(minutes=minutes), timedelta(0), timedelta(0))


def person(
    id: int,
    weekly: dict[int, list[OpenRange]],
    *,
    order: int = 0,
    busy: list[BusyInterval] | None = None,
    absences: list[tuple[datetime, datetime]] | None = None,
    minutes: int | None = None,
) -> StaffCalendar:
    return StaffCalendar(
        id=id,
        order=order,
        weekly_hours=weekly,
        busy=busy or [],
        absences=absences or [],
        duration=timedelta(minutes=minutes) if minutes else None,
    )


def team_slots(
    staff: list[StaffCalendar],
    *,
    partner: dict[int, list[OpenRange]] | None = None,
    overrides: dict[date, list[OpenRange]] | None = None,
    resources: list[ResourceCalendar] | None = None,
    first: date = MONDAY,
    last: date = MONDAY,
    duration: int = 60,
    now: datetime = BEFORE,
) -> dict[datetime, Assignment]:
    return compute_team_slots(
        zone=ZURICH,
        weekly_hours=partner if partner is not None else {d: [rng(9, 17)] for d in range(7)},
        overrides=overrides or {},
        staff=staff,
        resources=resources,
        service=ServiceRules(timedelta(minutes=duration)),
        window_start=local(first, 0),
        window_end=local(last + timedelta(days=1), 0),
        now=now,
    )


def local_hours(found: dict[datetime, Assignment]) -> list[str]:
    return [s.astimezone(ZURICH).strftime("%a %H:%M") for s in found]


def test_several_staff_with_different_hours_meet_the_partner_hours() -> None:
    anna = person(1, {0: [rng(9, 12)]}, order=1)
    ben = person(2, {0: [rng(13, 18)]}, order=2, busy=[booked(local(MONDAY, 14))])
    cara = person(3, {0: [rng(11, 14)]}, absences=[(local(MONDAY, 12), local(MONDAY, 13, 30))])
    found = team_slots([anna, ben, cara], partner={0: [rng(9, 17)]})
    # Anna 09-12; Ben 13-17 (the partner closes at 17) but booked 14-15; Cara 11-12 only (away
    # 12:00-13:30, and 13:30-14:00 is too short).
    assert local_hours(found) == [
        "Mon 09:00",
        "Mon 10:00",
        "Mon 11:00",
        "Mon 13:00",
        "Mon 15:00",
        "Mon 16:00",
    ]
    assert [a.staff_id for a in found.values()] == [1, 1, 3, 2, 2, 2]
    assert all(a.resource_id is None for a in found.values())
    assert list(found) == sorted(found)


def test_a_chosen_person_gets_only_their_own_times() -> None:
    ben = person(2, {0: [rng(13, 18)]}, busy=[booked(local(MONDAY, 14))])
    assert local_hours(team_slots([ben], partner={0: [rng(9, 17)]})) == [
        "Mon 13:00",
        "Mon 15:00",
        "Mon 16:00",
    ]


def test_a_date_override_of_the_partner_bounds_everyone() -> None:
    anna = person(1, {0: [rng(9, 17)]})
    found = team_slots([anna], overrides={MONDAY: [rng(10, 12)]})
    assert local_hours(found) == ["Mon 10:00", "Mon 11:00"]
    assert team_slots([anna], overrides={MONDAY: []}) == {}


def test_a_person_working_until_midnight_meets_a_partner_open_until_midnight() -> None:
    late = person(1, {0: [rng(20, 0)]})
    found = team_slots([late], partner={0: [rng(18, 0)]})
    assert local_hours(found) == ["Mon 20:00", "Mon 21:00", "Mon 22:00", "Mon 23:00"]


def test_own_duration_of_a_person() -> None:
    quick = person(1, {0: [rng(15, 17)]}, minutes=30, order=2)
    slow = person(2, {0: [rng(15, 17)]}, minutes=90, order=1)
    found = team_slots([quick, slow], duration=60)
    # 60-minute grid; Slow (first in order) fits only at 15:00, Quick at both.
    assert local_hours(found) == ["Mon 15:00", "Mon 16:00"]
    assert [a.staff_id for a in found.values()] == [2, 1]
    assert [a.end - a.start for a in found.values()] == [
        timedelta(minutes=90),
        timedelta(minutes=30),
    ]


# --- "anyone": who gets the booking ------------------------------------------------------------


def test_anyone_goes_to_the_fewest_bookings_that_day_then_display_order_then_id() -> None:
    nine = local(MONDAY, 9)
    anna = person(10, {0: [rng(9, 17)]}, order=2)
    ben = person(20, {0: [rng(9, 17)]}, order=1, busy=[booked(nine)])
    cara = person(30, {0: [rng(9, 17)]}, order=1)
    dora = person(5, {0: [rng(9, 17)]}, order=3, busy=[booked(nine), booked(local(MONDAY, 16))])
    found = team_slots([anna, ben, cara, dora])
    # 10:00: Anna and Cara have no booking that day; Cara comes first in display order.
    assert found[local(MONDAY, 10)].staff_id == 30
    # 09:00: Ben and Dora are busy; Anna and Cara, as above.
    assert found[local(MONDAY, 9)].staff_id == 30
    # Same count and order: the smaller id.
    twin = person(25, {0: [rng(9, 17)]}, order=1)
    assert team_slots([cara, twin])[local(MONDAY, 10)].staff_id == 25
    # Bookings of another day do not count.
    tuesday = [booked(local(MONDAY, 9) + timedelta(days=1))]
    busy_tuesday = person(1, {0: [rng(9, 17)]}, order=0, busy=tuesday)
    assert team_slots([anna, busy_tuesday])[local(MONDAY, 10)].staff_id == 1


# --- resources ---------------------------------------------------------------------------------


def basin(id: int, *busy: BusyInterval, absences: list | None = None) -> ResourceCalendar:
    return ResourceCalendar(id=id, busy=list(busy), absences=absences or [])


def test_two_stylists_free_and_one_basin_make_one_booking_at_a_time() -> None:
    anna = person(1, {0: [rng(9, 12)]}, busy=[booked(local(MONDAY, 10))])
    ben = person(2, {0: [rng(9, 12)]}, order=1)
    only_basin = basin(7, booked(local(MONDAY, 10)))  # Anna's 10:00 client uses it
    found = team_slots([anna, ben], resources=[only_basin])
    # At 10:00 Ben is free but the basin is not; at 09:00 and 11:00 both are free and Ben (no
    # booking that day) gets the customer.
    assert local_hours(found) == ["Mon 09:00", "Mon 11:00"]
    assert [(a.staff_id, a.resource_id) for a in found.values()] == [(2, 7), (2, 7)]


def test_any_free_resource_of_the_kind_will_do_and_maintenance_blocks() -> None:
    anna = person(1, {0: [rng(9, 12)]})
    first = basin(7, booked(local(MONDAY, 9)))
    second = basin(8, absences=[(local(MONDAY, 10, 30), local(MONDAY, 12))])
    found = team_slots([anna], resources=[first, second])
    assert [
        (h, a.resource_id) for h, a in zip(local_hours(found), found.values(), strict=True)
    ] == [
        ("Mon 09:00", 8),
        ("Mon 10:00", 7),
        ("Mon 11:00", 7),
    ]


def test_a_service_needing_a_resource_without_any_has_no_slots() -> None:
    anna = person(1, {0: [rng(9, 12)]})
    assert team_slots([anna], resources=[]) == {}
    assert team_slots([]) == {}


# --- absences across the clock changes (Europe/Zurich) -----------------------------------------


def test_an_absence_across_the_spring_change() -> None:
    # Saturday 29 March 2025 12:00 CET to Monday 31 March 12:00 CEST: clocks jump on Sunday.
    saturday = date(2025, 3, 29)
    away = (local(saturday, 12), local(MONDAY, 12))
    anna = person(1, {d: [rng(9, 17)] for d in range(7)}, absences=[away])
    ben = person(2, {6: [rng(10, 12)]}, order=1)
    found = team_slots(
        [anna, ben], first=saturday, last=MONDAY, now=datetime(2025, 3, 20, tzinfo=UTC)
    )
    assert local_hours(found) == [
        "Sat 09:00",
        "Sat 10:00",
        "Sat 11:00",
        "Sun 10:00",
        "Sun 11:00",
        "Mon 12:00",
        "Mon 13:00",
        "Mon 14:00",
        "Mon 15:00",
        "Mon 16:00",
    ]
    utc_hours = [s.astimezone(UTC).hour for s in found]
    assert utc_hours == [8, 9, 10, 8, 9, 10, 11, 12, 13, 14]
    assert [a.staff_id for a in found.values()] == [1, 1, 1, 2, 2, 1, 1, 1, 1, 1]


def test_an_absence_across_the_autumn_change() -> None:
    # Saturday 25 October 2025 15:00 CEST to Sunday 26 October 11:00 CET (clocks fall back at 03:00).
    saturday, sunday = date(2025, 10, 25), date(2025, 10, 26)
    anna = person(
        1, {d: [rng(9, 17)] for d in range(7)}, absences=[(local(saturday, 15), local(sunday, 11))]
    )
    found = team_slots([anna], first=saturday, last=sunday, now=datetime(2025, 10, 20, tzinfo=UTC))
    assert local_hours(found) == [
        "Sat 09:00",
        "Sat 10:00",
        "Sat 11:00",
        "Sat 12:00",
        "Sat 13:00",
        "Sat 14:00",
        "Sun 11:00",
        "Sun 12:00",
        "Sun 13:00",
        "Sun 14:00",
        "Sun 15:00",
        "Sun 16:00",
    ]
    assert min(s for s in found if s.astimezone(ZURICH).date() == sunday) == datetime(
        2025, 10, 26, 10, tzinfo=UTC
    )


def test_staff_rows_are_validated_like_the_partner_hours() -> None:
    bad = person(1, {0: [OpenRange(time(12), time(9))]})
    with pytest.raises(ValueError, match="end after it starts"):
        team_slots([bad])
    wall = datetime(2025, 3, 31, 9)  # noqa: DTZ001 - naive on purpose
    naive = person(1, {0: [rng(9, 17)]}, absences=[(wall, local(MONDAY, 10))])
    with pytest.raises(ValueError, match="timezone-aware"):
        team_slots([naive])


def test_the_team_works_whenever_the_partner_is_open_special_openings_included() -> None:
    team = StaffCalendar(id=1, weekly_hours=None)
    found = team_slots([team], overrides={MONDAY: [rng(0, 2), rng(20, 0)]})
    assert local_hours(found) == [
        "Mon 00:00",
        "Mon 01:00",
        "Mon 20:00",
        "Mon 21:00",
        "Mon 22:00",
        "Mon 23:00",
    ]


# --- properties: the team engine agrees with the one-calendar engine ---------------------------


@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(scenarios(), st.integers(0, 3))
def test_one_person_working_the_opening_hours_is_the_old_engine(
    case: dict[str, object], people: int
) -> None:
    """A one-person business (the team: the partner's hours) gets exactly the slots it got
    before staff existed; and "anyone" among copies of that person is the same list, each start
    going to the first of them by the rule (no bookings of their own: display order, then id)."""
    before = compute_slots(**case)  # type: ignore[arg-type]
    team = StaffCalendar(id=7, weekly_hours=None, busy=case["busy"])  # type: ignore[arg-type]
    rest = {k: v for k, v in case.items() if k != "busy"}
    found = compute_team_slots(staff=[team], resources=None, **rest)  # type: ignore[arg-type]
    assert list(found) == before
    assert {a.staff_id for a in found.values()} <= {7}
    clones = [StaffCalendar(id=10 + n, weekly_hours=None, order=5 - n) for n in range(people)]
    if clones:
        free = compute_team_slots(staff=clones, resources=None, **rest)  # type: ignore[arg-type]
        assert {a.staff_id for a in free.values()} == ({10 + people - 1} if free else set())


@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(scenarios(), st.lists(st.integers(0, 6), min_size=1, max_size=3))
def test_anyone_is_the_union_of_the_people(case: dict[str, object], days: list[int]) -> None:
    """Each person's own slots (only their weekdays, their own bookings) united are the "anyone"
    list, and each start goes to someone who offers it."""
    rest = {k: v for k, v in case.items() if k != "busy"}
    busy = list(case["busy"])  # type: ignore[call-overload]
    partner_hours = case["weekly_hours"]
    people = [
        StaffCalendar(
            id=n + 1,
            weekly_hours={d: partner_hours[d] for d in days[: n + 1]},  # type: ignore[index]
            busy=busy[n::3],
        )
        for n in range(3)
    ]
    alone = {
        p.id: set(compute_team_slots(staff=[p], resources=None, **rest))  # type: ignore[arg-type]
        for p in people
    }
    found = compute_team_slots(staff=people, resources=None, **rest)  # type: ignore[arg-type]
    assert set(found) == set().union(*alone.values())
    for start, assignment in found.items():
        assert start in alone[assignment.staff_id]
