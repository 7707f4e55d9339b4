"""Reads for the booking pages, the widget API and the services: what a customer may see."""

from __future__ import annotations

import enum
import hashlib
import hmac
from bisect import bisect_right
from collections import defaultdict
from collections.abc import Collection
from dataclasses import dataclass, replace
from datetime import UTC, date, datetime, timedelta
from typing import Any
from zoneinfo import ZoneInfo

from django.conf import settings
from django.db import connection, connections
from django.db.models import (
    BigIntegerField,
    Case,
    Count,
    DateTimeField,
    F,
    Func,
    Max,
    Min,
    OuterRef,
    Q,
    QuerySet,
    Subquery,
    Value,
    When,
)
from django.db.models.functions import Coalesce, Greatest
from django.utils import timezone

from booking import slot_cache, slots, tokens
from booking.models import (
    BOOKING_MAX_BUSY,
    Booking,
    CancelledBecause,
    Closure,
    DateOverride,
    OpeningHours,
    Partner,
    Resource,
    ResourceAbsence,
    Service,
    ServiceStaff,
    StaffAbsence,
    StaffHours,
    StaffMember,
    SupportGrant,
)
from security.fieldcrypto import blind_index

# Busy ranges and overrides are loaded this far around a window: a partner-local day can reach
# 14 h beyond a UTC window and buffers add up to a day more.
_MARGIN = timedelta(days=2)
_MINUTE = timedelta(minutes=1)


def partner_get(*, slug: str) -> Partner | None:
    return Partner.objects.filter(slug=slug).first()


def service_list_active(*, partner: Partner) -> QuerySet[Service]:
    # The partner's wording per language, in one query for the whole list (Service.local_name).
    return (
        Service.objects.filter(partner=partner, is_active=True)
        .prefetch_related("translations")
        .order_by("name")
    )


def service_get_active(*, partner: Partner, slug: str) -> Service | None:
    return service_list_active(partner=partner).select_related("partner").filter(slug=slug).first()


def staff_for_service(*, service: Service) -> QuerySet[StaffMember]:
    """The active staff members of the service's partner who perform it, in display order: whom
    a customer may choose."""
    return StaffMember.objects.filter(
        partner_id=service.partner_id, is_active=True, service_links__service=service
    ).order_by("display_order", "pk")


def staff_of_partner(*, partner: Partner, staff_id: int) -> StaffMember | None:
    return StaffMember.objects.filter(partner=partner, pk=staff_id).first()


def staff_performs(*, service: Service, staff: StaffMember) -> bool:
    return staff_for_service(service=service).filter(pk=staff.pk).exists()


def service_rules(service: Service) -> slots.ServiceRules:
    return slots.ServiceRules(
        duration=timedelta(minutes=service.duration_minutes),
        buffer_before=timedelta(minutes=service.buffer_before_minutes),
        buffer_after=timedelta(minutes=service.buffer_after_minutes),
        min_notice=timedelta(minutes=service.min_notice_minutes),
        horizon_days=service.horizon_days,
        interval=timedelta(minutes=service.interval_minutes),
    )


@dataclass(frozen=True)
class PartnerHours:
    """Weekly hours (by weekday, Monday 0) and the overrides of some local dates, as the slot
    engine takes them."""

    weekly_hours: dict[int, list[slots.OpenRange]]
    overrides: dict[date, list[slots.OpenRange]]

    def ranges_on(self, day: date) -> list[slots.OpenRange]:
        return (
            self.overrides[day]
            if day in self.overrides
            else self.weekly_hours.get(day.weekday(), [])
        )


def partner_hours(*, partner: Partner, first: date, last: date) -> PartnerHours:
    """Weekly hours and the overrides of local dates first..last."""
    weekly: dict[int, list[slots.OpenRange]] = defaultdict(list)
    for row in OpeningHours.objects.filter(partner=partner).order_by("weekday", "start"):
        weekly[row.weekday].append(slots.OpenRange(row.start, row.end))
    overrides: dict[date, list[slots.OpenRange]] = {}
    for override in DateOverride.objects.filter(
        partner=partner, date__range=(first, last)
    ).prefetch_related("ranges"):
        overrides[override.date] = [slots.OpenRange(r.start, r.end) for r in override.ranges.all()]
    # A closure closes its days whatever the weekly hours or an override say: to the engine a
    # closed day is an override without ranges, so its answers stay exact.
    for closure in Closure.objects.filter(
        partner=partner, first_day__lte=last, last_day__gte=first
    ).only("first_day", "last_day"):
        day = max(closure.first_day, first)
        while day <= min(closure.last_day, last):
            overrides[day] = []
            day += timedelta(days=1)
    return PartnerHours(weekly_hours=dict(weekly), overrides=overrides)


def busy_intervals(
    *,
    partner: Partner,
    window_start: datetime,
    window_end: datetime,
    exclude_booking_id: int | None = None,
    now: datetime | None = None,
) -> list[slots.BusyInterval]:
    """The partner's blocking bookings (confirmed, and holds not yet expired at `now`) near the
    window, whoever has them. busy_start/busy_end already carry each booking's own service
    buffers (rule 2), so no buffers are added here."""
    rows = _blocking_near(
        Booking.objects.filter(partner=partner), window_start, window_end, exclude_booking_id, now
    )
    zero = timedelta(0)
    return [
        slots.BusyInterval(s, e, zero, zero) for s, e in rows.values_list("busy_start", "busy_end")
    ]


def _blocking_near(
    rows: QuerySet[Booking],
    window_start: datetime,
    window_end: datetime,
    exclude_booking_id: int | None,
    now: datetime | None,
) -> QuerySet[Booking]:
    """Blocking bookings whose busy range meets the window and its margin. The lower bound on
    busy_start is what the database constraint on a booking's length allows: with it, the
    indexes on (staff or resource, busy_start) of blocking rows read only the rows near the
    window, however many bookings the partner has."""
    lo, hi = window_start - _MARGIN, window_end + _MARGIN
    return _blocking(
        rows.filter(busy_start__gte=lo - BOOKING_MAX_BUSY, busy_start__lt=hi, busy_end__gt=lo),
        exclude_booking_id,
        now,
    )


def _blocking(
    rows: QuerySet[Booking], exclude_booking_id: int | None, now: datetime | None
) -> QuerySet[Booking]:
    """The blocking ones of `rows`: confirmed, and holds not yet expired at `now`."""
    rows = rows.filter(status__in=Booking.BLOCKING)
    if now is not None:  # an expired hold is released by the next write or the periodic job
        rows = rows.exclude(status=Booking.Status.PENDING_PAYMENT, hold_expires_at__lte=now)
    if exclude_booking_id is not None:
        rows = rows.exclude(pk=exclude_booking_id)
    return rows.order_by()  # the engine merges the intervals itself: no sort in the database


# A hold's expiry (its row blocks only until then); None for a confirmed booking.
_HOLD_UNTIL = Case(
    When(status=Booking.Status.PENDING_PAYMENT, then=F("hold_expires_at")),
    default=None,
    output_field=DateTimeField(),
)


def blocking_rows(
    key: str,
    ids: Collection[int],
    window_start: datetime,
    window_end: datetime,
    *,
    exclude_booking_id: int | None,
    now: datetime | None,
) -> QuerySet[Booking, tuple[int, Any, Any, Any, datetime | None]]:
    """(owner, start, busy_start, busy_end, hold expiry or None) of the blocking bookings of
    the staff members or resources `ids` (`key`: "staff_id" or "resource_id") whose busy range
    meets the window and its margin, unordered: only the columns the engine needs. On
    PostgreSQL the three instants come as microseconds since the epoch (_instant() makes
    datetimes of either)."""
    rows = _blocking_near(
        Booking.objects.filter(**{f"{key}__in": list(ids)}),
        window_start,
        window_end,
        exclude_booking_id,
        now,
    )
    if connection.vendor != "postgresql":
        return rows.values_list(key, "start", "busy_start", "busy_end", _HOLD_UNTIL)
    # Integers (microseconds since the epoch) rather than timestamptz: psycopg parses each
    # timestamp's text in Python, which was half the time of loading a busy month.
    return rows.annotate(
        start_us=_EpochMicros("start"),
        busy_start_us=_EpochMicros("busy_start"),
        busy_end_us=_EpochMicros("busy_end"),
    ).values_list(key, "start_us", "busy_start_us", "busy_end_us", _HOLD_UNTIL)


class _EpochMicros(Func):
    """A timestamptz column as whole microseconds since the epoch (PostgreSQL)."""

    template = "(EXTRACT(EPOCH FROM %(expressions)s) * 1000000)::bigint"
    output_field = BigIntegerField()


_EPOCH = datetime(1970, 1, 1, tzinfo=UTC)
_MICROSECOND = timedelta(microseconds=1)


def _instant(value: datetime | int) -> datetime:
    return value if isinstance(value, datetime) else _EPOCH + value * _MICROSECOND


@dataclass
class Busy:
    """Blocking bookings grouped by staff or resource id (every id present), and when the first
    hold among them runs out (then they are no longer all busy)."""

    by_owner: dict[int, list[slots.BusyInterval]]
    holds_until: datetime | None
    # Bookings per local date by owner, where they were counted apart from by_owner.
    day_load: dict[int, dict[date, int]] | None = None


def busy_by_owner(
    key: str,
    ids: Collection[int],
    window_start: datetime,
    window_end: datetime,
    *,
    exclude_booking_id: int | None,
    now: datetime | None,
) -> Busy:
    """Each interval runs from the booking's start (the day it counts on for "anyone") to its
    busy end, with its own buffer before as the difference: the engine widens exactly its busy
    range."""
    out: dict[int, list[slots.BusyInterval]] = {owner: [] for owner in ids}
    zero = timedelta(0)
    until: datetime | None = None
    for owner, start, busy_start, busy_end, hold_until in blocking_rows(
        key, ids, window_start, window_end, exclude_booking_id=exclude_booking_id, now=now
    ):
        start, busy_start, busy_end = _instant(start), _instant(busy_start), _instant(busy_end)
        out[owner].append(slots.BusyInterval(start, busy_end, start - busy_start, zero))
        if hold_until is not None and (until is None or hold_until < until):
            until = hold_until
    return Busy(out, until)


def busy_in_hours(
    key: str,
    ids: Collection[int],
    window_start: datetime,
    window_end: datetime,
    *,
    zone: ZoneInfo,
    open_ranges: list[tuple[datetime, datetime]],
    exclude_booking_id: int | None,
    now: datetime | None,
    load: bool = True,
) -> Busy:
    """What busy_by_owner gives the engine, for the engine's answers only, without the per-row
    Python work: the busy ranges (buffers of their own service included) of the bookings of
    busy_by_owner that meet `open_ranges` (UTC, sorted: the partner's open ranges of the dates
    the engine looks at, each widened by the asking service's buffers), as intervals without
    buffers; the bookings per local date of `zone` of all of them (the load "anyone" goes by);
    and the first hold's expiry among all of them. Every start the engine offers, and the
    resource time it needs, lies in the partner's open ranges (a person's hours are met with
    the partner's), so a busy range that, widened, does not meet them changes no answer; and
    an interval [busy_start, busy_end) without buffers widens exactly as the booking did. On
    PostgreSQL the database filters and counts, and only epoch numbers cross into Python.

    load False: the day's bookings are not counted (every day_load is empty), for a caller that
    wants the free starts only, not whom each goes to: whether a start is free for someone does
    not depend on the order in which "anyone" tries the people."""
    if not ids:
        return Busy({}, None, {})
    lo, hi = window_start - _MARGIN, window_end + _MARGIN
    # Local midnights enclosing every loaded start (busy_start >= lo - BOOKING_MAX_BUSY, start <
    # busy_end <= busy_start + BOOKING_MAX_BUSY < hi + BOOKING_MAX_BUSY): day i is days[i - 1].
    day = (lo - BOOKING_MAX_BUSY).astimezone(zone).date()
    days: list[date] = []
    while day <= (hi + BOOKING_MAX_BUSY).astimezone(zone).date() + timedelta(days=1):
        days.append(day)
        day += timedelta(days=1)
    midnights = [slots.local_midnight(zone, d) for d in days]
    read = _busy_in_hours_sql if connection.vendor == "postgresql" else _busy_in_hours_python
    intervals, counts, until = read(
        key,
        ids,
        window_start,
        window_end,
        open_ranges,
        midnights if load else None,
        exclude_booking_id,
        now,
    )
    zero, epoch, micro, interval = timedelta(0), _EPOCH, _MICROSECOND, slots.BusyInterval
    out: dict[int, list[slots.BusyInterval]] = {owner: [] for owner in ids}
    for owner, (busy_starts, busy_ends) in intervals.items():  # thousands in a busy month
        out[owner] = [
            interval(epoch + x * micro, epoch + y * micro, zero, zero)
            for x, y in zip(busy_starts, busy_ends, strict=True)
        ]
    day_load: dict[int, dict[date, int]] = {owner: {} for owner in ids}
    for owner, bucket, count in counts:
        day_load[owner][days[bucket - 1]] = count
    return Busy(out, None if until is None else _instant(until), day_load)


# The intervals' busy starts and ends by owner; (owner, day bucket, bookings) of the counts;
# the first hold's expiry or None; instants as microseconds since the epoch.
_InHours = tuple[dict[int, tuple[list[int], list[int]]], list[tuple[int, int, int]], int | None]


def _busy_in_hours_python(
    key: str,
    ids: Collection[int],
    window_start: datetime,
    window_end: datetime,
    spans: list[tuple[datetime, datetime]],
    midnights: list[datetime] | None,
    exclude_booking_id: int | None,
    now: datetime | None,
) -> _InHours:
    """busy_in_hours' rows worked out in Python (SQLite, the embedded database); midnights None:
    no counts."""
    span_starts = [_micros(a) for a, _ in spans]
    span_ends = [_micros(b) for _, b in spans]
    day_starts = None if midnights is None else [_micros(m) for m in midnights]
    intervals: dict[int, tuple[list[int], list[int]]] = {}
    counts: dict[tuple[int, int], int] = {}
    until: int | None = None
    for owner, start, busy_start, busy_end, hold_until in blocking_rows(
        key, ids, window_start, window_end, exclude_booking_id=exclude_booking_id, now=now
    ):
        x, y = _micros(_instant(busy_start)), _micros(_instant(busy_end))
        i = bisect_right(span_ends, x)  # the first open range ending after the busy start
        if i < len(span_starts) and span_starts[i] < y:
            starts, ends = intervals.setdefault(owner, ([], []))
            starts.append(x)
            ends.append(y)
        if day_starts is not None:
            day = (owner, bisect_right(day_starts, _micros(_instant(start))))
            counts[day] = counts.get(day, 0) + 1
        if hold_until is not None:
            held = _micros(hold_until)
            until = held if until is None else min(until, held)
    return intervals, [(owner, bucket, n) for (owner, bucket), n in counts.items()], until


def _busy_in_hours_sql(
    key: str,
    ids: Collection[int],
    window_start: datetime,
    window_end: datetime,
    spans: list[tuple[datetime, datetime]],
    midnights: list[datetime] | None,
    exclude_booking_id: int | None,
    now: datetime | None,
) -> _InHours:
    """busy_in_hours' rows worked out by PostgreSQL: the rows of blocking_rows() read once,
    those meeting the open ranges and (unless midnights is None) the bookings per owner and day
    (width_bucket over the local midnights: the same days as Python's zone gives)."""
    rows = _blocking_near(
        Booking.objects.filter(**{f"{key}__in": list(ids)}),
        window_start,
        window_end,
        exclude_booking_id,
        now,
    ).annotate(hold=_HOLD_UNTIL)
    inner, params = rows.values_list(
        key, "start", "busy_start", "busy_end", "hold"
    ).query.sql_with_params()
    # The rows stay timestamps inside the database (the overlap and the day are worked out on
    # them); only the busy ranges that meet the open ranges, and the first hold's expiry, go to
    # Python, as microseconds since the epoch (psycopg parses a timestamp's text in Python).
    epoch = EPOCH_MICROS_SQL
    # A busy range meets the open ranges (sorted, disjoint) when the first of them ending after
    # its start begins before its end: width_bucket finds that one by bisection, as Python's
    # bisect_right does in _busy_in_hours_python.
    span_starts = [a for a, _ in spans]
    span_ends = [b for _, b in spans]
    # One row per owner with its intervals as two arrays (a row costs psycopg more than an
    # array element), then one per owner and day with its count and first hold's expiry.
    # Without counts, one pass: per owner its intervals and its first hold's expiry.
    meets = "(%s::timestamptz[])[width_bucket(bs, %s::timestamptz[]) + 1] < be"

    def arrays_of(only: str = "") -> str:  # the busy starts and ends as two arrays
        return ", ".join(f"array_agg({epoch.format(column)}){only}" for column in ("bs", "be"))

    intervals_of, in_hours_of = arrays_of(), arrays_of(" FILTER (WHERE m)")
    first_hold = epoch.format("min(h)")
    # Our own constant texts around the ORM's SQL: no input goes into them.
    if midnights is None:
        sql = (
            f"SELECT owner, NULL, NULL, {first_hold}, "  # noqa: S608  # nosec B608
            f"{in_hours_of} FROM (SELECT owner, h, bs, be, {meets} AS m "
            f"FROM ({inner}) AS b (owner, s, bs, be, h)) AS b GROUP BY owner"
        )
    else:
        sql = (
            f"WITH b (owner, s, bs, be, h) AS ({inner}) "  # noqa: S608  # nosec B608
            f"SELECT owner, NULL::bigint, NULL::bigint, NULL::bigint, "
            f"{intervals_of} FROM b WHERE {meets} GROUP BY owner "
            "UNION ALL SELECT owner, width_bucket(s, %s::timestamptz[])::bigint, count(*), "
            f"{first_hold}, NULL, NULL FROM b GROUP BY owner, 2"
        )
    spans_in = [span_starts, span_ends]
    if midnights is None:  # the open ranges before the ORM's SQL in the text
        arguments = [*spans_in, *params]
    else:
        arguments = [*params, *spans_in, midnights]
    intervals: dict[int, tuple[list[int], list[int]]] = {}
    counts: list[tuple[int, int, int]] = []
    until: int | None = None
    with connection.cursor() as cursor:
        cursor.execute(sql, arguments)
        for owner, bucket, count, held, starts, ends in cursor.fetchall():
            if starts is not None:
                intervals[owner] = (starts, ends)
            if bucket is not None:
                counts.append((owner, bucket, count))
            if held is not None and (until is None or held < until):
                until = held
    return intervals, counts, until


# A timestamptz as whole microseconds since the epoch, through a double: cheaper than EXTRACT,
# whose numeric result is slow to multiply and cast, and exact until the year 2100 (the double
# nearest the seconds is within 0.12 us, the product within 0.13 us more, and round() takes the
# nearest whole microsecond; tests.booking.test_busy_in_hours checks it).
EPOCH_MICROS_SQL = "round(date_part('epoch', {}) * 1000000)::bigint"


def _micros(t: datetime) -> int:
    return (t - _EPOCH) // _MICROSECOND


@dataclass(frozen=True)
class BusyAtStart:
    """What the engine needs of the bookings of `ids` to decide one start of `service` (lasting
    at most `longest`), read as one aggregate row per owner over the start's partner-local day,
    not the days around it: the day's bookings (the load "anyone" goes by); the latest busy end
    before the start that day (where the free time holding the start began, hence its grid);
    and the busy ranges that, widened by the service's buffers, meet [start, start + longest)
    (their hull: the first of them decides). Each comes back as an interval the engine widens
    exactly as the bookings behind it, so its answer at `start` is the one all the bookings
    around it give.

    In two steps: prepare() builds and compiles the query, read() runs it and reads the
    bookings as they are then. A booking write prepares before the partner lock and reads under
    it: building and compiling the query costs about three times as much as running it, and
    every other booking of the partner waits while the lock is held."""

    ids: tuple[int, ...]
    day: date
    compiler: Any  # the query's SQLCompiler: it converts the database's values as the ORM does
    sql: str
    params: tuple[Any, ...]

    @classmethod
    def prepare(
        cls,
        key: str,
        ids: Collection[int],
        service: Service,
        start: datetime,
        longest: timedelta,
        *,
        exclude_booking_id: int | None,
        now: datetime | None,
    ) -> BusyAtStart:
        rules = service_rules(service)
        zone = service.partner.zone
        touch_lo = start - rules.buffer_before  # a busy end after it reaches into the start
        touch_hi = start + longest + rules.buffer_after  # a busy start before it reaches the end
        day = start.astimezone(zone).date()
        day_lo = slots.local_midnight(zone, day)
        day_hi = slots.local_midnight(zone, day + timedelta(days=1))
        meets = Q(busy_end__gt=touch_lo, busy_start__lt=touch_hi)
        lo = min(day_lo, touch_lo)
        if not ids:
            return cls((), day, None, "", ())
        rows = (
            _blocking(Booking.objects.filter(**{f"{key}__in": list(ids)}), exclude_booking_id, now)
            .filter(busy_start__gte=_reaching(key, ids, lo), busy_start__lt=max(day_hi, touch_hi))
            .values(key)
            .annotate(
                n=Count("pk", filter=Q(start__gte=day_lo, start__lt=day_hi)),
                before=Max("busy_end", filter=Q(busy_end__gt=day_lo, busy_end__lte=touch_lo)),
                first=Min("busy_start", filter=meets),
                last=Max("busy_end", filter=meets),
            )
            .values_list(key, "n", "before", "first", "last")
        )
        compiler = rows.query.get_compiler(using=rows.db)
        sql, params = compiler.as_sql()
        return cls(tuple(ids), day, compiler, sql, tuple(params))

    def read(self) -> Busy:
        if not self.ids:
            return Busy({}, None, {})
        with connections[self.compiler.using].cursor() as cursor:
            cursor.execute(self.sql, self.params)
            fetched = cursor.fetchall()
        zero, tick = timedelta(0), timedelta(microseconds=1)
        out: dict[int, list[slots.BusyInterval]] = {owner: [] for owner in self.ids}
        load: dict[int, dict[date, int]] = {owner: {} for owner in self.ids}
        # The ORM's own conversion of the values (SQLite gives text), in the query's column order.
        for owner, count, before, first, last in self.compiler.results_iter(
            results=[fetched], tuple_expected=True
        ):
            load[owner] = {self.day: count}
            if before is not None:  # widened as the booking ending there: up to before + buffer
                out[owner].append(slots.BusyInterval(before - tick, before, zero, zero))
            if first is not None:  # widened from first - buffer after, as the first booking
                out[owner].append(slots.BusyInterval(first, last, zero, zero))
        return Busy(out, None, load)


def _reaching(key: str, ids: Collection[int], lo: datetime) -> Greatest:
    """The earliest busy start a blocking booking of `ids` reaching past `lo` can have, as one
    expression the database works out first. Blocking bookings of one owner never overlap (the
    exclusion constraints; on SQLite the check under the write lock), so only each owner's last
    one starting before `lo` can reach past it: one step back on the index per owner instead of
    the BOOKING_MAX_BUSY before `lo` (never earlier than that)."""
    owners = StaffMember if key == "staff_id" else Resource
    last_before = (
        Booking.objects.filter(
            **{key: OuterRef("pk")}, status__in=Booking.BLOCKING, busy_start__lt=lo
        )
        .order_by("-busy_start")
        .values("busy_start")[:1]
    )
    earliest = (
        owners.objects.filter(pk__in=list(ids))
        .annotate(last=Subquery(last_before))
        .values("partner_id")
        .annotate(earliest=Min("last"))
        .values("earliest")
    )
    return Greatest(
        Value(lo - BOOKING_MAX_BUSY, output_field=DateTimeField()),
        Coalesce(Subquery(earliest), Value(lo, output_field=DateTimeField())),
    )


def _absences_by(
    model: type[StaffAbsence] | type[ResourceAbsence],
    key: str,
    ids: list[int],
    window_start: datetime,
    window_end: datetime,
) -> dict[int, list[tuple[datetime, datetime]]]:
    out: dict[int, list[tuple[datetime, datetime]]] = defaultdict(list)
    for owner, a, b in model.objects.filter(
        **{f"{key}__in": ids},
        starts_at__lt=window_end + _MARGIN,
        ends_at__gt=window_start - _MARGIN,
    ).values_list(key, "starts_at", "ends_at"):
        out[owner].append((a, b))
    return out


@dataclass(frozen=True)
class TeamCalendars:
    """Everything the engine needs about the people and resources of one service near a window:
    a fixed number of queries, whatever the number of staff, resources or bookings."""

    staff: list[slots.StaffCalendar]
    resources: list[slots.ResourceCalendar] | None  # None: the service needs no resource
    # When the first hold counted as busy runs out (then the answer changes), or None.
    holds_until: datetime | None = None


def team_calendars(
    *,
    service: Service,
    window_start: datetime,
    window_end: datetime,
    now: datetime | None,
    staff: StaffMember | None = None,
    exclude_booking_id: int | None = None,
    with_bookings: bool = True,
    hours: PartnerHours | None = None,
    load: bool = True,
) -> TeamCalendars:
    """The calendars of the staff who may take `service` (only `staff`, if given: their own
    calendar, or none if they may not) and of the resources of its required kind.

    with_bookings False: without their bookings (SlotCheck adds them under the partner lock).
    hours: the partner's hours of the window and its margin, as the engine will be given them:
    then only the bookings that can block a start in them are loaded as intervals
    (busy_in_hours), with the day's load counted apart (load False: not counted, for the free
    starts only)."""
    links = ServiceStaff.objects.filter(
        service=service, staff__is_active=True, staff__partner_id=service.partner_id
    )
    if staff is not None:
        links = links.filter(staff=staff)
    people = list(
        links.values_list(
            "staff_id", "staff__display_order", "duration_minutes", "staff__works_opening_hours"
        ).order_by("staff__display_order", "staff_id")
    )
    ids = [p[0] for p in people]
    weekly: dict[int, dict[int, list[slots.OpenRange]]] = defaultdict(lambda: defaultdict(list))
    for staff_id, weekday, start, end in StaffHours.objects.filter(staff_id__in=ids).values_list(
        "staff_id", "weekday", "start", "end"
    ):
        weekly[staff_id][weekday].append(slots.OpenRange(start, end))

    open_ranges = None
    if hours is not None:
        zone, rules = service.partner.zone, service_rules(service)
        open_ranges = [
            (a - rules.buffer_before, b + rules.buffer_after)
            for a, b in slots.open_ranges_utc(
                zone,
                hours.weekly_hours,
                hours.overrides,
                # The dates compute_slots takes its ranges from, whatever `now` is.
                window_start.astimezone(zone).date() - timedelta(days=1),
                window_end.astimezone(zone).date(),
            )
        ]

    def busy_of(key: str, owners: list[int]) -> Busy:
        if not with_bookings:
            return Busy({owner: [] for owner in owners}, None)
        if open_ranges is not None:
            return busy_in_hours(
                key,
                owners,
                window_start,
                window_end,
                zone=service.partner.zone,
                open_ranges=open_ranges,
                exclude_booking_id=exclude_booking_id,
                now=now,
                load=load,
            )
        return busy_by_owner(
            key, owners, window_start, window_end, exclude_booking_id=exclude_booking_id, now=now
        )

    busy = busy_of("staff_id", ids)
    away = _absences_by(StaffAbsence, "staff_id", ids, window_start, window_end)
    calendars = [
        slots.StaffCalendar(
            id=staff_id,
            weekly_hours=None if opening_hours else dict(weekly[staff_id]),
            busy=busy.by_owner[staff_id],
            absences=away[staff_id],
            order=order,
            duration=timedelta(minutes=minutes) if minutes else None,
            day_load=None if busy.day_load is None else busy.day_load[staff_id],
        )
        for staff_id, order, minutes, opening_hours in people
    ]
    if not service.required_resource_kind:
        return TeamCalendars(staff=calendars, resources=None, holds_until=busy.holds_until)
    resource_ids = list(
        Resource.objects.filter(
            partner_id=service.partner_id, kind=service.required_resource_kind, is_active=True
        )
        .order_by("name", "pk")
        .values_list("pk", flat=True)
    )
    resource_busy = busy_of("resource_id", resource_ids)
    resource_away = _absences_by(
        ResourceAbsence, "resource_id", resource_ids, window_start, window_end
    )
    return TeamCalendars(
        staff=calendars,
        resources=[
            slots.ResourceCalendar(id=r, busy=resource_busy.by_owner[r], absences=resource_away[r])
            for r in resource_ids
        ],
        holds_until=min(
            (t for t in (busy.holds_until, resource_busy.holds_until) if t is not None),
            default=None,
        ),
    )


def service_slot_assignments(
    *,
    service: Service,
    window_start: datetime,
    window_end: datetime,
    now: datetime,
    staff: StaffMember | None = None,
    exclude_booking_id: int | None = None,
) -> dict[datetime, slots.Assignment]:
    """Free start times (UTC) of `service` in [window_start, window_end), with `staff` or (None)
    anyone who performs it, each with the person and resource it would go to."""
    hours = _hours_around(service, window_start, window_end)
    team = team_calendars(
        service=service,
        window_start=window_start,
        window_end=window_end,
        now=now,
        staff=staff,
        exclude_booking_id=exclude_booking_id,
        hours=hours,
    )
    return _compute(service, hours, team, window_start, window_end, now)


def service_slots(
    *,
    service: Service,
    window_start: datetime,
    window_end: datetime,
    now: datetime,
    staff: StaffMember | None = None,
    exclude_booking_id: int | None = None,
) -> list[datetime]:
    """Free start times (UTC) of `service` in [window_start, window_end)."""
    return list(
        service_slot_assignments(
            service=service,
            window_start=window_start,
            window_end=window_end,
            now=now,
            staff=staff,
            exclude_booking_id=exclude_booking_id,
        )
    )


# The longest horizon a service may have (Service.horizon_days) plus a day of zone slack: a window
# entirely beyond it, or entirely past, cannot hold a slot, so the engine is not asked.
_FURTHEST = timedelta(days=731)


def free_starts_by_local_day(
    *,
    service: Service,
    zone: ZoneInfo,
    first: date,
    last: date,
    now: datetime,
    staff: StaffMember | None = None,
    exclude_booking_id: int | None = None,
    slots_version: int | None = None,
) -> dict[date, list[datetime]]:
    """The free start times (UTC, sorted) of `service` on the customer-local dates first..last of
    `zone`, every date present (an empty list for a day without slots), in order. What the
    booking pages, the reschedule page and the widget API show. Raises OverflowError for dates
    at the ends of the calendar (callers validate dates first).

    Later days come from the shared cache (booking.slot_cache). `slots_version`: the partner's
    version as loaded at the start of this request, before anything else (a page's partner);
    None reads it now (one query)."""
    window_start = slots.local_midnight(zone, first)
    window_end = slots.local_midnight(zone, last + timedelta(days=1))
    found: list[datetime] = []
    if window_end > now and window_start < now + _FURTHEST and exclude_booking_id is None:
        found = _cached_slots(service, staff, window_start, window_end, now, slots_version)
    elif window_end > now and window_start < now + _FURTHEST:
        found = service_slots(
            service=service,
            window_start=window_start,
            window_end=window_end,
            now=now,
            staff=staff,
            exclude_booking_id=exclude_booking_id,
        )
    by_day = slots.group_by_local_date(found, zone)
    days: dict[date, list[datetime]] = {}
    day = first
    while day <= last:
        days[day] = sorted(by_day.get(day, []))
        day += timedelta(days=1)
    return days


def _cached_slots(
    service: Service,
    staff: StaffMember | None,
    window_start: datetime,
    window_end: datetime,
    now: datetime,
    version: int | None,
) -> list[datetime]:
    """service_slots through the shared cache (booking.slot_cache)."""
    if version is None:  # read first: the answer is loaded after it
        version = slot_cache.version(service.partner_id)

    def compute(a: datetime, b: datetime) -> tuple[list[datetime], datetime | None]:
        hours = _hours_around(service, a, b)
        team = team_calendars(
            service=service,
            window_start=a,
            window_end=b,
            now=now,
            staff=staff,
            hours=hours,
            load=False,  # the starts only: whom each would go to is not asked
        )
        return list(_compute(service, hours, team, a, b, now)), team.holds_until

    return slot_cache.free_starts(
        service=service,
        rules=service_rules(service),
        staff_id=None if staff is None else staff.pk,
        ver=version,
        window_start=window_start,
        window_end=window_end,
        now=now,
        compute=compute,
    )


class SlotStatus(enum.Enum):
    OFFERED = "offered"
    NOT_OFFERED = "not_offered"  # never a slot: past, closed, misaligned, beyond the horizon
    TAKEN = "taken"  # a slot, but another booking holds it now


@dataclass(frozen=True)
class SlotCheck:
    """Whether one start of a service is offered, and to whom, in two steps: everything but the
    bookings is read first (hours, people, their hours and absences, resources: no writer of
    those takes the partner lock, so reading them under it guarded nothing), and the bookings'
    query is built then too; decide() reads the bookings, under the partner lock when a booking
    is written."""

    service: Service
    start: datetime
    now: datetime
    hours: PartnerHours
    team: TeamCalendars
    people: BusyAtStart  # the bookings of the team's people, prepared
    things: BusyAtStart | None  # and of its resources, where the service needs one

    @classmethod
    def prepare(
        cls,
        *,
        service: Service,
        start: datetime,
        now: datetime,
        staff: StaffMember | None = None,
        exclude_booking_id: int | None = None,
    ) -> SlotCheck:
        window_end = start + _MINUTE
        hours = _hours_around(service, start, window_end)
        team = team_calendars(
            service=service,
            window_start=start,
            window_end=window_end,
            now=now,
            staff=staff,
            with_bookings=False,
        )
        default = timedelta(minutes=service.duration_minutes)
        longest = max((c.duration or default for c in team.staff), default=default)

        def busy(key: str, ids: list[int]) -> BusyAtStart:
            return BusyAtStart.prepare(
                key,
                ids,
                service,
                start,
                longest,
                exclude_booking_id=exclude_booking_id,
                now=now,
            )

        return cls(
            service=service,
            start=start,
            now=now,
            hours=hours,
            team=team,
            people=busy("staff_id", [c.id for c in team.staff]),
            things=(
                None
                if team.resources is None
                else busy("resource_id", [r.id for r in team.resources])
            ),
        )

    def decide(self) -> tuple[SlotStatus, slots.Assignment | None]:
        """Whether the start is offered (with whom), and if not, whether it is no slot at all
        (400) or just taken (409): a start that someone would offer with an empty calendar is
        "taken". The bookings come from BusyAtStart: one aggregate row per owner."""
        service, start, now, team = self.service, self.start, self.now, self.team
        window_end = start + _MINUTE
        people = self.people.read()
        load = people.day_load or {}
        resources = None
        if team.resources is not None and self.things is not None:
            things = self.things.read().by_owner
            resources = [replace(r, busy=things[r.id]) for r in team.resources]
        booked = TeamCalendars(
            staff=[
                replace(c, busy=people.by_owner[c.id], day_load=load.get(c.id, {}))
                for c in team.staff
            ],
            resources=resources,
        )
        found = _compute(service, self.hours, booked, start, window_end, now)
        if start in found:
            return SlotStatus.OFFERED, found[start]
        # Without the bookings (absences stay: an absent person's time is not offered at all,
        # nor a service needing a kind of resource the partner does not have).
        if start in _compute(service, self.hours, team, start, window_end, now):
            return SlotStatus.TAKEN, None
        return SlotStatus.NOT_OFFERED, None


def service_slot_assignment(
    *,
    service: Service,
    start: datetime,
    now: datetime,
    staff: StaffMember | None = None,
    exclude_booking_id: int | None = None,
) -> tuple[SlotStatus, slots.Assignment | None]:
    """SlotCheck in one go: whether `start` is offered (with whom), taken, or no slot at all."""
    return SlotCheck.prepare(
        service=service, start=start, now=now, staff=staff, exclude_booking_id=exclude_booking_id
    ).decide()


def service_slot_status(
    *,
    service: Service,
    start: datetime,
    now: datetime,
    staff: StaffMember | None = None,
    exclude_booking_id: int | None = None,
) -> SlotStatus:
    status, _assignment = service_slot_assignment(
        service=service, start=start, now=now, staff=staff, exclude_booking_id=exclude_booking_id
    )
    return status


def _hours_around(service: Service, window_start: datetime, window_end: datetime) -> PartnerHours:
    zone = service.partner.zone
    return partner_hours(
        partner=service.partner,
        first=(window_start - _MARGIN).astimezone(zone).date(),
        last=(window_end + _MARGIN).astimezone(zone).date(),
    )


def _compute(
    service: Service,
    hours: PartnerHours,
    team: TeamCalendars,
    window_start: datetime,
    window_end: datetime,
    now: datetime,
) -> dict[datetime, slots.Assignment]:
    return slots.compute_team_slots(
        zone=service.partner.zone,
        weekly_hours=hours.weekly_hours,
        overrides=hours.overrides,
        staff=team.staff,
        resources=team.resources,
        service=service_rules(service),
        window_start=window_start,
        window_end=window_end,
        now=now,
    )


def service_is_paid(service: Service) -> bool:
    """A service with a price above zero is booked as a hold and confirmed by its payment."""
    return service.price is not None and service.price > 0


def payments_enabled() -> bool:
    """Whether the payment provider is configured (settings.PAYMENTS_ENABLED, from its keys)."""
    return bool(settings.PAYMENTS_ENABLED)


def holds_expired(*, now: datetime, limit: int = 500) -> QuerySet[Booking]:
    """Holds whose time ran out unpaid, oldest first: what the periodic job releases."""
    return Booking.objects.filter(
        status=Booking.Status.PENDING_PAYMENT, hold_expires_at__lte=now
    ).order_by("hold_expires_at", "pk")[:limit]


def booking_change_refusal(*, booking: Booking, now: datetime) -> str | None:
    """Why the customer may no longer cancel or reschedule `booking`, or None if they may.
    The manage page and the services use this one rule, so they never disagree."""
    if booking.status == Booking.Status.CANCELLED:
        return "This booking is already cancelled."
    if booking.start <= now:
        return "This booking has already started and can no longer be changed."
    hours = booking.partner.cancellation_cutoff_hours
    if now > booking.start - timedelta(hours=hours):
        return f"Changes are possible until {hours} hours before the appointment. Please contact the business directly."
    return None


def booking_get_by_token(*, token: str, now: datetime | None = None) -> Booking | None:
    """The booking a manage link opens, or None: unknown, forged, revoked (an older link
    version) or expired (30 days after the appointment) links all look the same.

    A derived link names its booking; after a move by the business the link follows the booking
    to its new time (a move by the customer gave the old row a new version, so there is nothing
    to follow). An old random link is found by its hash, which a move carries along."""
    if not token or len(token) > 100:
        return None
    now = now or timezone.now()
    rows = Booking.objects.select_related(
        "service", "partner", "staff", "resource", "rescheduled_from"
    )
    derived = tokens.parse_derived(token)
    booking: Booking | None
    if derived is not None:
        booking = rows.filter(pk=derived.booking_id).first()
        if booking is None or not derived.matches(booking.manage_link_version):
            return None
        for _hop in range(MAX_MOVES):
            if booking.cancelled_because != CancelledBecause.RESCHEDULED:
                break
            successor = rows.filter(rescheduled_from_id=booking.pk).first()
            if successor is None:
                break
            booking = successor
    elif tokens.is_legacy(token):
        booking = rows.filter(manage_token_hash=tokens.hash_manage_token(token)).first()
    else:
        return None
    if booking is None or booking.end + tokens.MANAGE_LINK_LIFETIME_AFTER_END <= now:
        return None
    return booking


def booking_upcoming_ids_for_email(*, partner: Partner, email: str, now: datetime) -> list[int]:
    """The customer's bookings ahead at this partner that a manage link is useful for:
    confirmed ones, and holds still awaiting payment. No address finds nothing (bookings by
    hand without an email have an empty index)."""
    if not email.strip():
        return []
    return list(
        # The email is encrypted at rest (C26): found through its keyed blind index, which is
        # case-insensitive like the address match it replaces.
        Booking.objects.filter(
            partner=partner, customer_email_index=blind_index(email.strip()), start__gt=now
        )
        .filter(
            Q(status=Booking.Status.CONFIRMED)
            | Q(status=Booking.Status.PENDING_PAYMENT, hold_expires_at__gt=now)
        )
        .order_by("start")
        .values_list("pk", flat=True)[:_MAX_LINKS_PER_EMAIL]
    )


# One email lists at most this many bookings (a bound on what one request can make us send).
_MAX_LINKS_PER_EMAIL = 20


def email_fingerprint(email: str) -> str:
    """A keyed hash of an email address (lower-cased): the same address gives the same value,
    so the security log and the rate limiter can count requests for it without holding it."""
    key = settings.MANAGE_LINK_KEY.encode("utf-8")
    message = b"email-fingerprint|" + email.strip().lower().encode("utf-8", "surrogatepass")
    return hmac.new(key, message, hashlib.sha256).hexdigest()[:32]


# A link follows at most this many moves by the business (a bound, not a rule anyone meets).
MAX_MOVES = 50


# --- The partner admin ---------------------------------------------------------------------


def support_grants_active(*, user_id: int, now: datetime) -> dict[int, SupportGrant]:
    """The support user's grants in force now, by partner id (the latest grant per partner)."""
    grants: dict[int, SupportGrant] = {}
    rows = SupportGrant.objects.filter(
        granted_to_id=user_id, revoked_at__isnull=True, created_at__lte=now, expires_at__gt=now
    ).order_by("created_at")
    for grant in rows:
        grants[grant.partner_id] = grant
    return grants


@dataclass(frozen=True)
class WeekDay:
    date: date
    ranges: list[slots.OpenRange]  # opening ranges of the day (an override's, if any)
    is_override: bool
    bookings: list[Booking]


@dataclass(frozen=True)
class PartnerWeek:
    days: list[WeekDay]
    start: datetime  # local Monday 00:00, as an aware instant
    end: datetime  # the next local Monday 00:00
    bookings: list[Booking]


def partner_week(
    *, partner: Partner, monday: date, staff_ids: Collection[int] | None = None
) -> PartnerWeek:
    """The partner's week from local `monday`: its blocking and cancelled bookings starting in
    the week (of the staff members `staff_ids` only, if given), and each day's opening ranges
    (overrides applied). Four queries, whatever the number of bookings. Raises OverflowError for a week at the ends of the calendar (the
    calendar view validates its dates first)."""
    zone = partner.zone
    days = [monday + timedelta(days=n) for n in range(7)]
    # Local midnights, each converted on its own: a week with a clock change is 167 or 169 hours.
    start = slots.local_midnight(zone, days[0])
    end = slots.local_midnight(zone, days[-1] + timedelta(days=1))
    rows = Booking.objects.filter(partner=partner, start__gte=start, start__lt=end)
    if staff_ids is not None:
        rows = rows.filter(staff_id__in=staff_ids)
    # The payment (payments' reverse one-to-one, by name: booking never imports payments) in
    # the same query: the calendar shows each booking's payment state.
    bookings = list(rows.select_related("service", "payment").order_by("start", "pk"))
    hours = partner_hours(partner=partner, first=days[0], last=days[-1])
    by_day: dict[date, list[Booking]] = {day: [] for day in days}
    for booking in bookings:
        local_day = booking.start.astimezone(zone).date()
        if local_day in by_day:
            by_day[local_day].append(booking)
    return PartnerWeek(
        days=[
            WeekDay(
                date=day,
                ranges=hours.ranges_on(day),
                is_override=day in hours.overrides,
                bookings=by_day[day],
            )
            for day in days
        ],
        start=start,
        end=end,
        bookings=bookings,
    )


@dataclass(frozen=True)
class StaffDay:
    staff: StaffMember
    bookings: list[Booking]


@dataclass(frozen=True)
class OverviewDay:
    date: date
    staff: list[StaffDay]

    @property
    def count(self) -> int:
        return sum(len(s.bookings) for s in self.staff)


@dataclass(frozen=True)
class DayOverview:
    """A partner's day at a glance: today's and tomorrow's appointments per person, the unpaid
    holds still running and the latest cancellations."""

    days: list[OverviewDay]
    holds: list[Booking]
    cancellations: list[Booking]


def partner_day_overview(
    *,
    bookings: QuerySet[Booking],
    staff: QuerySet[StaffMember],
    zone: ZoneInfo,
    now: datetime,
    days: int = 2,
    recent: timedelta = timedelta(days=7),
    limit: int = 10,
) -> DayOverview:
    """`bookings` and `staff` are already limited to what the reader may see. Four queries,
    however many bookings there are."""
    today = now.astimezone(zone).date()
    dates = [today + timedelta(days=n) for n in range(days)]
    start, end = (
        slots.local_midnight(zone, dates[0]),
        slots.local_midnight(zone, today + timedelta(days=days)),
    )
    rows = list(
        bookings.filter(start__lt=end, end__gt=start)
        .exclude(status=Booking.Status.CANCELLED)
        .select_related("service", "staff")
        .order_by("start", "pk")
    )
    people = list(staff.filter(is_active=True).order_by("display_order", "name", "pk"))
    known = {p.pk for p in people}
    for booking in rows:  # someone inactive who still has bookings these days
        if booking.staff_id not in known:
            known.add(booking.staff_id)
            people.append(booking.staff)
    overview = []
    for day in dates:
        day_start, day_end = (
            slots.local_midnight(zone, day),
            slots.local_midnight(zone, day + timedelta(days=1)),
        )
        on_day = [b for b in rows if b.start < day_end and b.end > day_start]
        overview.append(
            OverviewDay(
                date=day,
                staff=[StaffDay(p, [b for b in on_day if b.staff_id == p.pk]) for p in people],
            )
        )
    holds = list(
        bookings.filter(status=Booking.Status.PENDING_PAYMENT, hold_expires_at__gt=now)
        .select_related("service", "staff")
        .order_by("hold_expires_at", "pk")[:limit]
    )
    cancellations = list(
        bookings.filter(status=Booking.Status.CANCELLED, cancelled_at__gte=now - recent)
        .exclude(cancelled_because=CancelledBecause.RESCHEDULED)
        .select_related("service", "staff")
        .order_by("-cancelled_at", "-pk")[:limit]
    )
    return DayOverview(days=overview, holds=holds, cancellations=cancellations)


def hold_to_resume(
    *,
    booking_id: int,
    link_version: str,
    service: Service,
    start: datetime,
    staff: StaffMember | None,
    email: str | None,
    now: datetime,
) -> Booking | None:
    """The customer's own live hold of exactly this slot, or None. `booking_id` and
    `link_version` come from the signed cookie set in the browser that made the hold, so knowing
    someone's email is not enough; `email` (None on the page before the form is sent) must be
    the hold's too, so a shared browser does not hand one person's hold to another."""
    hold = (
        Booking.objects.filter(
            pk=booking_id,
            manage_link_version=link_version,
            service=service,
            start=start,
            status=Booking.Status.PENDING_PAYMENT,
            hold_expires_at__gt=now,
        )
        .select_related("partner")
        .first()
    )
    if hold is None or (staff is not None and hold.staff_id != staff.pk):
        return None
    if email is not None and hold.customer_email_index != blind_index(email.strip()):
        return None
    return hold
