"""Closures over date ranges: the business closed (holidays) or one person away, never silently.

`closure_create` is the one write path (the admin's closure page calls it). The page shows the
bookings the range covers first (`covered_by_range`) and the owner chooses what happens to them;
the service then, in one transaction:

1. Takes the partner lock (every booking write of the partner takes it first), so no booking
   of the partner is written while the closure goes in.
2. Finds the covered bookings again and refuses (`CoveredChanged`) when they are not the ones
   the owner was shown: the owner decides on what they saw, never on something else.
3. Stores the closure (a `Closure` the slot engine reads as closed days) or the person's
   absence (a `StaffAbsence` from the first day's local midnight to the one after the last day).
4. Cancels each covered booking through `booking_cancel` when the owner chose so (one event per
   booking, the customer's email in their language after commit, a paid booking refunded by
   payments through `booking_cancelled`), or keeps them.
5. Writes the closure's own security event, naming the actor.

Saving the rows moves the partner's slots version (booking.slot_cache), so no cached free time
survives the commit.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass, field
from datetime import date, datetime, time, timedelta

from django.core.exceptions import ValidationError
from django.db import transaction
from django.db.models import TextChoices
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from booking import slots
from booking.events import BookingEvent
from booking.models import Booking, Closure, Partner, StaffAbsence, StaffMember
from security.actors import Actor
from security.events import record_event
from security.inputs import validate_year

logger = logging.getLogger(__name__)

# A closure longer than a year is a typing mistake, not holidays.
MAX_DAYS = 366


class CoveredChoice(TextChoices):
    """What happens to the bookings a closure or absence covers: the owner's explicit choice."""

    CANCEL = "cancel", _("Cancel them and tell each customer (paid ones refunded)")
    KEEP = "keep", _("Keep them")


class CoveredChanged(ValidationError):
    """The bookings the range covers are no longer the ones the owner was shown."""


@dataclass
class ClosureResult:
    closure: Closure | None = None
    absence: StaffAbsence | None = None
    cancelled: list[int] = field(default_factory=list)
    kept: list[int] = field(default_factory=list)


def check_range(*, partner: Partner, first_day: date, last_day: date, now: datetime) -> None:
    """The days are a real range in the years the workspace takes, not over already, and at
    most a year long; a ValidationError naming the field otherwise."""
    for name, day in (("first_day", first_day), ("last_day", last_day)):
        try:
            validate_year(day)
        except ValidationError as exc:
            raise ValidationError({name: exc.messages}) from None
    if last_day < first_day:
        raise ValidationError({"last_day": _("The last day cannot be before the first day.")})
    if (last_day - first_day).days >= MAX_DAYS:
        raise ValidationError(
            {"last_day": _("A closure is at most %(days)d days long.") % {"days": MAX_DAYS}}
        )
    if last_day < now.astimezone(partner.zone).date():
        raise ValidationError({"last_day": _("These days are over already.")})


def range_bounds(
    partner: Partner,
    first_day: date,
    last_day: date,
    from_time: time | None = None,
    until_time: time | None = None,
) -> tuple[datetime, datetime]:
    """[local midnight of the first day, local midnight after the last day), as UTC instants
    (each converted on its own: a range with a clock change is not a whole number of 24 h).
    A person's absence may start at `from_time` on the first day and end at `until_time` on the
    last (a dentist's appointment from 14:00 to 16:00)."""
    zone = partner.zone
    return (
        slots.local_to_utc(zone, first_day, from_time or time(0)),
        slots.local_to_utc(zone, last_day, until_time)
        if until_time is not None
        else slots.local_midnight(zone, last_day + timedelta(days=1)),
    )


def check_times(
    *,
    partner: Partner,
    staff: StaffMember | None,
    first_day: date,
    last_day: date,
    from_time: time | None,
    until_time: time | None,
) -> None:
    """Times belong to a person's absence (the business closes whole days) and must leave a
    range that ends after it starts; a ValidationError naming the field otherwise."""
    if staff is None and (from_time is not None or until_time is not None):
        field = "from_time" if from_time is not None else "until_time"
        raise ValidationError(
            {field: _("The business closes on whole days: times are for a person's absence.")}
        )
    start, end = range_bounds(partner, first_day, last_day, from_time, until_time)
    if end <= start:
        raise ValidationError({"until_time": _("The absence must end after it starts.")})


def covered_by_range(
    *,
    partner: Partner,
    first_day: date,
    last_day: date,
    now: datetime,
    staff: StaffMember | None = None,
    from_time: time | None = None,
    until_time: time | None = None,
) -> list[Booking]:
    """The partner's (or one person's) confirmed bookings and holds that overlap the days (from
    and until the times given) and have not ended yet, earliest first."""
    start, end = range_bounds(partner, first_day, last_day, from_time, until_time)
    rows = Booking.objects.filter(
        partner=partner,
        status__in=Booking.BLOCKING,
        start__lt=end,
        end__gt=max(start, now),
    )
    if staff is not None:
        rows = rows.filter(staff=staff)
    return list(
        rows.select_related("partner", "service", "staff", "customer", "payment").order_by(
            "start", "pk"
        )
    )


def check_shown(covered: list[Booking], shown: set[int]) -> None:
    """The owner decides on what they saw: CoveredChanged when the bookings found now (under
    the partner lock) are not the ones shown."""
    if {b.pk for b in covered} != set(shown):
        raise CoveredChanged(
            _("The bookings concerned changed meanwhile. Look at them again and choose.")
        )


def settle_covered(
    covered: list[Booking], *, choice: CoveredChoice, actor: Actor, reason: str, now: datetime
) -> tuple[list[int], list[int]]:
    """Cancel the covered bookings through booking_cancel (each customer told after commit, a
    paid one refunded) or keep them, as the owner chose; (cancelled ids, kept ids). In the
    caller's transaction, under its partner lock."""
    from booking.services import booking_cancel

    if choice != CoveredChoice.CANCEL:
        return [], [b.pk for b in covered]
    for booking in covered:
        booking_cancel(booking=booking, actor=actor, reason=reason, now=now)
    return [b.pk for b in covered], []


def closure_create(
    *,
    partner: Partner,
    actor: Actor,
    first_day: date,
    last_day: date,
    note: str,
    choice: CoveredChoice,
    shown: set[int],
    staff: StaffMember | None = None,
    from_time: time | None = None,
    until_time: time | None = None,
    now: datetime | None = None,
) -> ClosureResult:
    """Close the business (or, with `staff`, enter that person's absence) on the local dates
    first_day..last_day; `shown` are the ids of the covered bookings the owner was shown and
    `choice` what they chose for them (module docstring: the steps). Raises ValidationError
    for a bad range or note, CoveredChanged when the covered bookings changed; nothing is
    saved then."""
    # Imported here: services imports the models' neighbours, and this module is imported by
    # the admin at start-up.
    from booking.services import partner_lock

    now = now or timezone.now()
    choice = CoveredChoice(choice)
    note = note.strip()
    if staff is not None and staff.partner_id != partner.pk:
        raise ValidationError({"staff": _("This person does not work for this business.")})
    check_range(partner=partner, first_day=first_day, last_day=last_day, now=now)
    check_times(
        partner=partner,
        staff=staff,
        first_day=first_day,
        last_day=last_day,
        from_time=from_time,
        until_time=until_time,
    )
    result = ClosureResult()
    with transaction.atomic():
        partner_lock(partner.pk)
        covered = covered_by_range(
            partner=partner,
            first_day=first_day,
            last_day=last_day,
            now=now,
            staff=staff,
            from_time=from_time,
            until_time=until_time,
        )
        check_shown(covered, shown)
        if staff is None:
            closure = Closure(partner=partner, first_day=first_day, last_day=last_day, note=note)
            closure.full_clean()
            closure.save()
            result.closure = closure
        else:
            starts_at, ends_at = range_bounds(partner, first_day, last_day, from_time, until_time)
            absence = StaffAbsence(staff=staff, starts_at=starts_at, ends_at=ends_at, note=note)
            absence.full_clean()
            absence.save()
            result.absence = absence
        result.cancelled, result.kept = settle_covered(
            covered, choice=choice, actor=actor, reason=note, now=now
        )
        record_event(
            event_type=(
                BookingEvent.CLOSURE_CREATED if staff is None else BookingEvent.ABSENCE_CREATED
            ),
            actor=actor,
            target=(
                f"closure:{result.closure.pk}"
                if result.closure is not None
                else f"staffabsence:{result.absence.pk if result.absence else ''}"
            ),
            detail={
                "partner_id": partner.pk,
                "staff_id": staff.pk if staff is not None else None,
                "first_day": first_day.isoformat(),
                "last_day": last_day.isoformat(),
                "from_time": from_time.strftime("%H:%M") if from_time else None,
                "until_time": until_time.strftime("%H:%M") if until_time else None,
                "choice": str(choice.value),
                "cancelled": result.cancelled,
                "kept": result.kept,
            },
        )
    logger.info(
        "closure created",
        extra={
            "partner_id": partner.pk,
            "staff_id": staff.pk if staff is not None else None,
            "cancelled": len(result.cancelled),
            "kept": len(result.kept),
        },
    )
    return result


def closure_delete(*, closure: Closure, actor: Actor) -> None:
    """Remove a closure: its days follow the weekly hours and overrides again (the delete moves
    the partner's slots version). Nothing happens to bookings: cancelled ones stay cancelled."""
    with transaction.atomic():
        record_event(
            event_type=BookingEvent.CLOSURE_DELETED,
            actor=actor,
            target=f"closure:{closure.pk}",
            detail={
                "partner_id": closure.partner_id,
                "first_day": closure.first_day.isoformat(),
                "last_day": closure.last_day.isoformat(),
            },
        )
        closure.delete()
    logger.info("closure deleted", extra={"partner_id": closure.partner_id})


def absence_delete(*, absence: StaffAbsence, actor: Actor) -> None:
    """Remove a person's absence (entered by closure_create): their hours apply again (the
    delete moves the partner's versions). Nothing happens to bookings."""
    with transaction.atomic():
        record_event(
            event_type=BookingEvent.ABSENCE_DELETED,
            actor=actor,
            target=f"staffabsence:{absence.pk}",
            detail={
                "partner_id": absence.staff.partner_id,
                "staff_id": absence.staff_id,
                "starts_at": absence.starts_at.isoformat(),
                "ends_at": absence.ends_at.isoformat(),
            },
        )
        absence.delete()
    logger.info("absence deleted", extra={"staff_id": absence.staff_id})
