"""Reminder emails before bookings: planning and sending (the periodic job calls
`reminders_send_due`, booking.tasks.reminders_send).

1. Plan: for each confirmed booking starting within the longest lead time (and a week), one BookingReminder
   row per lead time of its service (a unique constraint makes planning twice a no-op). A lead
   time that had already passed when the booking was made gets no row: nobody wants a "your
   appointment is tomorrow" an hour after booking it for this afternoon. A moved booking is a
   new booking, so its reminders are planned afresh; the old one's are skipped at step 3.
2. Claim: in one transaction, lock the due PLANNED rows that no other sender holds (SELECT ...
   FOR UPDATE SKIP LOCKED on PostgreSQL; SQLite's write transactions are serialised) and set
   them SENDING, counting the claim. Two workers, or two beat runs that overlap, claim disjoint
   rows. A SENDING row whose claim is older than RECLAIM_AFTER belongs to a sender that was
   killed (no live sender is that old: the task's hard time limit ends it first), so it is
   claimed again, at most MAX_CLAIMS times in all; after that it is FAILED, for a person to see.
3. Send each claimed row, outside any transaction: SKIPPED when the booking is no longer a
   confirmed booking ahead (cancelled, moved, an unpaid hold, or its time has come), else the
   email, then SENT or FAILED. Each step names its claim (the claim count): a sender whose claim
   was taken over finishes nothing. In the normal case a reminder goes out exactly once; only a
   sender killed between handing the email to the mail server and recording it can cause a
   second copy, which beats a reminder that never comes.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass
from datetime import datetime, timedelta

from django.db import transaction
from django.db.models import Exists, Max, OuterRef, Q
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
# A claim older than this was made by a sender that no longer runs: booking.tasks.reminders_send
# is killed after 10 minutes (its hard time limit), and its claims carry its start time.
RECLAIM_AFTER = timedelta(minutes=15)
# Claims of one reminder before it is given up (FAILED): a reminder whose sending kills the worker
# every time must not take every run down with it.
MAX_CLAIMS = 3


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
        # Booked by hand without an email: there is no one to remind.
        .exclude(customer_email_index="")
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


@transaction.atomic
def reminders_replan(*, service: Service, now: datetime) -> dict[str, int]:
    """After the partner changed `service`'s lead times: its bookings ahead get the reminders of
    the new lead times. 1. Unsent (PLANNED) reminders of a lead time no longer set are removed.
    2. Each confirmed booking ahead gets a row per new lead time that is still to come (and had
    not passed when it was booked: the planner's rule). Reminders already sent, failed, skipped
    or being sent stay as they are: they are the record of what happened."""
    leads = service.reminder_leads
    removed, _ = (
        BookingReminder.objects.filter(
            booking__service=service, booking__start__gt=now, state=ReminderState.PLANNED
        )
        .exclude(lead_hours__in=leads)
        .delete()
    )
    rows = []
    bookings = (
        Booking.objects.filter(service=service, status=Booking.Status.CONFIRMED, start__gt=now)
        .exclude(customer_email_index="")  # no email, no one to remind
        .prefetch_related("reminders")
    )
    for booking in bookings.iterator(chunk_size=500):
        have = {reminder.lead_hours for reminder in booking.reminders.all()}
        for lead in leads:
            due = booking.start - timedelta(hours=lead)
            if lead not in have and due > now and due > booking.created_at:
                rows.append(BookingReminder(booking=booking, lead_hours=lead, due_at=due))
    BookingReminder.objects.bulk_create(rows, ignore_conflicts=True)
    counts = {"removed": removed, "added": len(rows)}
    logger.info("reminders replanned", extra={"service_id": service.pk, **counts})
    return counts


@dataclass(frozen=True)
class Claim:
    """A reminder this sender holds: its id and the claim count it set (the fencing token)."""

    reminder_id: int
    number: int


def _claimable(now: datetime) -> Q:
    abandoned = Q(state=ReminderState.SENDING, claimed_at__lt=now - RECLAIM_AFTER)
    return (Q(state=ReminderState.PLANNED) | abandoned) & Q(due_at__lte=now)


def reminders_claim(*, now: datetime, limit: int = CLAIM_BATCH) -> list[Claim]:
    """Step 2: claim up to `limit` due (or abandoned) reminders for this sender."""
    claims: list[Claim] = []
    with transaction.atomic():
        rows = list(
            BookingReminder.objects.select_for_update(skip_locked=True)
            .filter(_claimable(now))
            .order_by("due_at", "pk")
            .values_list("pk", "state", "claimed_at", "claims")[:limit]
        )
        for pk, state, claimed_at, count in rows:
            # The previous state and claim in the condition keep the claim exact even where FOR
            # UPDATE is a no-op: of two senders, only one update matches.
            current = BookingReminder.objects.filter(
                pk=pk, state=state, claimed_at=claimed_at, claims=count
            )
            if count >= MAX_CLAIMS:
                current.update(
                    state=ReminderState.FAILED,
                    finished_at=now,
                    note=f"sender stopped {count} times",
                )
                logger.warning("reminder given up", extra={"reminder_id": pk, "claims": count})
                continue
            if current.update(state=ReminderState.SENDING, claimed_at=now, claims=count + 1):
                if state == ReminderState.SENDING:
                    logger.warning("reminder claimed again", extra={"reminder_id": pk})
                claims.append(Claim(reminder_id=pk, number=count + 1))
    return claims


def _finish(claim: Claim, state: ReminderState, note: str = "") -> bool:
    """Record the outcome of this sender's claim; False when the claim was taken over."""
    return bool(
        BookingReminder.objects.filter(
            pk=claim.reminder_id, state=ReminderState.SENDING, claims=claim.number
        ).update(state=state, finished_at=timezone.now(), note=note[:200])
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
    if not booking.customer_email:
        return "no email address"
    return ""


def reminder_send(*, claim: Claim, now: datetime) -> ReminderState:
    """Step 3 for one claimed reminder."""
    reminder = (
        BookingReminder.objects.select_related("booking__partner", "booking__service")
        .filter(pk=claim.reminder_id, state=ReminderState.SENDING, claims=claim.number)
        .first()
    )
    if reminder is None:
        return ReminderState.SKIPPED
    booking = reminder.booking
    reason = _skip_reason(booking, now)
    if reason:
        _finish(claim, ReminderState.SKIPPED, reason)
        return ReminderState.SKIPPED
    try:
        send_reminder(booking=booking)
    except Exception as exc:
        # Recorded on the row (the admin shows it) and logged by its kind only (an SMTP error's
        # text can hold the customer's address); the run goes on with the others.
        logger.warning(
            "reminder not sent", extra={"reminder_id": reminder.pk, "error": type(exc).__name__}
        )
        _finish(claim, ReminderState.FAILED, type(exc).__name__)
        return ReminderState.FAILED
    with transaction.atomic():
        _finish(claim, ReminderState.SENT)
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
    while claims := reminders_claim(now=now):
        for claim in claims:
            state = reminder_send(claim=claim, now=now)
            counts[state.value] = counts.get(state.value, 0) + 1
    if any(counts.values()):
        logger.info("reminders run", extra=counts)
    return counts
