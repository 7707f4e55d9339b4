"""Writes of the booking domain. Every booking write goes through one of these functions.

Each takes the actor explicitly (`security.actors.Actor`: a user, a customer, or a system job) and
writes its security event inside its own transaction, so the audit trail and the change exist
together or not at all. No service looks for a request.

The database is the final judge of "slot taken": on PostgreSQL the exclusion constraints
`booking_staff_no_overlap` and `booking_resource_no_overlap` refuse overlapping blocking bookings
of a staff member or of a resource, whatever the race; on
SQLite every write transaction is IMMEDIATE (settings), so the overlap check below runs while
holding the database's write lock and no other writer can slip in between check and insert.
"""

from __future__ import annotations

import enum
import logging
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import datetime, timedelta
from functools import partial
from typing import TYPE_CHECKING

from django.conf import settings
from django.core.exceptions import ValidationError
from django.db import IntegrityError, OperationalError, connection, transaction
from django.db.models import BaseConstraint, Q, QuerySet
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from booking import selectors, slot_cache
from booking.emails import Audience, Notice
from booking.events import BookingEvent
from booking.links import manage_token_for
from booking.models import (
    Booking,
    CancelledBecause,
    Customer,
    Partner,
    PartnerMembership,
    Resource,
    Service,
    ServiceStaff,
    StaffChoice,
    StaffMember,
)
from booking.signals import booking_cancelled
from booking.tokens import new_link_version
from security import ratelimit
from security.actors import Actor, ActorKind, Via
from security.events import record_event
from security.fieldcrypto import blind_index

if TYPE_CHECKING:
    from django.utils.functional import _StrPromise

logger = logging.getLogger(__name__)

# The actor of releases that happen as a side effect (a hold's time ran out): nobody chose them.
HOLD_EXPIRY = Actor.system("hold_expiry")


class BookingError(Exception):
    """A booking request that cannot be honoured; the message is safe to show the customer.
    booking.errors maps each kind to its HTTP answer and form error."""

    default_message = _("This booking cannot be made.")

    def __init__(self, message: str | _StrPromise | None = None) -> None:
        super().__init__(str(message or self.default_message))


class SlotNotOffered(BookingError):
    """The start is not a slot of this service at all (past, closed, misaligned, too far)."""

    default_message = _(
        "This time is not available for booking. Please choose one of the offered times."
    )


class SlotTaken(BookingError):
    """The slot was free a moment ago but another booking has it now."""

    default_message = _("Sorry, this time was just taken. Please choose another one.")


class StaffNotOffered(BookingError):
    """The chosen person cannot be booked for this service (another business's, inactive, not
    performing it), or the service needs a person chosen."""

    default_message = _("This person cannot be booked for this service. Please choose another.")


class PaymentsUnavailable(BookingError):
    """A paid service, but the platform cannot take payments (not configured)."""

    default_message = _(
        "Online payment is not available at the moment, so this service cannot be booked "
        "online. Please contact the business directly."
    )


class ChangeNotAllowed(BookingError):
    """Cancelling or rescheduling is no longer possible (cut-off passed, already cancelled)."""

    default_message = _("This booking can no longer be changed.")


@dataclass(frozen=True)
class CustomerDetails:
    """What the customer typed; validated on the model (Booking.full_clean) like every entry."""

    name: str
    email: str
    phone: str = ""
    notes: str = ""
    # The language of the page or widget the customer booked in (a code of settings.LANGUAGES).
    language: str = settings.LANGUAGE_CODE
    # The zone the customer saw the times in (an IANA name; empty: the partner's).
    time_zone: str = ""
    # Ticked "send me news" (never ticked by default); recorded with MARKETING_NOTICE_VERSION.
    marketing_consent: bool = False


# The version of the marketing-consent text on the booking form (booking/forms.py): recorded with
# each consent, so it can be told later what the customer agreed to. Change it with the text.
MARKETING_NOTICE_VERSION = "2026-12-01"


def _tells_partner(actor: Actor, partner_id: int) -> bool:
    """Whether the partner gets the notice of a change: always, except when one of its own people
    (owner or staff, a membership of this partner) made the change in the workspace: they know.
    Customers, the system (a payment, a job) and operators (support, superusers) are told about."""
    if actor.account is None:
        return True
    return not PartnerMembership.objects.filter(
        user_id=actor.account.pk, partner_id=partner_id
    ).exists()


def _notify(booking_id: int, event: Notice, *, actor: Actor, partner_id: int) -> None:
    """One task per audience, after commit: the customer's messages, and the partner's one notice
    unless the actor is the partner's own (`_tells_partner`)."""
    # Imported here so that importing the services does not pull in Celery's task registry
    # (management commands and tests import services without a broker).
    from booking.tasks import booking_notify

    audiences = [Audience.CUSTOMER]
    if _tells_partner(actor, partner_id):
        audiences.append(Audience.PARTNER)
    for audience in audiences:
        transaction.on_commit(
            partial(booking_notify.delay, booking_id, str(event.value), str(audience.value))
        )


def _audit(event_type: BookingEvent, *, actor: Actor, booking: Booking, **detail: object) -> None:
    """The booking's security event, in the caller's transaction, naming the staff member and
    resource it occupies. Ids only: no customer data goes into the append-only log."""
    record_event(
        event_type=event_type,
        actor=actor,
        target=f"booking:{booking.pk}",
        detail={
            "partner_id": booking.partner_id,
            "staff_id": booking.staff_id,
            "resource_id": booking.resource_id,
            **detail,
        },
    )


def _is_exclusion_violation(exc: IntegrityError) -> bool:
    cause = exc.__cause__
    return getattr(cause, "sqlstate", None) == "23P01" or "_no_overlap" in str(exc)


def _refused_constraint(exc: IntegrityError) -> BaseConstraint | None:
    """The booking check constraint the database refused a write by, if it was one. Booking
    writes leave the checks to the database (full_clean's one SELECT per constraint repeated
    them); this gives the refusal the same message full_clean would have."""
    cause = exc.__cause__
    diag = getattr(cause, "diag", None)
    name = getattr(diag, "constraint_name", None) or str(exc).rpartition(":")[2].strip()
    return next((c for c in Booking._meta.constraints if c.name == name), None)


def partner_lock(partner_id: int, *, moving_slots: bool = False) -> int:
    """Booking writes of one partner take turns; every writer of a partner's bookings (and of
    what decides them, e.g. a payment webhook) takes this lock first, in the same order.

    Without it, two overlapping inserts on PostgreSQL can deadlock inside the exclusion check
    (each waits for the other's uncommitted row, 40P01). FOR NO KEY UPDATE does not block other
    rows referencing the partner. On SQLite writes are serialised already and the lock is a
    no-op. Must run inside a transaction.

    `moving_slots`: the writer is about to change which times are free (a new booking), so the
    lock is taken by the UPDATE that moves the partner's slots version (booking.slot_cache),
    which takes the same row lock: one statement instead of two while the lock is held. Run the
    rest of the write inside slot_cache.moved_with_lock(partner_id), or its save moves it again.

    Returns the partner's rules_version as it is under the lock (0 for a partner that is gone):
    a writer that read the rules before the lock compares it with the one it read then."""
    if moving_slots:
        table, slots_version, rules, pk = (
            connection.ops.quote_name(name)
            for name in (
                Partner._meta.db_table,
                Partner._meta.get_field("slots_version").column,
                Partner._meta.get_field("rules_version").column,
                Partner._meta.pk.column,
            )
        )
        with connection.cursor() as cursor:
            # Names from the model, the id a parameter: nothing of the input goes into the text.
            cursor.execute(
                f"UPDATE {table} SET {slots_version} = {slots_version} + 1 "  # noqa: S608  # nosec B608
                f"WHERE {pk} = %s RETURNING {rules}",
                [partner_id],
            )
            row = cursor.fetchone()
        return row[0] if row else 0
    rows = list(
        Partner.objects.select_for_update(no_key=True)
        .filter(pk=partner_id)
        .order_by()  # one row: no sort by the model's default ordering (name)
        .values_list("pk", "rules_version")
    )
    return rows[0][1] if rows else 0


def rules_version(partner_id: int) -> int:
    """The partner's rules_version now (booking.models.Partner); read before the rules."""
    found = Partner.objects.filter(pk=partner_id).values_list("rules_version", flat=True).first()
    return found or 0


def _overlapping(booking: Booking) -> QuerySet[Booking]:
    """Blocking bookings of the same staff member or resource whose busy range meets this one's:
    what the PostgreSQL exclusion constraints refuse."""
    same = Q(staff_id=booking.staff_id)
    if booking.resource_id is not None:
        same |= Q(resource_id=booking.resource_id)
    return Booking.objects.filter(
        same,
        status__in=Booking.BLOCKING,
        busy_start__lt=booking.busy_end,
        busy_end__gt=booking.busy_start,
    ).exclude(pk=booking.pk)


def _insert_booking(booking: Booking) -> None:
    """Insert a blocking booking or raise SlotTaken. Must run inside a transaction."""
    # On SQLite this check is the guarantee (we hold the write lock). On PostgreSQL the
    # exclusion constraints decide, and the slot check under the partner lock has already
    # spared the common case their error: one statement less per booking.
    if connection.vendor != "postgresql" and _overlapping(booking).exists():
        raise SlotTaken()
    _save_blocking(booking, force_insert=True)


def _insert_and_announce(
    booking: Booking,
    notice: Notice,
    event: BookingEvent,
    actor: Actor,
    detail: Mapping[str, object],
) -> None:
    """Insert (or SlotTaken), then the emails after commit and the audit event."""
    _insert_booking(booking)
    _notify(booking.pk, notice, actor=actor, partner_id=booking.partner_id)
    _audit(event, actor=actor, booking=booking, **detail)


def _save_blocking(
    booking: Booking, *, force_insert: bool = False, update_fields: list[str] | None = None
) -> None:
    """Save a booking that blocks its time; the database's verdict on overlaps is SlotTaken."""
    try:
        with transaction.atomic():  # savepoint: a refused write leaves the outer transaction usable
            booking.save(force_insert=force_insert, update_fields=update_fields)
    except IntegrityError as exc:
        if _is_exclusion_violation(exc):
            raise SlotTaken() from exc
        refused = _refused_constraint(exc)
        if refused is not None:
            raise ValidationError(refused.get_violation_error_message()) from exc
        raise
    except OperationalError as exc:
        # Second line of defence should a deadlock still happen: the other booking won.
        if getattr(exc.__cause__, "sqlstate", None) == "40P01":
            raise SlotTaken() from exc
        raise


def _expired_holds_exist(*, partner_id: int, now: datetime) -> bool:
    """Whether the partner has holds run out unpaid at `now`: asked before the partner lock by
    a new booking, so that the usual answer, none, costs no statement under the lock. A "no"
    stays true until the lock: a hold made meanwhile runs at least a minute from its own now.
    (Should one have begun over a minute before ours and still be unreleased, the slot check
    skips it as expired and the database refuses the overlap: a 409, and the next write
    releases it.)"""
    return Booking.objects.filter(
        partner_id=partner_id, status=Booking.Status.PENDING_PAYMENT, hold_expires_at__lte=now
    ).exists()


def _release_expired_holds(*, partner_id: int, now: datetime) -> list[int]:
    """Cancel the partner's holds whose time ran out unpaid, so their slots are free again the
    moment they expire (the periodic job does the same for partners nobody is booking with).
    Runs under the partner lock. Returns the released booking ids."""
    expired = Booking.objects.filter(
        partner_id=partner_id, status=Booking.Status.PENDING_PAYMENT, hold_expires_at__lte=now
    )
    ids = list(expired.values_list("pk", flat=True))
    if ids:
        Booking.objects.filter(pk__in=ids).update(
            status=Booking.Status.CANCELLED,
            cancelled_at=now,
            cancelled_because=CancelledBecause.HOLD_EXPIRED,
        )
        slot_cache.bump(partner_id)
        record_event(
            event_type=BookingEvent.HOLD_RELEASED,
            actor=HOLD_EXPIRY,
            target=f"booking:{','.join(map(str, ids))}"[:500],
            detail={"partner_id": partner_id, "booking_ids": ids},
        )
        logger.info("holds released", extra={"partner_id": partner_id, "booking_ids": ids})
    return ids


def staff_lock(
    staff_id: int, resource_id: int | None = None
) -> tuple[StaffMember, Resource | None]:
    """Lock the staff member (and resource) a booking write is about to occupy, and return them.

    Lock order, the same in every writer, so that concurrent writers never wait on each other in
    a circle: the partner (partner_lock) first, then the staff member, then the resource. Today
    the partner lock already makes a partner's booking writes take turns; these row locks make
    the order explicit for any writer that later locks a person or a resource alone (an absence
    entered while someone books). Must run inside a transaction, after partner_lock."""
    staff = StaffMember.objects.select_for_update(no_key=True).get(pk=staff_id)
    resource = (
        None
        if resource_id is None
        else Resource.objects.select_for_update(no_key=True).get(pk=resource_id)
    )
    return staff, resource


def _assign(booking: Booking, check: selectors.SlotCheck) -> None:
    """Give the booking its person (the one chosen, or whom "anyone" goes to by the engine's
    rule), its resource where the service needs one, and the times that go with them (the
    person's own duration, widened by the service's buffers). Raises SlotNotOffered or
    SlotTaken. Runs under the partner lock, so the answer cannot go stale before the insert:
    `check` (prepared for the booking's service and start) reads the bookings now."""
    status, assignment = check.decide()
    if status is selectors.SlotStatus.NOT_OFFERED:
        raise SlotNotOffered()
    if assignment is None:
        raise SlotTaken()
    service = booking.service
    booking.staff, booking.resource = staff_lock(assignment.staff_id, assignment.resource_id)
    booking.end = assignment.end
    booking.busy_start = booking.start - timedelta(minutes=service.buffer_before_minutes)
    booking.busy_end = booking.end + timedelta(minutes=service.buffer_after_minutes)


def _check_staff(service: Service, staff: StaffMember | None) -> None:
    """Refuse a person who is not bookable for the service: another business's, inactive, or
    not performing it (forged form or API input lands here, with a clear message), and
    "anyone" for a service whose customers must choose."""
    if staff is None:
        if service.staff_choice == StaffChoice.CUSTOMER_CHOOSES:
            raise StaffNotOffered(_("Please choose the person you want to book with."))
        return
    if not selectors.staff_performs(service=service, staff=staff):
        raise StaffNotOffered()


def _new_booking(
    *,
    service: Service,
    start: datetime,
    customer: CustomerDetails,
    status: str,
    now: datetime,
) -> Booking:
    """The booking's customer side; _assign gives it its person, resource and busy range."""
    return Booking(
        partner_id=service.partner_id,
        service=service,
        start=start,
        end=start + timedelta(minutes=service.duration_minutes),
        customer_name=customer.name.strip(),
        customer_email=customer.email.strip(),
        customer_phone=customer.phone.strip(),
        notes=customer.notes.strip(),
        language=customer.language,
        time_zone=customer.time_zone,
        marketing_consent_at=now if customer.marketing_consent else None,
        marketing_notice_version=MARKETING_NOTICE_VERSION if customer.marketing_consent else "",
        status=status,
        created_at=now,
    )


def is_by_hand(actor: Actor) -> bool:
    """A booking by hand: a person of the business in the admin (a logged-in user on the public
    booking page books as a customer would)."""
    return actor.kind == ActorKind.USER and actor.via == Via.ADMIN


def _check_email(customer: CustomerDetails, actor: Actor) -> None:
    """Only a booking by hand may go without an email (a walk-in, a phone customer); every other
    way in needs one, whatever its form checked."""
    if not customer.email.strip() and not is_by_hand(actor):
        raise ValidationError(
            {"customer_email": _("Enter an email address: the booking's emails go to it.")}
        )


def _new_customer(booking: Booking, *, now: datetime, by_hand: bool) -> Customer:
    """A booking's customer record as a first booking makes it, checked (Python only) before the
    partner lock; `_customer_for` saves it under the lock, or finds the one made earlier."""
    index = blind_index(booking.customer_email) if booking.customer_email else ""
    customer = Customer(
        partner_id=booking.partner_id,
        name=booking.customer_name,
        email=booking.customer_email,
        email_index=index,
        phone=booking.customer_phone,
        by_hand=by_hand,
        created_at=now,
    )
    # Fields checked here; the constraints by the database (one record per email address: the
    # lookup in _customer_for, under the lock; an email or by hand: _check_email refused it
    # earlier). full_clean would ask the database the same with a SELECT each.
    customer.full_clean(exclude=["partner"], validate_constraints=False)
    return customer


def _customer_for(new: Customer) -> Customer:
    """The partner's record of this email address, made on its first booking. Called under the
    partner lock, so two first bookings of one address cannot both make one (and the unique
    constraint would refuse the second anyway). A customer booked by hand without an email is a
    record of their own: a name (or a phone number) is no identity, two walk-ins called Anna
    Meier are two people."""
    if new.email_index:
        found = Customer.objects.filter(
            partner_id=new.partner_id, email_index=new.email_index
        ).first()
        if found is not None:
            return found
    new.save(force_insert=True)
    return new


# Set by the services after the customer's side is checked (relations, derived fields).
_ASSIGNED_LATER = [
    "partner",
    "customer",
    "service",
    "staff",
    "resource",
    "rescheduled_from",
    "manage_token_hash",
    "manage_link_version",
    "busy_start",
    "busy_end",
]


def booking_create(
    *,
    service: Service,
    start: datetime,
    customer: CustomerDetails,
    actor: Actor,
    status: str = Booking.Status.CONFIRMED,
    hold_minutes: int | None = None,
    now: datetime | None = None,
    staff: StaffMember | None = None,
) -> tuple[Booking, str]:
    """Book `start` for a customer, with `staff` or (None) whoever is free. Returns the booking
    and its private manage token (derived, never stored: booking.tokens). Raises SlotNotOffered,
    SlotTaken or ValidationError (the model's
    validators: every way in gets the same rules).

    With status PENDING_PAYMENT the booking is a hold: it blocks the slot like a confirmed
    booking (same database guarantee) for `hold_minutes`, and becomes a booking only through
    `booking_confirm` once it is paid. Nothing is announced for a hold."""
    now = now or timezone.now()
    if status not in (Booking.Status.CONFIRMED, Booking.Status.PENDING_PAYMENT):
        raise ValidationError({"status": "A new booking is either confirmed or a hold."})
    if (status == Booking.Status.PENDING_PAYMENT) != (hold_minutes is not None):
        raise ValidationError({"status": "A hold, and only a hold, needs hold_minutes."})
    if timezone.is_naive(start):
        raise ValidationError({"start": _("The start time needs a time zone.")})
    if not service.is_active:
        raise SlotNotOffered(_("This service is not available for booking."))
    _check_staff(service, staff)
    _check_email(customer, actor)
    booking = _new_booking(service=service, start=start, customer=customer, status=status, now=now)
    if hold_minutes is not None:
        if not 1 <= hold_minutes <= 24 * 60:
            raise ValidationError({"hold_minutes": "A hold lasts between 1 minute and 24 hours."})
        booking.hold_expires_at = now + timedelta(minutes=hold_minutes)
    # The database checks the constraints; _save_blocking words a refusal.
    booking.full_clean(validate_constraints=False, exclude=_ASSIGNED_LATER)
    # Hours, closures, people and absences are read before the lock (a busy partner's bookings
    # do not queue behind those reads); the bookings under it. A change of those rules may
    # commit in between (a closure saved while this customer pressed "book"): every such write
    # moves the partner's rules_version in its transaction, so when the version under the lock
    # is not the one read before the rules, they are read again, under the lock, and the
    # booking is judged by the rules in force when it is written.
    # What needs no lock is done before it, so that the partner's other bookings wait for as
    # little as possible: the check's query built, the customer record checked, and whether any
    # hold has run out (usually none: then nothing is released under the lock).
    seen = rules_version(service.partner_id)
    check = selectors.SlotCheck.prepare(service=service, start=start, now=now, staff=staff)
    new_customer = _new_customer(booking, now=now, by_hand=is_by_hand(actor))
    holds_expired = _expired_holds_exist(partner_id=service.partner_id, now=now)
    with transaction.atomic(), slot_cache.moved_with_lock(service.partner_id):
        if partner_lock(service.partner_id, moving_slots=True) != seen:
            service.partner.refresh_from_db(fields=["time_zone"])  # the zone is a rule too
            check = selectors.SlotCheck.prepare(service=service, start=start, now=now, staff=staff)
        if holds_expired:
            _release_expired_holds(partner_id=service.partner_id, now=now)
        _assign(booking, check)
        booking.customer = _customer_for(new_customer)
        _insert_booking(booking)
        if booking.status == Booking.Status.CONFIRMED:  # a hold is announced once it is paid
            _notify(booking.pk, Notice.CONFIRMED, actor=actor, partner_id=booking.partner_id)
        _audit(
            BookingEvent.BOOKING_CREATED,
            actor=actor,
            booking=booking,
            service_id=service.pk,
            status=booking.status,
            staff_chosen=staff is not None,
        )
    logger.info(
        "booking created",
        extra={
            "booking_id": booking.pk,
            "partner_id": booking.partner_id,
            "service_id": service.pk,
            "staff_id": booking.staff_id,
            "resource_id": booking.resource_id,
        },
    )
    return booking, manage_token_for(booking)


def booking_create_override(
    *,
    service: Service,
    staff: StaffMember,
    start: datetime,
    customer: CustomerDetails,
    actor: Actor,
    now: datetime | None = None,
) -> tuple[Booking, str]:
    """A booking by hand outside the offered times: an owner who ticked "override the rules"
    books a person at any time (before opening, at 09:07, without notice). Opening hours,
    notice, horizon, alignment and the person's hours do not apply; the person's other
    bookings do: an overlap is refused exactly as always (SlotTaken, the database constraint the
    final judge). Recorded as a booking created with `override` in the audit event.

    1. The person must be named and perform the service; a service that needs a room or
       equipment is booked at offered times only (the engine picks the resource).
    2. Under the partner lock: the person's row lock, the insert (overlap check), the event."""
    now = now or timezone.now()
    if timezone.is_naive(start):
        raise ValidationError({"start": _("The start time needs a time zone.")})
    if not service.is_active:
        raise SlotNotOffered(_("This service is not available for booking."))
    if staff is None:
        raise StaffNotOffered(_("Choose the person to book outside the offered times."))
    _check_staff(service, staff)
    if service.required_resource_kind:
        raise SlotNotOffered(
            _("A service that needs a room or equipment can only be booked at an offered time.")
        )
    _check_email(customer, actor)
    booking = _new_booking(
        service=service, start=start, customer=customer, status=Booking.Status.CONFIRMED, now=now
    )
    booking.full_clean(validate_constraints=False, exclude=_ASSIGNED_LATER)
    duration = (
        ServiceStaff.objects.filter(service=service, staff=staff)
        .values_list("duration_minutes", flat=True)
        .first()
    ) or service.duration_minutes
    with transaction.atomic():
        partner_lock(service.partner_id)
        _release_expired_holds(partner_id=service.partner_id, now=now)
        booking.staff, booking.resource = staff_lock(staff.pk, None)
        booking.end = start + timedelta(minutes=duration)
        booking.busy_start = start - timedelta(minutes=service.buffer_before_minutes)
        booking.busy_end = booking.end + timedelta(minutes=service.buffer_after_minutes)
        booking.customer = _customer_for(_new_customer(booking, now=now, by_hand=is_by_hand(actor)))
        detail = {"service_id": service.pk, "status": booking.status, "override": True}
        _insert_and_announce(booking, Notice.CONFIRMED, BookingEvent.BOOKING_CREATED, actor, detail)
    logger.info(
        "booking created outside the offered times",
        extra={"booking_id": booking.pk, "partner_id": booking.partner_id, "staff_id": staff.pk},
    )
    return booking, manage_token_for(booking)


def booking_create_for_customer(
    *,
    service: Service,
    start: datetime,
    customer: CustomerDetails,
    actor: Actor,
    now: datetime | None = None,
    staff: StaffMember | None = None,
) -> tuple[Booking, str]:
    """The public way to book (booking pages and widget API). A paid service gets a hold that
    only its payment confirms, never a confirmed booking; without a payment provider it cannot
    be booked here at all (PaymentsUnavailable)."""
    if not selectors.service_is_paid(service):
        return booking_create(
            service=service, start=start, customer=customer, actor=actor, now=now, staff=staff
        )
    if not selectors.payments_enabled():
        raise PaymentsUnavailable()
    return booking_create(
        service=service,
        start=start,
        customer=customer,
        actor=actor,
        now=now,
        staff=staff,
        status=Booking.Status.PENDING_PAYMENT,
        hold_minutes=settings.PAYMENT_HOLD_MINUTES,
    )


def _validate_fields(booking: Booking, *names: str) -> None:
    """The model's validators for the fields this write sets (older rows are not re-judged)."""
    others = [f.name for f in Booking._meta.concrete_fields if f.name not in names]
    booking.clean_fields(exclude=others)


def _check_changeable(booking: Booking, *, actor: Actor, now: datetime) -> None:
    """Customers are held to the partner's cut-off; people of the business are not. A system
    job never cancels or moves a booking someone made."""
    if actor.kind == ActorKind.SYSTEM:
        raise ValueError("A system job does not cancel or reschedule bookings.")
    if actor.is_customer:
        refusal = selectors.booking_change_refusal(booking=booking, now=now)
        if refusal:
            raise ChangeNotAllowed(refusal)
    elif booking.status == Booking.Status.CANCELLED:
        raise ChangeNotAllowed(_("This booking is already cancelled."))


def booking_cancel(
    *, booking: Booking, actor: Actor, reason: str = "", now: datetime | None = None
) -> Booking:
    """Cancel a booking: by the customer (before the cut-off) or by the business (any time).
    A paid booking is refunded by payments, which receives `booking_cancelled` inside this
    transaction with the same actor."""
    now = now or timezone.now()
    reason = reason.strip()
    if len(reason) > 500:
        raise ValidationError({"reason": _("Please keep the reason under 500 characters.")})
    with transaction.atomic():
        partner_lock(booking.partner_id)
        locked = Booking.objects.select_for_update().select_related("partner").get(pk=booking.pk)
        _check_changeable(locked, actor=actor, now=now)
        was_hold = locked.status == Booking.Status.PENDING_PAYMENT
        locked.status = Booking.Status.CANCELLED
        locked.cancelled_at = now
        locked.cancelled_because = (
            CancelledBecause.CUSTOMER if actor.is_customer else CancelledBecause.PARTNER
        )
        locked.cancellation_reason = reason
        _validate_fields(locked, "cancellation_reason")
        locked.save(
            update_fields=["status", "cancelled_at", "cancelled_because", "cancellation_reason"]
        )
        if not was_hold:  # a hold was never announced, so its release is not either
            _notify(locked.pk, Notice.CANCELLED, actor=actor, partner_id=locked.partner_id)
        _audit(
            BookingEvent.BOOKING_CANCELLED,
            actor=actor,
            booking=locked,
            because=locked.cancelled_because,
            with_reason=bool(reason),
        )
        booking_cancelled.send(sender=Booking, booking=locked, actor=actor)
    logger.info(
        "booking cancelled",
        extra={"booking_id": locked.pk, "because": locked.cancelled_because},
    )
    return locked


def bookings_cancel_for_erasure(
    *, bookings: list[Booking], actor: Actor, because: CancelledBecause, now: datetime
) -> None:
    """Cancel the upcoming bookings that a partner deletion or a customer's erasure ends
    (booking.deletion, booking.erasure): no cut-off and no email here, the caller tells the
    customer in its own words; paid ones are refunded by payments through `booking_cancelled`.
    Runs in the caller's transaction, under its partner lock."""
    for booking in bookings:
        booking.status = Booking.Status.CANCELLED
        booking.cancelled_at = now
        booking.cancelled_because = because
        booking.save(update_fields=["status", "cancelled_at", "cancelled_because"])
        _audit(BookingEvent.BOOKING_CANCELLED, actor=actor, booking=booking, because=because)
        booking_cancelled.send(sender=Booking, booking=booking, actor=actor)


def booking_confirm(*, booking: Booking, actor: Actor, now: datetime | None = None) -> Booking:
    """A hold was paid: it becomes a confirmed booking and the emails go out. Idempotent (a
    confirmed booking stays as it is).

    A payment can arrive after its hold was released. The booking is then confirmed again if its
    time is still free and still ahead; otherwise SlotTaken (or ChangeNotAllowed for a booking a
    person cancelled, or one whose time has passed), and the caller refunds."""
    now = now or timezone.now()
    with transaction.atomic():
        partner_lock(booking.partner_id)
        locked = Booking.objects.select_for_update().get(pk=booking.pk)
        if locked.status == Booking.Status.CONFIRMED:
            return locked
        if locked.status == Booking.Status.CANCELLED:
            if not locked.hold_was_released:
                raise ChangeNotAllowed(_("This booking was cancelled."))
            if locked.start <= now:
                raise ChangeNotAllowed(_("The time of this booking has passed."))
            _release_expired_holds(partner_id=locked.partner_id, now=now)
            if _overlapping(locked).exists():
                raise SlotTaken()
        was_released = locked.status == Booking.Status.CANCELLED
        locked.status = Booking.Status.CONFIRMED
        locked.cancelled_at = None
        locked.cancelled_because = ""
        locked.cancellation_reason = ""
        _save_blocking(
            locked,
            update_fields=["status", "cancelled_at", "cancelled_because", "cancellation_reason"],
        )
        _notify(locked.pk, Notice.CONFIRMED, actor=actor, partner_id=locked.partner_id)
        _audit(
            BookingEvent.BOOKING_CONFIRMED,
            actor=actor,
            booking=locked,
            after_release=was_released,
        )
    logger.info("booking confirmed after payment", extra={"booking_id": locked.pk})
    return locked


def booking_hold_release(*, booking: Booking, actor: Actor, now: datetime | None = None) -> bool:
    """Release a hold whose time ran out unpaid (the periodic job). False when it is no longer
    an expired hold (paid, cancelled, or not yet expired): safe to run twice."""
    now = now or timezone.now()
    with transaction.atomic():
        partner_lock(booking.partner_id)
        released = Booking.objects.filter(
            pk=booking.pk, status=Booking.Status.PENDING_PAYMENT, hold_expires_at__lte=now
        ).update(
            status=Booking.Status.CANCELLED,
            cancelled_at=now,
            cancelled_because=CancelledBecause.HOLD_EXPIRED,
        )
        if released:
            slot_cache.bump(booking.partner_id)
            _audit(BookingEvent.HOLD_RELEASED, actor=actor, booking=booking)
    if released:
        logger.info("hold released", extra={"booking_id": booking.pk})
    return bool(released)


class KeepStaff(enum.Enum):
    """booking_reschedule's default: the booking stays with its person."""

    KEEP = "keep"


KEEP_STAFF = KeepStaff.KEEP


def booking_reschedule(
    *,
    booking: Booking,
    new_start: datetime,
    actor: Actor,
    now: datetime | None = None,
    staff: StaffMember | None | KeepStaff = KEEP_STAFF,
) -> Booking:
    """Move a booking to another slot in one transaction: the old booking is cancelled and a new
    one created (linked through `rescheduled_from`); either both happen or neither. After a move
    by the business the customer's links follow the booking; after a move by the customer they
    are revoked and the new booking's link (booking.links) replaces them. The booking keeps its
    person unless `staff` says otherwise: None for anyone (assigned like a new booking), or
    another person."""
    now = now or timezone.now()
    if timezone.is_naive(new_start):
        raise ValidationError({"start": _("The start time needs a time zone.")})
    with transaction.atomic():
        partner_lock(booking.partner_id)
        old = (
            Booking.objects.select_for_update()
            .select_related("partner", "service", "staff")
            .get(pk=booking.pk)
        )
        if old.status == Booking.Status.PENDING_PAYMENT:
            raise ChangeNotAllowed(
                _(
                    "This time is reserved until it is paid; pay first, then change the time if "
                    "you need to."
                )
            )
        _release_expired_holds(partner_id=old.partner_id, now=now)
        _check_changeable(old, actor=actor, now=now)
        person = old.staff if staff is KEEP_STAFF else staff
        _check_staff(old.service, person)
        new = _new_booking(
            service=old.service,
            start=new_start,
            customer=CustomerDetails(
                name=old.customer_name,
                email=old.customer_email,
                phone=old.customer_phone,
                notes=old.notes,
                language=old.language,
            ),
            status=old.status,
            now=now,
        )
        _assign(
            new,
            selectors.SlotCheck.prepare(
                service=old.service,
                start=new_start,
                now=now,
                staff=person,
                exclude_booking_id=old.pk,
            ),
        )
        new.rescheduled_from = old
        new.customer_id = old.customer_id
        # The move keeps what the customer chose when booking: their zone and their consent.
        new.time_zone = old.time_zone
        new.marketing_consent_at = old.marketing_consent_at
        new.marketing_notice_version = old.marketing_notice_version
        if actor.is_customer:
            # The customer moved it: every older link is revoked (the old row's version changes,
            # and its predecessors' whose links would follow it; the old random link goes); the
            # new booking's link reaches them on the page they are on and in the email.
            old.manage_link_version = new_link_version()
            old.manage_token_hash = None
            _revoke_earlier_links(old)
        else:
            # The business moved it: the links the customer holds follow the booking (a derived
            # one through rescheduled_from, an old random one through its hash, moved here).
            new.manage_token_hash = old.manage_token_hash
            old.manage_token_hash = None
        old.status = Booking.Status.CANCELLED
        old.cancelled_at = now
        old.cancelled_because = CancelledBecause.RESCHEDULED
        old.cancellation_reason = ""
        old.save(
            update_fields=[
                "status",
                "cancelled_at",
                "cancelled_because",
                "cancellation_reason",
                "manage_token_hash",
                "manage_link_version",
            ]
        )
        moved = {"from_booking_id": old.pk, "from_staff_id": old.staff_id}
        _insert_and_announce(
            new, Notice.RESCHEDULED, BookingEvent.BOOKING_RESCHEDULED, actor, moved
        )
    logger.info("booking rescheduled", extra={"booking_id": new.pk, "from_booking_id": old.pk})
    return new


def booking_manage_link_rotate(
    *, booking: Booking, actor: Actor, send: bool = True, now: datetime | None = None
) -> Booking:
    """Revoke every manage link of a booking (a new link version; an old random link goes too)
    and, with `send`, email the customer the new one."""
    now = now or timezone.now()
    with transaction.atomic():
        locked = Booking.objects.select_for_update().get(pk=booking.pk)
        locked.manage_link_version = new_link_version()
        locked.manage_token_hash = None
        locked.save(update_fields=["manage_link_version", "manage_token_hash"])
        _revoke_earlier_links(locked)
        if send:
            _send_links(booking_ids=[locked.pk])
        _audit(BookingEvent.MANAGE_LINK_ROTATED, actor=actor, booking=locked)
    logger.info("manage link rotated", extra={"booking_id": locked.pk})
    return locked


def _send_links(*, booking_ids: list[int], language: str | None = None) -> None:
    """Ids only through the broker: the address is read from the bookings by the task."""
    from booking.tasks import manage_links_send

    transaction.on_commit(partial(manage_links_send.delay, booking_ids, language))


def manage_links_request(
    *,
    partner: Partner,
    email: str,
    actor: Actor,
    language: str | None = None,
    now: datetime | None = None,
) -> None:
    """ "Lost your link?": email the links of the address's upcoming bookings at this partner.
    The caller answers the same whatever happens here (bookings or none, throttled or not), so
    the form tells nobody whether an address has bookings. The links are the bookings' current
    ones, not new versions: a stranger typing someone's address must not revoke the links in
    that customer's mailbox. The email is in `language` (the page's), else in the language of
    the first booking. At most RATE_LIMITS["lost_link_email"] emails per address; beyond
    that nothing is sent. The security event names a keyed hash of the address, never the
    address."""
    now = now or timezone.now()
    fingerprint = selectors.email_fingerprint(email)
    conf = settings.RATE_LIMITS["lost_link_email"]
    allowed = ratelimit.hit(
        scope="lost_link_email",
        key=fingerprint,
        rate=ratelimit.Rate.parse(conf["rate"]),
        fail_open=conf["fail_open"],
    ).allowed
    with transaction.atomic():
        ids = (
            selectors.booking_upcoming_ids_for_email(partner=partner, email=email, now=now)
            if allowed
            else []
        )
        if ids:
            _send_links(booking_ids=ids, language=language)
        record_event(
            event_type=BookingEvent.MANAGE_LINKS_REQUESTED,
            actor=actor,
            target=f"partner:{partner.pk}",
            detail={
                "partner_id": partner.pk,
                "email_fingerprint": fingerprint,
                "bookings": len(ids),
                "throttled": not allowed,
            },
        )
    logger.info(
        "manage links requested",
        extra={"partner_id": partner.pk, "bookings": len(ids), "throttled": not allowed},
    )


def _revoke_earlier_links(booking: Booking) -> None:
    """New link versions for the bookings this one replaced (moves by the business): their
    links follow the moves to this booking (selectors.booking_get_by_token), so revoking this
    booking's links revokes theirs too. Inside the caller's transaction."""
    previous_id = booking.rescheduled_from_id
    for _hop in range(selectors.MAX_MOVES):
        if previous_id is None:
            return
        Booking.objects.filter(pk=previous_id).update(
            manage_link_version=new_link_version(), manage_token_hash=None
        )
        previous_id = (
            Booking.objects.filter(pk=previous_id)
            .values_list("rescheduled_from_id", flat=True)
            .first()
        )
