"""The weekly hours of the business or of one person, written as a whole week at once.

`weekly_hours_set` is the one write path of the weekly editor (booking/admin/hours.py). The
editor shows first which upcoming bookings the new hours would leave outside, and the owner
chooses to cancel them (each customer told, paid ones refunded) or to keep them, as for a
closure (booking.closures). In one transaction, under the partner lock:

1. Find the bookings outside the new hours again; refuse (CoveredChanged) when they are not the
   ones shown.
2. Replace the week's ranges (each row validated: end after start, 00:00 as the midnight that
   ends the day) and move the partner's slots version.
3. Cancel or keep the bookings outside, as chosen.
4. Write the HOURS_CHANGED security event, naming the actor, with the week as it is now.
"""

from __future__ import annotations

import logging
from collections.abc import Mapping, Sequence
from datetime import date, datetime, time, timedelta

from django.core.exceptions import ValidationError
from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from booking import selectors, slot_cache, slots
from booking.closures import ClosureResult, CoveredChoice, check_shown, settle_covered
from booking.events import BookingEvent
from booking.models import (
    MIDNIGHT,
    Booking,
    Closure,
    DateOverride,
    DateOverrideRange,
    OpeningHours,
    Partner,
    StaffHours,
    StaffMember,
)
from security.actors import Actor
from security.events import record_event
from security.inputs import validate_year

logger = logging.getLogger(__name__)

# By weekday (Monday 0): the day's ranges, local wall-clock times; end 00:00 is midnight.
Week = Mapping[int, Sequence[tuple[time, time]]]


def week_of(
    *, partner: Partner, staff: StaffMember | None = None
) -> dict[int, list[tuple[time, time]]]:
    """The week as stored: every weekday present, its ranges in order."""
    rows = (
        OpeningHours.objects.filter(partner=partner)
        if staff is None
        else StaffHours.objects.filter(staff=staff)
    )
    week: dict[int, list[tuple[time, time]]] = {day: [] for day in range(7)}
    for row in rows.order_by("weekday", "start"):
        week[row.weekday].append((row.start, row.end))
    return week


def _fits(booking: Booking, ranges: Sequence[tuple[time, time]]) -> bool:
    """The booking lies within one of its day's ranges (local times)."""
    zone = booking.partner.zone
    start, end = booking.start.astimezone(zone), booking.end.astimezone(zone)
    day = start.date()
    ends_at_midnight = end.date() == day + timedelta(days=1) and end.time() == MIDNIGHT
    if end.date() != day and not ends_at_midnight:
        return False
    for a, b in ranges:
        if a <= start.time() and (b == MIDNIGHT or (not ends_at_midnight and end.time() <= b)):
            return True
    return False


def outside_hours(
    *, partner: Partner, week: Week, now: datetime, staff: StaffMember | None = None
) -> list[Booking]:
    """The upcoming confirmed bookings and holds (of the person, with `staff`) that `week`
    would leave outside the hours, earliest first. For the business's hours, days with a date
    override or a closure are left out: the weekly hours do not decide those days."""
    if staff is not None and staff.works_opening_hours:
        return []  # the business's hours decide this person's: their own week changes nothing
    rows = Booking.objects.filter(partner=partner, status__in=Booking.BLOCKING, end__gt=now)
    if staff is not None:
        rows = rows.filter(staff=staff)
    bookings = list(
        rows.select_related("partner", "service", "staff", "payment").order_by("start", "pk")
    )
    if not bookings:
        return []
    zone = partner.zone
    overrides: Mapping[date, object] = {}
    if staff is None:
        first = bookings[0].start.astimezone(zone).date()
        last = bookings[-1].start.astimezone(zone).date()
        overrides = selectors.partner_hours(partner=partner, first=first, last=last).overrides
    found = []
    for booking in bookings:
        day = booking.start.astimezone(zone).date()
        if day in overrides:
            continue
        if not _fits(booking, week.get(day.weekday(), ())):
            found.append(booking)
    return found


def _describe(week: Week) -> dict[str, list[str]]:
    return {
        str(day): [f"{a:%H:%M}-{b:%H:%M}" for a, b in sorted(week.get(day, ()))] for day in range(7)
    }


def weekly_hours_set(
    *,
    partner: Partner,
    actor: Actor,
    week: Week,
    choice: CoveredChoice,
    shown: set[int],
    staff: StaffMember | None = None,
    now: datetime | None = None,
) -> ClosureResult:
    """Replace the weekly hours of the business (or of `staff`) by `week` (module docstring:
    the steps). Raises ValidationError for a bad range, CoveredChanged when the bookings
    outside the new hours are not the ones shown; nothing is saved then."""
    from booking.services import partner_lock

    now = now or timezone.now()
    choice = CoveredChoice(choice)
    if staff is not None and staff.partner_id != partner.pk:
        raise ValueError("The staff member is not one of this partner's.")
    rows: list[OpeningHours | StaffHours] = []
    for day in range(7):
        for start, end in week.get(day, ()):
            row: OpeningHours | StaffHours = (
                OpeningHours(partner=partner, weekday=day, start=start, end=end)
                if staff is None
                else StaffHours(staff=staff, weekday=day, start=start, end=end)
            )
            row.full_clean()
            rows.append(row)
    result = ClosureResult()
    with transaction.atomic():
        partner_lock(partner.pk)
        outside = outside_hours(partner=partner, week=week, now=now, staff=staff)
        check_shown(outside, shown)
        if staff is None:
            OpeningHours.objects.filter(partner=partner).delete()
            OpeningHours.objects.bulk_create([r for r in rows if isinstance(r, OpeningHours)])
        else:
            StaffHours.objects.filter(staff=staff).delete()
            StaffHours.objects.bulk_create([r for r in rows if isinstance(r, StaffHours)])
        # bulk_create sends no post_save: the cached free times go stale here, explicitly.
        slot_cache.bump(partner.pk, rules=True)
        result.cancelled, result.kept = settle_covered(
            outside, choice=choice, actor=actor, reason="", now=now
        )
        record_event(
            event_type=BookingEvent.HOURS_CHANGED,
            actor=actor,
            target=f"partner:{partner.pk}" if staff is None else f"staff:{staff.pk}",
            detail={
                "partner_id": partner.pk,
                "staff_id": staff.pk if staff is not None else None,
                "week": _describe(week),
                "choice": str(choice.value),
                "cancelled": result.cancelled,
                "kept": result.kept,
            },
        )
    logger.info(
        "weekly hours set",
        extra={
            "partner_id": partner.pk,
            "staff_id": staff.pk if staff is not None else None,
            "cancelled": len(result.cancelled),
            "kept": len(result.kept),
        },
    )
    return result


# --- special hours on one date -----------------------------------------------------------------
# `date_override_set` is the one write path of the special hours of one date (the admin's
# "Special hours on a date" page, booking/admin/hours.py), with the same steps as the week's:
# the bookings of that day the new ranges leave outside are shown first, found again under the
# partner lock, cancelled or kept as chosen; the DATE_OVERRIDE_SET event names the actor.


def outside_day(
    *, partner: Partner, day: date, ranges: Sequence[tuple[time, time]], now: datetime
) -> list[Booking]:
    """The partner's confirmed bookings and holds on the local `day`, not ended yet, that do not
    fit `ranges` (all of them when there are none: closed), earliest first. A day a closure
    covers is closed whatever its override says: nothing is outside because of the override."""
    if Closure.objects.filter(partner=partner, first_day__lte=day, last_day__gte=day).exists():
        return []
    start = slots.local_midnight(partner.zone, day)
    end = slots.local_midnight(partner.zone, day + timedelta(days=1))
    rows = Booking.objects.filter(
        partner=partner,
        status__in=Booking.BLOCKING,
        start__lt=end,
        end__gt=max(start, now),
    ).select_related("partner", "service", "staff", "customer", "payment")
    return [b for b in rows.order_by("start", "pk") if not _fits(b, ranges)]


def date_override_set(
    *,
    partner: Partner,
    actor: Actor,
    day: date,
    ranges: Sequence[tuple[time, time]],
    note: str,
    choice: CoveredChoice,
    shown: set[int],
    now: datetime | None = None,
) -> ClosureResult:
    """Replace the hours of the local date `day` by `ranges` (none: closed that day), whatever
    the weekly hours say. Raises ValidationError for a bad date, range or note, CoveredChanged
    when the bookings left outside are not the ones shown; nothing is saved then."""
    from booking.services import partner_lock

    now = now or timezone.now()
    choice = CoveredChoice(choice)
    note = note.strip()
    try:
        validate_year(day)
    except ValidationError as exc:
        raise ValidationError({"date": exc.messages}) from None
    override = DateOverride(partner=partner, date=day, note=note)
    override.full_clean(validate_constraints=False)  # it replaces the date's override, if any
    rows = [DateOverrideRange(start=a, end=b) for a, b in ranges]
    for row in rows:
        row.full_clean(exclude=["override"])
    result = ClosureResult()
    with transaction.atomic():
        partner_lock(partner.pk)
        outside = outside_day(partner=partner, day=day, ranges=ranges, now=now)
        check_shown(outside, shown)
        DateOverride.objects.filter(partner=partner, date=day).delete()
        override.save()
        for row in rows:
            row.override = override
        DateOverrideRange.objects.bulk_create(rows)
        # bulk_create sends no post_save: the cached free times go stale here, explicitly.
        slot_cache.bump(partner.pk, rules=True)
        result.cancelled, result.kept = settle_covered(
            outside, choice=choice, actor=actor, reason=note, now=now
        )
        record_event(
            event_type=BookingEvent.DATE_OVERRIDE_SET,
            actor=actor,
            target=f"dateoverride:{override.pk}",
            detail={
                "partner_id": partner.pk,
                "date": day.isoformat(),
                "ranges": [f"{a:%H:%M}-{b:%H:%M}" for a, b in sorted(ranges)],
                "choice": str(choice.value),
                "cancelled": result.cancelled,
                "kept": result.kept,
            },
        )
    logger.info(
        "date override set",
        extra={
            "partner_id": partner.pk,
            "cancelled": len(result.cancelled),
            "kept": len(result.kept),
        },
    )
    return result


class HoursLeaveBookingsOutside(ValidationError):
    """Removing special hours would leave bookings outside the weekly hours of that day."""


def date_override_delete(
    *, override: DateOverride, actor: Actor, now: datetime | None = None
) -> None:
    """Remove the special hours of a date: the weekly hours apply that day again (the delete
    moves the partner's versions). Never silently: when the weekly hours would leave upcoming
    bookings of that day outside, nothing is removed (HoursLeaveBookingsOutside); the owner sets
    the date's hours instead, on the page that shows those bookings and asks what happens to
    them."""
    from booking.services import partner_lock

    now = now or timezone.now()
    partner = override.partner
    with transaction.atomic():
        partner_lock(partner.pk)
        weekly = week_of(partner=partner)[override.date.weekday()]
        if outside_day(partner=partner, day=override.date, ranges=weekly, now=now):
            raise HoursLeaveBookingsOutside(
                _(
                    "The weekly hours would leave bookings of this day outside. Set this day's "
                    "hours instead: that page shows them and asks what happens to them."
                )
            )
        record_event(
            event_type=BookingEvent.DATE_OVERRIDE_DELETED,
            actor=actor,
            target=f"dateoverride:{override.pk}",
            detail={"partner_id": override.partner_id, "date": override.date.isoformat()},
        )
        override.delete()
    logger.info("date override deleted", extra={"partner_id": override.partner_id})
