"""Slot engine: the start times at which a service can be booked.

Pure Python on purpose: the rules are calendar arithmetic that must be testable without a
database, so the Django side only loads rows and hands them to compute_slots(). All internal
arithmetic is done on UTC instants, because adding a timedelta to a datetime whose tzinfo is a
ZoneInfo is wall-clock arithmetic and silently goes wrong across DST transitions.
"""

from __future__ import annotations

import math
from bisect import bisect_right
from collections.abc import Iterable, Iterator, Mapping, Sequence
from dataclasses import dataclass, replace
from datetime import UTC, date, datetime, time, timedelta
from typing import NamedTuple
from zoneinfo import ZoneInfo

__all__ = [
    "Assignment",
    "BusyInterval",
    "OpenRange",
    "ResourceCalendar",
    "ServiceRules",
    "StaffCalendar",
    "alignment_unit",
    "compute_slots",
    "compute_team_slots",
    "group_by_local_date",
    "is_slot_offered",
    "local_to_utc",
    "open_ranges_utc",
]

_ZERO = timedelta(0)
_MINUTE = timedelta(minutes=1)
_MICRO = timedelta(microseconds=1)
_DAY = timedelta(days=1)
_MIDNIGHT = time(0, 0)
# Candidates for rounding first starts, coarsest first: a 90-minute interval should start on the
# half hour rather than on any 5-minute mark.
_ALIGNMENTS = tuple(timedelta(minutes=m) for m in (60, 30, 20, 15, 10, 5))


@dataclass(frozen=True)
class OpenRange:
    """Local wall-clock opening range in the partner's zone. end == time(0, 0) means the
    midnight that ends the day, the only way to express "open until midnight"."""

    start: time
    end: time


class BusyInterval(NamedTuple):
    """An existing blocking booking (confirmed or on hold) with the buffers of ITS service.
    A named tuple, not a frozen dataclass like the other inputs: a busy month loads thousands
    of them, and a tuple is made several times faster."""

    start: datetime
    end: datetime
    buffer_before: timedelta
    buffer_after: timedelta


@dataclass(frozen=True)
class ServiceRules:
    duration: timedelta
    buffer_before: timedelta = timedelta(0)
    buffer_after: timedelta = timedelta(0)
    min_notice: timedelta = timedelta(0)
    horizon_days: int = 60
    interval: timedelta | None = None  # None: back-to-back slots, i.e. the duration


@dataclass(frozen=True)
class StaffCalendar:
    """What decides when one staff member can take a booking: their weekly hours (met with the
    partner's), their blocking bookings (each with its own service's buffers) and absences
    (aware [start, end) ranges), and their own duration of the service (None: the service's)."""

    id: int
    # None: works whenever the partner is open (overrides included), as "the team" does.
    weekly_hours: Mapping[int, Sequence[OpenRange]] | None
    busy: Sequence[BusyInterval] = ()
    absences: Sequence[tuple[datetime, datetime]] = ()
    order: int = 0  # display order: the tie-break of "anyone" after the day's load
    duration: timedelta | None = None
    # Bookings per local date, where the caller counted them itself (None: counted from `busy`,
    # which then holds every booking of the dates asked about).
    day_load: Mapping[date, int] | None = None


@dataclass(frozen=True)
class ResourceCalendar:
    """A resource of the kind a service needs: its blocking bookings and absences."""

    id: int
    busy: Sequence[BusyInterval] = ()
    absences: Sequence[tuple[datetime, datetime]] = ()


@dataclass(frozen=True)
class Assignment:
    """A start offered for "anyone" and who (and what) takes it."""

    start: datetime
    end: datetime
    staff_id: int
    resource_id: int | None


# --- validation -------------------------------------------------------------------------------
# Validation happens when the engine is called rather than in __post_init__, so that rows loaded
# from the database never fail to construct and every caller gets the same ValueError.


def _aware(name: str, value: object) -> datetime:
    if type(value) is datetime and value.tzinfo is UTC:  # as loaded: nothing to check or convert
        return value
    if not isinstance(value, datetime):
        raise ValueError(f"{name} must be a datetime, got {type(value).__name__}")
    if value.tzinfo is None or value.utcoffset() is None:
        raise ValueError(f"{name} must be timezone-aware, got naive {value!r}")
    return value.astimezone(UTC)


def _check_service(service: ServiceRules) -> None:
    if service.duration <= _ZERO:
        raise ValueError(f"service duration must be positive, got {service.duration}")
    if service.interval is not None and service.interval <= _ZERO:
        raise ValueError(f"service interval must be positive, got {service.interval}")
    for name in ("buffer_before", "buffer_after", "min_notice"):
        if getattr(service, name) < _ZERO:
            raise ValueError(f"service {name} must not be negative, got {getattr(service, name)}")
    if isinstance(service.horizon_days, bool) or not isinstance(service.horizon_days, int):
        raise ValueError(f"service horizon_days must be an int, got {service.horizon_days!r}")
    if service.horizon_days < 0:
        raise ValueError(f"service horizon_days must not be negative, got {service.horizon_days}")


def _check_range(r: OpenRange, where: str) -> None:
    if not isinstance(r.start, time) or not isinstance(r.end, time):
        raise ValueError(f"open range of {where} must hold datetime.time values, got {r!r}")
    if r.start.tzinfo is not None or r.end.tzinfo is not None:
        raise ValueError(f"open range of {where} must use naive local times, got {r!r}")
    if r.end != _MIDNIGHT and r.end <= r.start:
        raise ValueError(
            f"open range of {where} must end after it starts (or at 00:00 = midnight), got "
            f"{r.start.isoformat()}-{r.end.isoformat()}"
        )


def _check_hours(
    weekly_hours: Mapping[int, Sequence[OpenRange]], overrides: Mapping[date, Sequence[OpenRange]]
) -> None:
    for weekday, ranges in weekly_hours.items():
        if isinstance(weekday, bool) or weekday not in range(7):
            raise ValueError(f"weekly_hours keys must be weekdays 0 (Monday) to 6, got {weekday!r}")
        for r in ranges:
            _check_range(r, f"weekday {weekday}")
    for day, ranges in overrides.items():
        # A datetime key would never match a date lookup and silently not override anything.
        if isinstance(day, datetime) or not isinstance(day, date):
            raise ValueError(f"overrides keys must be datetime.date, got {day!r}")
        for r in ranges:
            _check_range(r, day.isoformat())


def _widened(
    busy: Iterable[BusyInterval], service: ServiceRules
) -> list[tuple[datetime, datetime]]:
    """Rule 2 then rule 3: each booking with its own buffers, then the room THIS service's
    buffers need on the far side of it."""
    out: list[tuple[datetime, datetime]] = []
    far_before, far_after = service.buffer_after, service.buffer_before
    for i, b in enumerate(busy):
        start, end = b.start, b.end
        if not (type(start) is datetime and start.tzinfo is UTC):  # as loaded: nothing to do
            start = _aware(f"busy[{i}].start", start)
        if not (type(end) is datetime and end.tzinfo is UTC):
            end = _aware(f"busy[{i}].end", end)
        if end < start:
            raise ValueError(f"busy[{i}] ends before it starts: {b.start} > {b.end}")
        before, after = b.buffer_before, b.buffer_after
        if before < _ZERO or after < _ZERO:
            raise ValueError(f"busy[{i}] buffers must not be negative")
        # The usual case, no buffers on either side, without four sums of zero per booking.
        if before or far_before:
            start = start - before - far_before
        if after or far_after:
            end = end + after + far_after
        out.append((start, end))
    return out


# --- time arithmetic --------------------------------------------------------------------------


def local_to_utc(zone: ZoneInfo, d: date, t: time) -> datetime:
    """The UTC instant of wall-clock time t on local date d. Ambiguous times (fall back) take the
    first occurrence; times inside a spring-forward gap become the transition instant."""
    if t.tzinfo is not None:
        raise ValueError(f"local_to_utc needs a naive time, got {t!r}")
    wall = datetime.combine(d, t)
    first = wall.replace(tzinfo=zone).astimezone(UTC)  # fold=0: first occurrence when ambiguous
    if first.astimezone(zone).replace(tzinfo=None) == wall:
        return first
    # The wall time does not exist. fold=0 applied the pre-transition offset and landed after the
    # transition, fold=1 the post-transition one and landed before it, so the transition lies in
    # between. tzdata transitions are whole seconds: bisect on integer timestamps.
    lo = math.floor(wall.replace(tzinfo=zone, fold=1).timestamp())
    hi = math.ceil(first.timestamp())
    while hi - lo > 1:
        mid = (lo + hi) // 2
        if datetime.fromtimestamp(mid, zone).replace(tzinfo=None) >= wall:
            hi = mid
        else:
            lo = mid
    return datetime.fromtimestamp(hi, UTC)


def local_midnight(zone: ZoneInfo, d: date) -> datetime:
    """The UTC instant local date `d` begins in `zone` (00:00, or the first instant after a
    clock change that skips midnight). The one way every page, the API and the calendar turn a
    local date into a window boundary."""
    return local_to_utc(zone, d, time(0))


def alignment_unit(interval: timedelta) -> timedelta | None:
    """The coarsest of 60/30/20/15/10/5 minutes dividing interval; None if none does (then the
    first start is not rounded at all, or a 7-minute grid would drift off its own marks)."""
    if interval <= _ZERO:
        raise ValueError(f"interval must be positive, got {interval}")
    return next((unit for unit in _ALIGNMENTS if interval % unit == _ZERO), None)


def _align_up(t: datetime, unit: timedelta, zone: ZoneInfo) -> datetime:
    """Smallest instant >= t whose LOCAL clock reading is a multiple of unit. Every unit divides
    an hour, so the minute of the hour decides; half-hour zones (Asia/Kolkata) are why this must
    look at local time. A step can cross a DST transition, hence the re-check."""
    # In whole microseconds: building a timedelta of the reading and taking it modulo the unit
    # cost more than the zone conversion itself, once per free segment of every person.
    unit_us = unit // _MICRO
    for _ in range(4):
        local = t.astimezone(zone)
        rest = ((local.minute * 60 + local.second) * 1_000_000 + local.microsecond) % unit_us
        if not rest:
            return t
        t += timedelta(microseconds=unit_us - rest)
    return t


def _first_start(
    a: datetime, earliest: datetime, unit: timedelta | None, zone: ZoneInfo
) -> datetime:
    """Rule 4: max(segment start, now + notice), floored to the minute (but never before the
    segment start), then rounded up to the local alignment unit."""
    t = max(a, earliest)
    if t.second or t.microsecond:  # floored to the minute
        t = t.replace(second=0, microsecond=0)
        if t < a:  # a itself has seconds: the next whole minute is the earliest legal start
            t = a.replace(second=0, microsecond=0) + _MINUTE
    return _align_up(t, unit, zone) if unit is not None else t


# --- the engine -------------------------------------------------------------------------------


def _open_ranges(
    zone: ZoneInfo,
    weekly_hours: Mapping[int, Sequence[OpenRange]],
    overrides: Mapping[date, Sequence[OpenRange]],
    first_day: date,
    last_day: date,
) -> Iterator[tuple[datetime, datetime]]:
    """Rule 1: UTC [start, end) of every open range of the local dates first_day..last_day."""
    d = first_day
    while d <= last_day:
        ranges = overrides[d] if d in overrides else weekly_hours.get(d.weekday(), ())
        for r in sorted(ranges, key=lambda r: r.start):
            a = local_to_utc(zone, d, r.start)
            b = (
                local_to_utc(zone, d + _DAY, _MIDNIGHT)
                if r.end == _MIDNIGHT
                else local_to_utc(zone, d, r.end)
            )
            if a < b:  # a range lying wholly inside a DST gap collapses to nothing
                yield a, b
        d += _DAY


def open_ranges_utc(
    zone: ZoneInfo,
    weekly_hours: Mapping[int, Sequence[OpenRange]],
    overrides: Mapping[date, Sequence[OpenRange]],
    first_day: date,
    last_day: date,
) -> list[tuple[datetime, datetime]]:
    """The sorted, disjoint union of the open ranges (UTC) of the local dates first_day..last_day:
    no start the engine offers on those dates lies outside it, nor ends after it."""
    _check_hours(weekly_hours, overrides)
    starts, ends = _merge(_open_ranges(zone, weekly_hours, overrides, first_day, last_day))
    return list(zip(starts, ends, strict=True))


def _merge(spans: Iterable[tuple[datetime, datetime]]) -> tuple[list[datetime], list[datetime]]:
    """Sorted, disjoint union of the blocked spans as parallel start/end lists, so every open
    range can bisect to its first relevant span instead of rescanning all bookings."""
    starts: list[datetime] = []
    ends: list[datetime] = []
    for x, y in sorted(spans):
        if ends and x <= ends[-1]:
            ends[-1] = max(ends[-1], y)
        else:
            starts.append(x)
            ends.append(y)
    return starts, ends


def _free_segments(
    a: datetime, b: datetime, starts: list[datetime], ends: list[datetime]
) -> Iterator[tuple[datetime, datetime]]:
    i = bisect_right(ends, a)  # first blocked span ending after a; earlier ones cannot touch [a, b)
    cursor = a
    while i < len(starts) and starts[i] < b:
        if starts[i] > cursor:
            yield cursor, starts[i]
        cursor = max(cursor, ends[i])
        i += 1
    if cursor < b:
        yield cursor, b


def compute_slots(
    *,
    zone: ZoneInfo,
    weekly_hours: Mapping[int, Sequence[OpenRange]],
    overrides: Mapping[date, Sequence[OpenRange]],
    busy: Iterable[BusyInterval],
    service: ServiceRules,
    window_start: datetime,
    window_end: datetime,
    now: datetime,
) -> list[datetime]:
    """Sorted, unique UTC start times offered in [window_start, window_end)."""
    ws = _aware("window_start", window_start)
    we = _aware("window_end", window_end)
    now_utc = _aware("now", now)
    if we < ws:
        raise ValueError(f"window_end {window_end} is before window_start {window_start}")
    _check_service(service)
    _check_hours(weekly_hours, overrides)
    widened = _widened(busy, service)  # validated even when the window turns out empty

    step = service.interval if service.interval is not None else service.duration
    unit = alignment_unit(step)
    earliest = now_utc + service.min_notice
    # Rule 5 as an instant: a start is on a local date <= today + N iff it precedes the first
    # instant of the day after, which is exactly what local_to_utc gives for 00:00.
    horizon_day = now_utc.astimezone(zone).date() + timedelta(days=service.horizon_days)
    hi = min(we, local_to_utc(zone, horizon_day + _DAY, _MIDNIGHT))
    # Flooring to the minute may offer a start up to a minute before now + notice.
    lo = max(ws, earliest - _MINUTE)
    if hi <= lo:
        return []
    # A start belongs to the range of its own local date (a range ends at the latest at the next
    # midnight); one extra day before absorbs fall-backs across midnight and minute flooring.
    ranges = list(
        _open_ranges(
            zone,
            weekly_hours,
            overrides,
            lo.astimezone(zone).date() - _DAY,
            hi.astimezone(zone).date(),
        )
    )
    if not ranges:
        return []
    span_lo = min(a for a, _ in ranges)
    span_hi = max(b for _, b in ranges)
    starts, ends = _merge((x, y) for x, y in widened if x < y and y > span_lo and x < span_hi)

    found: list[datetime] = []
    duration = service.duration
    for a, b in ranges:
        for seg_a, seg_b in _free_segments(a, b, starts, ends):
            # Too short, ending before a start in the window could end, or starting after the
            # last: no start fits (each one is >= seg_a and >= ws, and ends by seg_b).
            if seg_b - seg_a < duration or seg_b < ws + duration or seg_a >= hi:
                continue
            s = _first_start(seg_a, earliest, unit, zone)
            if s < ws:  # jump straight to the first grid point inside the window
                s -= ((s - ws) // step) * step
            while s < hi and s + service.duration <= seg_b:
                found.append(s)
                s += step
    # Overlapping ranges of one day may produce the same start twice.
    return sorted(set(found))


def is_slot_offered(
    start: datetime,
    *,
    zone: ZoneInfo,
    weekly_hours: Mapping[int, Sequence[OpenRange]],
    overrides: Mapping[date, Sequence[OpenRange]],
    busy: Iterable[BusyInterval],
    service: ServiceRules,
    now: datetime,
) -> bool:
    """True iff start is exactly one of the computed slots. The one-microsecond window keeps the
    work to the local day(s) around start, and only bookings near them are sorted."""
    instant = _aware("start", start)  # compare in UTC: aware == across zones misbehaves in folds
    return instant in compute_slots(
        zone=zone,
        weekly_hours=weekly_hours,
        overrides=overrides,
        busy=busy,
        service=service,
        window_start=instant,
        window_end=instant + timedelta(microseconds=1),
        now=now,
    )


# --- several staff members and resources ------------------------------------------------------


def _offset(t: time, *, is_end: bool) -> timedelta:
    """A local clock time as the time since midnight; an end of 00:00 is the next midnight."""
    if is_end and t == _MIDNIGHT:
        return _DAY
    return timedelta(hours=t.hour, minutes=t.minute, seconds=t.second, microseconds=t.microsecond)


def _clock(offset: timedelta) -> time:
    if offset == _DAY:
        return _MIDNIGHT
    seconds, micro = divmod(offset // timedelta(microseconds=1), 1_000_000)
    return time(seconds // 3600, seconds // 60 % 60, seconds % 60, micro)


def _intersect(a: Sequence[OpenRange], b: Sequence[OpenRange]) -> list[OpenRange]:
    """The local ranges of one day open in both lists. Both are wall-clock ranges of the same
    date, so meeting them before any conversion is exact across clock changes too."""
    out: list[OpenRange] = []
    for x in a:
        for y in b:
            lo = max(_offset(x.start, is_end=False), _offset(y.start, is_end=False))
            hi = min(_offset(x.end, is_end=True), _offset(y.end, is_end=True))
            if lo < hi:
                out.append(OpenRange(_clock(lo), _clock(hi)))
    return out


def _as_busy(absences: Iterable[tuple[datetime, datetime]]) -> list[BusyInterval]:
    return [BusyInterval(a, b, _ZERO, _ZERO) for a, b in absences]


def _hours_of(
    member: StaffCalendar,
    weekly_hours: Mapping[int, Sequence[OpenRange]],
    overrides: Mapping[date, Sequence[OpenRange]],
) -> tuple[Mapping[int, Sequence[OpenRange]], Mapping[date, Sequence[OpenRange]]]:
    """The member's weekly hours and date overrides: the partner's met with their own."""
    own = member.weekly_hours
    if own is None:
        return weekly_hours, overrides
    _check_hours(own, {})
    return (
        {day: _intersect(weekly_hours.get(day, ()), own.get(day, ())) for day in range(7)},
        {d: _intersect(ranges, own.get(d.weekday(), ())) for d, ranges in overrides.items()},
    )


class _Blocked:
    """A resource's blocked spans (bookings with their buffers and the service's, absences),
    merged, to answer "is [s, e) free?" by bisection."""

    def __init__(self, resource: ResourceCalendar, service: ServiceRules) -> None:
        spans = _widened([*resource.busy, *_as_busy(resource.absences)], service)
        self.id = resource.id
        self.starts, self.ends = _merge((x, y) for x, y in spans if x < y)

    def is_free(self, start: datetime, end: datetime) -> bool:
        i = bisect_right(self.ends, start)
        return i == len(self.starts) or self.starts[i] >= end


def _day_load(member: StaffCalendar, zone: ZoneInfo) -> Mapping[date, int]:
    if member.day_load is not None:
        return member.day_load
    load: dict[date, int] = {}
    for b in member.busy:
        day = _aware("busy.start", b.start).astimezone(zone).date()
        load[day] = load.get(day, 0) + 1
    return load


def compute_team_slots(
    *,
    zone: ZoneInfo,
    weekly_hours: Mapping[int, Sequence[OpenRange]],
    overrides: Mapping[date, Sequence[OpenRange]],
    staff: Sequence[StaffCalendar],
    resources: Sequence[ResourceCalendar] | None,
    service: ServiceRules,
    window_start: datetime,
    window_end: datetime,
    now: datetime,
) -> dict[datetime, Assignment]:
    """The UTC start times offered in [window_start, window_end) by at least one of `staff`
    (pass one to ask for that person only), each with whom it would go to; sorted by start.

    A staff member offers a start under the rules of compute_slots, applied to their own hours
    met with the partner's (date overrides of the partner included; weekly_hours None: the
    partner's), with their bookings and
    absences busy and their own duration. When `resources` is not None the service needs one of
    them: a start needs a free one for the staff member's whole busy range (an empty list: no
    slot at all).

    "Anyone" is assigned deterministically: among the staff members free at the start (with a
    resource, where one is needed), the one with the fewest bookings on that local date, then the
    lowest display order, then the lowest id. The resource is the first free one in the order
    given."""
    _check_service(service)
    _check_hours(weekly_hours, overrides)
    step = service.interval if service.interval is not None else service.duration
    offered: dict[datetime, list[tuple[tuple[int, int, int], StaffCalendar, timedelta]]] = {}
    for member in staff:
        own = replace(service, duration=member.duration or service.duration, interval=step)
        mine, on_dates = _hours_of(member, weekly_hours, overrides)
        load = _day_load(member, zone)
        for start in compute_slots(
            zone=zone,
            weekly_hours=mine,
            overrides=on_dates,
            busy=[*member.busy, *_as_busy(member.absences)],
            service=own,
            window_start=window_start,
            window_end=window_end,
            now=now,
        ):
            rank = (load.get(start.astimezone(zone).date(), 0), member.order, member.id)
            offered.setdefault(start, []).append((rank, member, own.duration))
    blocked = None if resources is None else [_Blocked(r, service) for r in resources]
    found: dict[datetime, Assignment] = {}
    for start in sorted(offered):
        for _rank, member, duration in sorted(offered[start], key=lambda c: c[0]):
            end = start + duration
            if blocked is None:
                found[start] = Assignment(start, end, member.id, None)
                break
            free = next((r for r in blocked if r.is_free(start, end)), None)
            if free is not None:
                found[start] = Assignment(start, end, member.id, free.id)
                break
    return found


def group_by_local_date(slots: Iterable[datetime], zone: ZoneInfo) -> dict[date, list[datetime]]:
    """Slots grouped by their date in the customer's zone, dates ascending, values in that zone."""
    groups: dict[date, list[datetime]] = {}
    for s in sorted(_aware("slot", s) for s in slots):
        local = s.astimezone(zone)
        groups.setdefault(local.date(), []).append(local)
    return groups
