"""The slot engine, without Django: every expectation is an exact list worked out by hand."""

from __future__ import annotations

from datetime import UTC, date, datetime, time, timedelta
from zoneinfo import ZoneInfo

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from booking.slots import (
    BusyInterval,
    OpenRange,
    ServiceRules,
    alignment_unit,
    compute_slots,
    group_by_local_date,
    is_slot_offered,
    local_to_utc,
)

ZURICH = ZoneInfo("Europe/Zurich")
NEW_YORK = ZoneInfo("America/New_York")
KOLKATA = ZoneInfo("Asia/Kolkata")
AUCKLAND = ZoneInfo("Pacific/Auckland")
KIRITIMATI = ZoneInfo("Pacific/Kiritimati")
PAGO_PAGO = ZoneInfo("Pacific/Pago_Pago")

MIN = timedelta(minutes=1)
HOUR = timedelta(hours=1)
EVERY_DAY = range(7)


def utc(*args: int) -> datetime:
    return datetime(*args, tzinfo=UTC)


def hours(*spans: tuple[int, int, int, int]) -> list[OpenRange]:
    return [OpenRange(time(h1, m1), time(h2, m2)) for h1, m1, h2, m2 in spans]


def busy(start: datetime, end: datetime, before: int = 0, after: int = 0) -> BusyInterval:
    return BusyInterval(start, end, timedelta(minutes=before), timedelta(minutes=after))


def rules(duration: int = 60, *, horizon_days: int = 60, **minutes: int) -> ServiceRules:
    """ServiceRules from minutes: rules(30, interval=15, buffer_after=10)."""
    extra = {name: timedelta(minutes=value) for name, value in minutes.items()}
    return ServiceRules(timedelta(minutes=duration), horizon_days=horizon_days, **extra)


def slots(
    *,
    zone: ZoneInfo = ZURICH,
    weekly: dict[int, list[OpenRange]] | None = None,
    overrides: dict[date, list[OpenRange]] | None = None,
    booked: list[BusyInterval] | None = None,
    service: ServiceRules | None = None,
    start: datetime,
    end: datetime,
    now: datetime,
) -> list[datetime]:
    return compute_slots(
        zone=zone,
        weekly_hours=weekly or {},
        overrides=overrides or {},
        busy=booked or [],
        service=service or rules(),
        window_start=start,
        window_end=end,
        now=now,
    )


# A Friday before the week used by most tests: Mon 2025-03-31 .. Sun 2025-04-06 (CEST, UTC+2).
BEFORE = utc(2025, 3, 28, 12, 0)


# --- opening hours -----------------------------------------------------------------------------


def test_weekly_hours_with_several_ranges_and_a_closed_weekday() -> None:
    weekly = {0: hours((9, 0, 12, 0), (13, 0, 15, 0)), 2: hours((10, 0, 11, 0))}  # Tuesday: closed
    found = slots(weekly=weekly, start=utc(2025, 3, 30, 22), end=utc(2025, 4, 2, 22), now=BEFORE)
    assert found == [
        utc(2025, 3, 31, 7, 0),
        utc(2025, 3, 31, 8, 0),
        utc(2025, 3, 31, 9, 0),
        utc(2025, 3, 31, 11, 0),
        utc(2025, 3, 31, 12, 0),
        utc(2025, 4, 2, 8, 0),
    ]
    assert all(s.tzinfo is UTC for s in found)


def test_override_with_no_ranges_closes_the_day() -> None:
    weekly = {0: hours((9, 0, 12, 0)), 2: hours((10, 0, 11, 0))}
    found = slots(
        weekly=weekly,
        overrides={date(2025, 3, 31): []},
        start=utc(2025, 3, 30, 22),
        end=utc(2025, 4, 2, 22),
        now=BEFORE,
    )
    assert found == [utc(2025, 4, 2, 8, 0)]


def test_override_replaces_weekly_hours_instead_of_adding_to_them() -> None:
    weekly = {0: hours((9, 0, 12, 0)), 2: hours((10, 0, 11, 0))}
    overrides = {
        date(2025, 3, 31): hours((8, 0, 9, 30)),  # Monday shortened and moved
        date(2025, 4, 1): hours((14, 0, 16, 0)),  # a normally closed Tuesday opened
    }
    found = slots(
        weekly=weekly,
        overrides=overrides,
        start=utc(2025, 3, 30, 22),
        end=utc(2025, 4, 2, 22),
        now=BEFORE,
    )
    assert found == [
        utc(2025, 3, 31, 6, 0),
        utc(2025, 4, 1, 12, 0),
        utc(2025, 4, 1, 13, 0),
        utc(2025, 4, 2, 8, 0),
    ]


def test_range_ending_at_midnight_runs_to_the_end_of_the_day() -> None:
    found = slots(
        weekly={0: hours((22, 0, 0, 0))},
        service=rules(30),
        start=utc(2025, 3, 31, 0),
        end=utc(2025, 4, 1, 0),
        now=BEFORE,
    )
    assert found == [
        utc(2025, 3, 31, 20, 0),
        utc(2025, 3, 31, 20, 30),
        utc(2025, 3, 31, 21, 0),
        utc(2025, 3, 31, 21, 30),
    ]


# --- DST -----------------------------------------------------------------------------------------

SPRING_SUNDAY = utc(2025, 3, 29, 12)  # now, for the Zurich spring-forward Sunday 2025-03-30


def test_spring_forward_day_has_one_hour_less() -> None:
    found = slots(
        weekly={6: hours((1, 0, 5, 0))},
        start=utc(2025, 3, 29, 22),
        end=utc(2025, 3, 30, 22),
        now=SPRING_SUNDAY,
    )
    # 01:00 CET, then 03:00 and 04:00 CEST: 02:00 local never happens.
    assert found == [utc(2025, 3, 30, 0, 0), utc(2025, 3, 30, 1, 0), utc(2025, 3, 30, 2, 0)]


def test_spring_forward_gap_moves_opening_to_first_valid_instant() -> None:
    found = slots(
        weekly={6: hours((2, 30, 5, 0))},
        start=utc(2025, 3, 29, 22),
        end=utc(2025, 3, 30, 22),
        now=SPRING_SUNDAY,
    )
    assert found == [utc(2025, 3, 30, 1, 0), utc(2025, 3, 30, 2, 0)]  # 03:00 and 04:00 CEST
    half_hourly = slots(
        weekly={6: hours((2, 30, 5, 0))},
        service=rules(30),
        start=utc(2025, 3, 29, 22),
        end=utc(2025, 3, 30, 22),
        now=SPRING_SUNDAY,
    )
    assert half_hourly == [
        utc(2025, 3, 30, 1, 0),
        utc(2025, 3, 30, 1, 30),
        utc(2025, 3, 30, 2, 0),
        utc(2025, 3, 30, 2, 30),
    ]


def test_alignment_across_the_gap_lands_on_the_transition() -> None:
    # 01:30 CET rounded up to the hour: 02:00 does not exist, the next full local hour is 03:00 CEST.
    found = slots(
        weekly={6: hours((1, 30, 5, 0))},
        start=utc(2025, 3, 29, 22),
        end=utc(2025, 3, 30, 22),
        now=SPRING_SUNDAY,
    )
    assert found == [utc(2025, 3, 30, 1, 0), utc(2025, 3, 30, 2, 0)]


def test_fall_back_day_has_an_extra_hour() -> None:
    found = slots(
        weekly={6: hours((1, 0, 4, 0))},
        start=utc(2025, 10, 25, 22),
        end=utc(2025, 10, 26, 23),
        now=utc(2025, 10, 25, 12),
    )
    # 01:00 CEST, 02:00 CEST, 02:00 CET, 03:00 CET: four one-hour slots in a nominal three hours.
    assert found == [
        utc(2025, 10, 25, 23, 0),
        utc(2025, 10, 26, 0, 0),
        utc(2025, 10, 26, 1, 0),
        utc(2025, 10, 26, 2, 0),
    ]
    assert len(found) == 4


def test_ambiguous_opening_takes_the_first_occurrence() -> None:
    # 02:30 is 00:30 UTC (CEST); the next full local hour is the repeated 02:00 CET = 01:00 UTC.
    found = slots(
        weekly={6: hours((2, 30, 4, 0))},
        start=utc(2025, 10, 25, 22),
        end=utc(2025, 10, 26, 23),
        now=utc(2025, 10, 25, 12),
    )
    assert found == [utc(2025, 10, 26, 1, 0), utc(2025, 10, 26, 2, 0)]


def test_new_york_spring_forward() -> None:
    found = slots(
        zone=NEW_YORK,
        weekly={6: hours((1, 0, 4, 0))},
        service=rules(30),
        start=utc(2025, 3, 9, 0),
        end=utc(2025, 3, 10, 0),
        now=utc(2025, 3, 8, 12),
    )
    # 01:00, 01:30 EST, then 03:00, 03:30 EDT.
    assert found == [
        utc(2025, 3, 9, 6, 0),
        utc(2025, 3, 9, 6, 30),
        utc(2025, 3, 9, 7, 0),
        utc(2025, 3, 9, 7, 30),
    ]


def test_new_york_fall_back() -> None:
    found = slots(
        zone=NEW_YORK,
        weekly={6: hours((0, 30, 3, 0))},
        start=utc(2025, 11, 2, 0),
        end=utc(2025, 11, 3, 0),
        now=utc(2025, 11, 1, 12),
    )
    # 00:30 EDT rounds up to 01:00 EDT; then 01:00 EST and 02:00 EST.
    assert found == [utc(2025, 11, 2, 5, 0), utc(2025, 11, 2, 6, 0), utc(2025, 11, 2, 7, 0)]
    from_ambiguous = slots(
        zone=NEW_YORK,
        weekly={6: hours((1, 30, 3, 0))},
        service=rules(30),
        start=utc(2025, 11, 2, 0),
        end=utc(2025, 11, 3, 0),
        now=utc(2025, 11, 1, 12),
    )
    assert from_ambiguous == [
        utc(2025, 11, 2, 5, 30),  # 01:30 EDT, the first occurrence
        utc(2025, 11, 2, 6, 0),
        utc(2025, 11, 2, 6, 30),
        utc(2025, 11, 2, 7, 0),
        utc(2025, 11, 2, 7, 30),
    ]


def test_local_to_utc_resolves_gaps_and_ambiguities() -> None:
    assert local_to_utc(ZURICH, date(2025, 3, 30), time(2, 30)) == utc(2025, 3, 30, 1, 0)
    assert local_to_utc(ZURICH, date(2025, 10, 26), time(2, 30)) == utc(2025, 10, 26, 0, 30)
    assert local_to_utc(NEW_YORK, date(2025, 3, 9), time(2, 0)) == utc(2025, 3, 9, 7, 0)
    assert local_to_utc(KOLKATA, date(2025, 4, 1), time(10, 0)) == utc(2025, 4, 1, 4, 30)
    assert local_to_utc(ZURICH, date(2025, 3, 30), time(2, 30)).tzinfo is UTC


def test_alignment_is_done_in_local_time_for_half_hour_zones() -> None:
    # now 10:07:12 IST: the next full local hour is 11:00 IST = 05:30 UTC, not 05:00 UTC.
    found = slots(
        zone=KOLKATA,
        weekly={1: hours((10, 0, 13, 0))},
        start=utc(2025, 3, 31, 18, 30),
        end=utc(2025, 4, 1, 18, 30),
        now=utc(2025, 4, 1, 4, 37, 12),
    )
    assert found == [utc(2025, 4, 1, 5, 30), utc(2025, 4, 1, 6, 30)]
    opening = slots(
        zone=KOLKATA,
        weekly={1: hours((10, 0, 13, 0))},
        start=utc(2025, 3, 31, 18, 30),
        end=utc(2025, 4, 1, 18, 30),
        now=utc(2025, 3, 31, 12),
    )
    assert opening == [utc(2025, 4, 1, 4, 30), utc(2025, 4, 1, 5, 30), utc(2025, 4, 1, 6, 30)]


# --- busy intervals ---------------------------------------------------------------------------

MONDAY = {"start": utc(2025, 3, 30, 22), "end": utc(2025, 3, 31, 22), "now": BEFORE}


def test_busy_interval_blocks_with_its_buffers_and_the_booked_services_buffers() -> None:
    # Another service's booking 11:00-12:00 local with its own buffers 10/20 -> [08:50, 10:20) UTC;
    # this service's buffer_after 30 and buffer_before 15 widen that to [08:20, 10:35).
    found = slots(
        weekly={0: hours((9, 0, 17, 0))},
        booked=[busy(utc(2025, 3, 31, 9), utc(2025, 3, 31, 10), before=10, after=20)],
        service=rules(60, interval=30, buffer_before=15, buffer_after=30),
        **MONDAY,
    )
    assert found == [
        utc(2025, 3, 31, 7, 0),  # 07:30 would end at 08:30, inside this service's after-buffer
        utc(2025, 3, 31, 11, 0),  # free from 10:35 UTC = 12:35 local, aligned to 13:00 local
        utc(2025, 3, 31, 11, 30),
        utc(2025, 3, 31, 12, 0),
        utc(2025, 3, 31, 12, 30),
        utc(2025, 3, 31, 13, 0),
        utc(2025, 3, 31, 13, 30),
        utc(2025, 3, 31, 14, 0),
    ]


def test_buffers_need_not_fit_inside_opening_hours() -> None:
    found = slots(
        weekly={0: hours((9, 0, 11, 0))},
        service=rules(60, buffer_before=30, buffer_after=30),
        **MONDAY,
    )
    assert found == [utc(2025, 3, 31, 7, 0), utc(2025, 3, 31, 8, 0)]


def test_adjacent_bookings_leave_only_the_edges_free() -> None:
    booked = [
        busy(utc(2025, 3, 31, 8), utc(2025, 3, 31, 9)),
        busy(utc(2025, 3, 31, 9), utc(2025, 3, 31, 10)),
    ]
    found = slots(weekly={0: hours((9, 0, 13, 0))}, booked=booked, **MONDAY)
    # A slot may end exactly when a booking starts and start exactly when one ends.
    assert found == [utc(2025, 3, 31, 7, 0), utc(2025, 3, 31, 10, 0)]


def test_gap_between_bookings_shorter_than_duration_offers_nothing() -> None:
    booked = [
        busy(utc(2025, 3, 31, 8), utc(2025, 3, 31, 9)),
        busy(utc(2025, 3, 31, 9, 30), utc(2025, 3, 31, 10)),
    ]
    found = slots(
        weekly={0: hours((9, 0, 13, 0))}, booked=booked, service=rules(60, interval=30), **MONDAY
    )
    assert found == [utc(2025, 3, 31, 7, 0), utc(2025, 3, 31, 10, 0)]


def test_busy_interval_with_seconds_starts_the_segment_at_the_next_whole_minute() -> None:
    found = slots(
        weekly={0: hours((9, 0, 12, 0))},
        booked=[busy(utc(2025, 3, 31, 7), utc(2025, 3, 31, 8, 20, 30))],
        service=rules(7),
        start=utc(2025, 3, 30, 22),
        end=utc(2025, 3, 31, 8, 40),
        now=utc(2025, 3, 31, 8, 20, 45),
    )
    assert found == [utc(2025, 3, 31, 8, 21), utc(2025, 3, 31, 8, 28), utc(2025, 3, 31, 8, 35)]


# --- notice, horizon, interval, window --------------------------------------------------------

NOTICE_NOW = utc(2025, 3, 31, 7, 7, 42)  # 09:07:42 local


def test_min_notice_rounds_up_to_half_hour_for_30_minute_interval() -> None:
    found = slots(
        weekly={0: hours((9, 0, 12, 0))},
        service=rules(30, min_notice=60),
        start=utc(2025, 3, 30, 22),
        end=utc(2025, 3, 31, 22),
        now=NOTICE_NOW,
    )
    assert found == [utc(2025, 3, 31, 8, 30), utc(2025, 3, 31, 9, 0), utc(2025, 3, 31, 9, 30)]


def test_min_notice_rounds_up_to_quarter_hour_for_45_minute_interval() -> None:
    found = slots(
        weekly={0: hours((9, 0, 12, 0))},
        service=rules(45, min_notice=60),
        start=utc(2025, 3, 30, 22),
        end=utc(2025, 3, 31, 22),
        now=NOTICE_NOW,
    )
    assert found == [utc(2025, 3, 31, 8, 15), utc(2025, 3, 31, 9, 0)]


def test_min_notice_is_only_floored_to_the_minute_for_7_minute_interval() -> None:
    found = slots(
        weekly={0: hours((9, 0, 12, 0))},
        service=rules(7, min_notice=60),
        start=utc(2025, 3, 30, 22),
        end=utc(2025, 3, 31, 8, 30),
        now=NOTICE_NOW,
    )
    assert found == [
        utc(2025, 3, 31, 8, 7),
        utc(2025, 3, 31, 8, 14),
        utc(2025, 3, 31, 8, 21),
        utc(2025, 3, 31, 8, 28),
    ]


def test_horizon_includes_last_local_date_and_excludes_the_next() -> None:
    found = slots(
        weekly={d: hours((9, 0, 10, 0)) for d in EVERY_DAY},
        service=rules(60, horizon_days=2),
        start=utc(2025, 3, 30, 22),
        end=utc(2025, 4, 6, 22),
        now=utc(2025, 3, 31, 8),
    )
    assert found == [utc(2025, 4, 1, 7, 0), utc(2025, 4, 2, 7, 0)]  # today's 09:00 is past


def test_horizon_counts_from_today_in_the_partners_zone() -> None:
    # 23:30 UTC on Mar 31 is already Apr 1 in Zurich, so horizon 1 reaches Apr 2.
    found = slots(
        weekly={d: hours((9, 0, 10, 0)) for d in EVERY_DAY},
        service=rules(60, horizon_days=1),
        start=utc(2025, 3, 30, 22),
        end=utc(2025, 4, 6, 22),
        now=utc(2025, 3, 31, 23, 30),
    )
    assert found == [utc(2025, 4, 1, 7, 0), utc(2025, 4, 2, 7, 0)]
    same_day_only = slots(
        weekly={d: hours((9, 0, 10, 0)) for d in EVERY_DAY},
        service=rules(30, horizon_days=0),
        start=utc(2025, 3, 30, 22),
        end=utc(2025, 4, 6, 22),
        now=utc(2025, 3, 31, 7, 10),
    )
    assert same_day_only == [utc(2025, 3, 31, 7, 30)]


def test_interval_shorter_than_duration_overlaps_starts() -> None:
    found = slots(weekly={0: hours((9, 0, 11, 0))}, service=rules(60, interval=15), **MONDAY)
    assert found == [
        utc(2025, 3, 31, 7, 0),
        utc(2025, 3, 31, 7, 15),
        utc(2025, 3, 31, 7, 30),
        utc(2025, 3, 31, 7, 45),
        utc(2025, 3, 31, 8, 0),
    ]


def test_interval_longer_than_duration_leaves_gaps() -> None:
    found = slots(weekly={0: hours((9, 0, 13, 0))}, service=rules(30, interval=90), **MONDAY)
    assert found == [utc(2025, 3, 31, 7, 0), utc(2025, 3, 31, 8, 30), utc(2025, 3, 31, 10, 0)]


def test_window_start_is_inclusive_and_window_end_exclusive() -> None:
    weekly = {0: hours((9, 0, 12, 0))}
    assert slots(
        weekly=weekly, start=utc(2025, 3, 31, 7, 30), end=utc(2025, 3, 31, 9), now=BEFORE
    ) == [utc(2025, 3, 31, 8)]
    assert slots(
        weekly=weekly, start=utc(2025, 3, 31, 8), end=utc(2025, 3, 31, 9, 0, 1), now=BEFORE
    ) == [
        utc(2025, 3, 31, 8),
        utc(2025, 3, 31, 9),
    ]
    assert (
        slots(weekly=weekly, start=utc(2025, 3, 31, 8), end=utc(2025, 3, 31, 8), now=BEFORE) == []
    )


def test_window_in_a_zone_ahead_of_utc_reaches_the_local_evening() -> None:
    # Kiritimati is UTC+14: the UTC day Mar 31 is local 14:00 Mar 31 to 14:00 Apr 1.
    found = slots(
        zone=KIRITIMATI,
        weekly={d: hours((20, 0, 0, 0)) for d in EVERY_DAY},
        start=utc(2025, 3, 31, 0),
        end=utc(2025, 4, 1, 0),
        now=BEFORE,
    )
    assert found == [
        utc(2025, 3, 31, 6),
        utc(2025, 3, 31, 7),
        utc(2025, 3, 31, 8),
        utc(2025, 3, 31, 9),
    ]


def test_window_in_a_zone_behind_utc_uses_the_previous_local_date() -> None:
    # Pago Pago is UTC-11: the evening of local Mar 30 falls inside the UTC morning of Mar 31.
    found = slots(
        zone=PAGO_PAGO,
        weekly={6: hours((22, 0, 0, 0))},
        start=utc(2025, 3, 31, 0),
        end=utc(2025, 3, 31, 10),
        now=BEFORE,
    )
    assert found == [utc(2025, 3, 31, 9)]


# --- grouping and validation of a posted start ------------------------------------------------


def test_group_by_local_date_splits_a_partner_day_across_customer_dates() -> None:
    found = slots(weekly={0: hours((9, 0, 14, 0))}, **MONDAY)
    grouped = group_by_local_date(found, AUCKLAND)  # NZDT, UTC+13
    assert list(grouped) == [date(2025, 3, 31), date(2025, 4, 1)]
    assert grouped[date(2025, 3, 31)] == [
        datetime(2025, 3, 31, h, 0, tzinfo=AUCKLAND) for h in (20, 21, 22, 23)
    ]
    assert grouped[date(2025, 4, 1)] == [datetime(2025, 4, 1, 0, 0, tzinfo=AUCKLAND)]
    assert all(s.tzinfo is AUCKLAND for day in grouped.values() for s in day)


OFFERED = {
    "zone": ZURICH,
    "weekly_hours": {0: hours((9, 0, 12, 0)), 1: hours((9, 0, 12, 0))},
    "overrides": {},
    "busy": [busy(utc(2025, 3, 31, 9), utc(2025, 3, 31, 10))],
    "service": rules(60, interval=30, horizon_days=0),
    "now": utc(2025, 3, 31, 6, 0),
}


def test_is_slot_offered_accepts_an_offered_start_in_any_zone() -> None:
    window = {"window_start": utc(2025, 3, 30, 22), "window_end": utc(2025, 3, 31, 22)}
    offered = [utc(2025, 3, 31, 7, 0), utc(2025, 3, 31, 7, 30), utc(2025, 3, 31, 8, 0)]
    assert compute_slots(**OFFERED, **window) == offered  # type: ignore[arg-type]
    assert is_slot_offered(utc(2025, 3, 31, 7, 30), **OFFERED)
    assert is_slot_offered(datetime(2025, 3, 31, 9, 30, tzinfo=ZURICH), **OFFERED)


@pytest.mark.parametrize(
    "start, why",
    [
        (utc(2025, 3, 31, 7, 10), "misaligned"),
        (utc(2025, 3, 31, 8, 30), "overlaps a booking"),
        (utc(2025, 3, 31, 6, 0), "before opening"),
        (utc(2025, 3, 31, 10, 30), "after closing"),
        (utc(2025, 4, 1, 7, 0), "beyond the horizon"),
    ],
)
def test_is_slot_offered_rejects_starts_that_are_not_slots(start: datetime, why: str) -> None:
    assert not is_slot_offered(start, **OFFERED), why


def test_is_slot_offered_rejects_a_start_in_the_past() -> None:
    assert not is_slot_offered(
        utc(2025, 3, 31, 7, 30), **{**OFFERED, "now": utc(2025, 3, 31, 7, 45)}
    )
    assert is_slot_offered(utc(2025, 3, 31, 8, 0), **{**OFFERED, "now": utc(2025, 3, 31, 7, 45)})


# --- input validation -------------------------------------------------------------------------


@pytest.mark.parametrize(
    "interval, unit",
    [
        (60, 60),
        (120, 60),
        (90, 30),
        (30, 30),
        (40, 20),
        (45, 15),
        (50, 10),
        (25, 5),
        (7, None),
        (1, None),
    ],
)
def test_alignment_unit_is_the_coarsest_divisor(interval: int, unit: int | None) -> None:
    assert alignment_unit(timedelta(minutes=interval)) == (
        timedelta(minutes=unit) if unit else None
    )


NAIVE = datetime(2025, 3, 31, 9, 0)  # noqa: DTZ001 - deliberately naive


@pytest.mark.parametrize(
    "change",
    [
        {"start": NAIVE},
        {"end": NAIVE},
        {"now": NAIVE},
        {"booked": [BusyInterval(NAIVE, NAIVE + HOUR, timedelta(0), timedelta(0))]},
        {"start": utc(2025, 3, 31, 9), "end": utc(2025, 3, 31, 8)},
        {"service": rules(0)},
        {"service": rules(-30)},
        {"service": rules(30, interval=0)},
        {"service": rules(30, buffer_before=-5)},
        {"service": rules(30, buffer_after=-5)},
        {"service": rules(30, min_notice=-5)},
        {"service": rules(30, horizon_days=-1)},
        {"weekly": {0: hours((12, 0, 9, 0))}},
        {"weekly": {0: hours((9, 0, 9, 0))}},
        {"overrides": {date(2025, 3, 31): hours((12, 0, 11, 0))}},
    ],
)
def test_invalid_input_raises_value_error(change: dict[str, object]) -> None:
    kwargs: dict[str, object] = {"weekly": {0: hours((9, 0, 12, 0))}, **MONDAY, **change}
    with pytest.raises(ValueError):
        slots(**kwargs)  # type: ignore[arg-type]


def test_is_slot_offered_rejects_a_naive_start() -> None:
    with pytest.raises(ValueError):
        is_slot_offered(NAIVE, **OFFERED)


# --- property ---------------------------------------------------------------------------------

WEEK_START = utc(2025, 10, 20)  # a week that contains the European fall-back Sunday


@st.composite
def scenarios(draw: st.DrawFn) -> dict[str, object]:
    weekly: dict[int, list[OpenRange]] = {}
    for weekday in EVERY_DAY:
        ranges = []
        for _ in range(draw(st.integers(0, 2))):
            start = draw(st.integers(0, 23 * 4)) * 15
            end = draw(st.integers(start // 15 + 1, 24 * 4)) * 15
            ranges.append(OpenRange(time(start // 60, start % 60), time(end // 60 % 24, end % 60)))
        weekly[weekday] = ranges
    booked = []
    for _ in range(draw(st.integers(0, 25))):
        start = WEEK_START + timedelta(minutes=draw(st.integers(-24 * 60, 8 * 24 * 60)))
        booked.append(
            busy(
                start,
                start + timedelta(minutes=draw(st.integers(0, 240))),
                draw(st.integers(0, 45)),
                draw(st.integers(0, 45)),
            )
        )
    service = ServiceRules(
        duration=timedelta(minutes=draw(st.integers(1, 180))),
        buffer_before=timedelta(minutes=draw(st.integers(0, 45))),
        buffer_after=timedelta(minutes=draw(st.integers(0, 45))),
        min_notice=timedelta(minutes=draw(st.integers(0, 600))),
        horizon_days=draw(st.integers(0, 10)),
        interval=draw(st.none() | st.integers(1, 120).map(lambda m: timedelta(minutes=m))),
    )
    return {
        "zone": draw(st.sampled_from([ZURICH, NEW_YORK, KOLKATA, ZoneInfo("UTC")])),
        "weekly_hours": weekly,
        "overrides": {},
        "busy": booked,
        "service": service,
        "window_start": WEEK_START,
        "window_end": WEEK_START + timedelta(days=7),
        "now": WEEK_START + timedelta(seconds=draw(st.integers(-86400, 3 * 86400))),
    }


@settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(scenarios())
def test_slots_never_overlap_busy_time_and_stay_inside_opening_hours(
    case: dict[str, object],
) -> None:
    found = compute_slots(**case)  # type: ignore[arg-type]
    zone: ZoneInfo = case["zone"]  # type: ignore[assignment]
    service: ServiceRules = case["service"]  # type: ignore[assignment]
    assert found == sorted(set(found))
    for s in found:
        assert s.tzinfo is UTC
        assert case["window_start"] <= s < case["window_end"]  # type: ignore[operator]
        end = s + service.duration
        for b in case["busy"]:  # type: ignore[attr-defined]
            blocked_from = b.start - b.buffer_before - service.buffer_after
            blocked_to = b.end + b.buffer_after + service.buffer_before
            # An empty span (zero-length booking, no buffers) removes nothing from a range.
            assert blocked_from == blocked_to or end <= blocked_from or s >= blocked_to
        day = s.astimezone(zone).date()
        inside = False
        for d in (day - timedelta(days=1), day):
            for r in case["weekly_hours"][d.weekday()]:  # type: ignore[index]
                open_at = local_to_utc(zone, d, r.start)
                close_at = local_to_utc(
                    zone, d + timedelta(days=1) if r.end == time(0) else d, r.end
                )
                inside = inside or open_at <= s and end <= close_at
        assert inside, f"{s} is outside the opening hours"
