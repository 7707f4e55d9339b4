"""Reminder emails before bookings: planning and sending (the periodic job calls
`reminders_send_due`, booking.tasks.reminders_send).

1. Plan: for each confirmed booking starting within the longest lead time (and a week), one BookingReminder
   row per lead time of its service (a unique constraint makes planning twice a no-op). A lead
   time that had already passed when the booking was made gets no row: nobody wants a "your
   appointment is tomorrow" an hour after booking it for this afternoon. A moved booking is a
   new booking, so its reminders are planned afresh; the old one's are skipped at step 3.
2. Claim: in one transaction, lock the due PLANNED rows that no other sender holds (SELECT ...
   FOR UPDATE SKIP LOCKED on PostgreSQL; SQLite's write transactions are serialised) and set
   them SENDING. Two workers, or two beat runs that overlap, claim disjoint rows.
3. Send each claimed row, outside any transaction: SKIPPED when the booking is no longer a
   confirmed booking ahead (cancelled, moved, an unpaid hold, or its time has come), else the
   email, then SENT or FAILED. A row is never claimed twice, so a reminder goes out at most
   once; a sender that dies mid-way leaves the row SENDING (visible in the admin), not resent.
"""

from __future__ import annotations

import logging
from datetime import datetime, timedelta

from django.db import transaction
from django.db.models import Exists, Max, OuterRef
from django.utils import timezone

from booking.emails import send_reminder
from booking.events import BookingEvent
from booking.models import REMINDER_MAX_HOURS, Booking, BookingReminder, ReminderState, Service
from security.actors import Actor
from security.events import record_event

logger = logging.getLogger(__name__)

REMINDER_JOB = Actor.system("reminders")
PLAN_AHEAD_HOURS = 7 * 24
# Rows claimed per transaction: small, so a long run does not hold locks for long.
CLAIM_BATCH = 50


def reminders_plan(*, now: datetime) -> int:
    """Step 1: plan the missing reminders of confirmed bookings ahead. Returns rows added."""
    longest = Service.objects.aggregate(
        first=Max("reminder_hours"), second=Max("second_reminder_hours")
    )
    horizon = max(longest["first"] or 0, longest["second"] or 0)
    if not horizon:
        return 0
    # A week more than the longest lead time: the admin shows a booking's reminders as planned
    # well before they are due.
    horizon = min(horizon, REMINDER_MAX_HOURS) + PLAN_AHEAD_HOURS
    # Bookings planned once have all their rows (every lead time is within the horizon at
    # once), so only those without any are looked at again.
    bookings = (
        Booking.objects.filter(
            status=Booking.Status.CONFIRMED,
            start__gt=now,
            start__lte=now + timedelta(hours=horizon),
        )
        .exclude(Exists(BookingReminder.objects.filter(booking=OuterRef("pk"))))
        .select_related("service")
    )
    rows = []
    for booking in bookings.iterator():
        for lead in booking.service.reminder_leads:
            due = booking.start - timedelta(hours=lead)
            if due > booking.created_at:
                rows.append(BookingReminder(booking=booking, lead_hours=lead, due_at=due))
    if not rows:
        return 0
    created = BookingReminder.objects.bulk_create(rows, ignore_conflicts=True)
    return len(created)


def reminders_claim(*, now: datetime, limit: int = CLAIM_BATCH) -> list[int]:
    """Step 2: claim up to `limit` due reminders for this sender; returns their ids."""
    with transaction.atomic():
        ids = list(
            BookingReminder.objects.select_for_update(skip_locked=True)
            .filter(state=ReminderState.PLANNED, due_at__lte=now)
            .order_by("due_at", "pk")
            .values_list("pk", flat=True)[:limit]
        )
        if ids:
            # The state condition keeps the claim exact even where FOR UPDATE is a no-op.
            BookingReminder.objects.filter(pk__in=ids, state=ReminderState.PLANNED).update(
                state=ReminderState.SENDING, claimed_at=now
            )
    return ids


def _finish(reminder_id: int, state: ReminderState, note: str = "") -> None:
    BookingReminder.objects.filter(pk=reminder_id, state=ReminderState.SENDING).update(
        state=state, finished_at=timezone.now(), note=note[:200]
    )


def _skip_reason(booking: Booking, now: datetime) -> str:
    if booking.status == Booking.Status.CANCELLED:
        return (
            "booking moved"
            if booking.cancelled_because == Booking.CancelledBecause.RESCHEDULED
            else "booking cancelled"
        )
    if booking.status != Booking.Status.CONFIRMED:
        return "booking not paid"
    if booking.start <= now:
        return "appointment already started"
    return ""


def reminder_send(*, reminder_id: int, now: datetime) -> ReminderState:
    """Step 3 for one claimed reminder."""
    reminder = (
        BookingReminder.objects.select_related("booking__partner", "booking__service")
        .filter(pk=reminder_id, state=ReminderState.SENDING)
        .first()
    )
    if reminder is None:
        return ReminderState.SKIPPED
    booking = reminder.booking
    reason = _skip_reason(booking, now)
    if reason:
        _finish(reminder.pk, ReminderState.SKIPPED, reason)
        return ReminderState.SKIPPED
    try:
        send_reminder(booking=booking)
    except Exception as exc:
        # Recorded on the row (the admin shows it) and logged by its kind only (an SMTP error's
        # text can hold the customer's address); the run goes on with the others.
        logger.warning(
            "reminder not sent", extra={"reminder_id": reminder.pk, "error": type(exc).__name__}
        )
        _finish(reminder.pk, ReminderState.FAILED, type(exc).__name__)
        return ReminderState.FAILED
    with transaction.atomic():
        _finish(reminder.pk, ReminderState.SENT)
        record_event(
            event_type=BookingEvent.REMINDER_SENT,
            actor=REMINDER_JOB,
            target=f"booking:{booking.pk}",
            detail={"partner_id": booking.partner_id, "lead_hours": reminder.lead_hours},
        )
    return ReminderState.SENT


def reminders_send_due(*, now: datetime | None = None) -> dict[str, int]:
    """The periodic job: plan, then claim and send in batches until nothing is due. Safe to run
    in several workers at once. Returns counts per outcome."""
    now = now or timezone.now()
    counts = {"planned": reminders_plan(now=now)}
    while ids := reminders_claim(now=now):
        for reminder_id in ids:
            state = reminder_send(reminder_id=reminder_id, now=now)
            counts[state.value] = counts.get(state.value, 0) + 1
    if any(counts.values()):
        logger.info("reminders run", extra=counts)
    return counts
