"""Payments for holds (C20): the PaymentIntent of a hold, what Stripe tells us about it, and the
release of holds that ran out unpaid. Refunds are in payments.refunds, the webhook endpoint's
processing in payments.webhooks.

The booking is confirmed only from Stripe's own word that the PaymentIntent succeeded (a signed
webhook, or the intent fetched from Stripe with our secret key), never from anything the
browser says. Whatever arrives is checked against our record first: the intent id, its booking,
its amount and currency.
"""

from __future__ import annotations

import logging
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import datetime
from typing import Any

import stripe
from django.db import IntegrityError, transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from booking import selectors as booking_selectors
from booking import services as booking_services
from booking.models import Booking
from payments import stripe_api
from payments.events import PaymentEvent
from payments.models import Outcome, Payment, Refund
from payments.money import to_minor
from payments.refunds import refund_request, refunds_resubmit
from security.actors import Actor, Via
from security.events import record_event

logger = logging.getLogger(__name__)

# The actors of what the platform does on its own: the periodic hold-release job, and the
# customer's return page asking Stripe for an intent's state.
_HOLDS_JOB = Actor.system("holds_release")
_STRIPE_READ = Actor.system("payment_refresh", via=Via.STRIPE_API)


class PaymentNotPossible(Exception):
    """This booking cannot be paid (not a hold any more, its hold ran out, or its service has no
    price any more); the message is safe to show the customer."""


def payment_start(
    *, booking: Booking, now: datetime | None = None
) -> tuple[Payment, Mapping[str, Any]]:
    """The PaymentIntent for a hold, and the intent as Stripe has it now (one Stripe call: the
    creation, or a read). Created at Stripe once, with the amount and currency of the service,
    the booking id in its metadata and an idempotency key derived from the booking, so two tabs
    or a retried request share one intent. Raises PaymentNotPossible, or stripe.StripeError when
    Stripe cannot be reached."""
    now = now or timezone.now()
    existing = Payment.objects.filter(booking=booking).first()
    if existing is not None:
        return existing, _intent(existing)
    if (
        booking.status != Booking.Status.PENDING_PAYMENT
        or booking.hold_expires_at is None
        or booking.hold_expires_at <= now
    ):
        raise PaymentNotPossible(_("This reservation has ended; please choose a time again."))
    service = booking.service
    if service.price is None:
        # The partner removed the price while the hold was open: nothing to charge.
        raise PaymentNotPossible(_("This service has no price to pay any more."))
    amount = to_minor(service.price, service.currency)
    intent = (
        stripe_api.client()
        .v1.payment_intents.create(
            params={
                "amount": amount,
                "currency": service.currency.lower(),
                "allowed_payment_method_types": ["card"],
                "metadata": {"booking_id": str(booking.pk), "partner_id": str(booking.partner_id)},
            },
            options={"idempotency_key": f"booking-platform-hold-{booking.pk}"},
        )
        .to_dict()
    )
    try:
        with transaction.atomic():
            payment = Payment.objects.create(
                booking=booking,
                stripe_payment_intent_id=intent["id"],
                amount=amount,
                currency=service.currency.upper(),
                status=intent["status"],
                created_at=now,
                updated_at=now,
            )
    except IntegrityError:
        # A concurrent request stored its intent first: use that one.
        payment = Payment.objects.get(booking=booking)
        if payment.stripe_payment_intent_id != intent["id"]:
            _cancel_quietly(intent["id"])
            return payment, _intent(payment)
        return payment, intent
    logger.info(
        "payment intent created",
        extra={"booking_id": booking.pk, "payment_id": payment.pk, "amount": amount},
    )
    return payment, intent


def _intent(payment: Payment) -> Mapping[str, Any]:
    return (
        stripe_api.client().v1.payment_intents.retrieve(payment.stripe_payment_intent_id).to_dict()
    )


def _cancel_quietly(intent_id: str) -> None:
    try:
        stripe_api.client().v1.payment_intents.cancel(intent_id)
    except stripe.StripeError:
        logger.warning(
            "could not cancel a surplus payment intent", extra={"payment_intent": intent_id}
        )


@dataclass(frozen=True)
class Applied:
    outcome: Outcome
    payment: Payment | None = None


def _mismatch(intent: Mapping[str, Any], payment: Payment) -> list[str]:
    problems = []
    metadata = intent.get("metadata") or {}
    # A payment whose booking was deleted with its partner has no booking left to compare.
    if payment.booking_id is not None and str(metadata.get("booking_id", "")) != str(
        payment.booking_id
    ):
        problems.append("booking")
    if intent.get("amount") != payment.amount:
        problems.append("amount")
    if str(intent.get("currency", "")).upper() != payment.currency:
        problems.append("currency")
    received = intent.get("amount_received")
    if intent.get("status") == "succeeded" and received is not None and received != payment.amount:
        problems.append("amount_received")
    return problems


def payment_apply_intent(
    *, intent: Mapping[str, Any], actor: Actor, now: datetime | None = None
) -> Applied:
    """Bring our record in line with a PaymentIntent as Stripe reports it (`actor`: the system,
    via Stripe's webhook or a read of the intent from Stripe's API). On success the hold becomes
    a booking; a payment that arrives after its hold was released confirms it if the time is
    still free, and is refunded in full otherwise. Idempotent. Callers run it inside their
    transaction."""
    now = now or timezone.now()
    with transaction.atomic():
        intent_id = str(intent.get("id", ""))
        partner_id = (
            Payment.objects.filter(stripe_payment_intent_id=intent_id)
            .values_list("booking__partner_id", flat=True)
            .first()
        )
        if partner_id is not None:
            # The partner lock first, as every booking write takes it (and a cancel, which may
            # refund, then locks the payment): one lock order, no deadlock between a webhook and
            # a cancel.
            booking_services.partner_lock(partner_id)
        payment = (
            Payment.objects.select_for_update().filter(stripe_payment_intent_id=intent_id).first()
        )
        if payment is None:
            record_event(
                event_type=PaymentEvent.PAYMENT_MISMATCH,
                actor=actor,
                target=str(intent.get("id", ""))[:100],
                detail={"problem": "unknown_payment_intent"},
            )
            return Applied(Outcome.UNKNOWN_PAYMENT)
        problems = _mismatch(intent, payment)
        if problems:
            record_event(
                event_type=PaymentEvent.PAYMENT_MISMATCH,
                actor=actor,
                target=f"payment {payment.pk}",
                detail={"problem": "does_not_match_our_record", "fields": problems},
            )
            logger.warning(
                "payment intent does not match",
                extra={"payment_id": payment.pk, "fields": problems},
            )
            return Applied(Outcome.MISMATCH, payment)
        status = str(intent.get("status", ""))
        if status not in Payment.Status.values or payment.status == Payment.Status.SUCCEEDED:
            return Applied(Outcome.UNCHANGED, payment)  # a paid payment never goes back
        error = intent.get("last_payment_error") or {}
        payment.status = status
        payment.last_error_code = (
            str(error.get("code") or "")[:64] if status != Payment.Status.SUCCEEDED else ""
        )
        payment.updated_at = now
        if status != Payment.Status.SUCCEEDED:
            payment.save(update_fields=["status", "last_error_code", "updated_at"])
            return Applied(Outcome.UPDATED, payment)
        payment.paid_at = now
        payment.save(update_fields=["status", "last_error_code", "updated_at", "paid_at"])
        logger.info(
            "payment succeeded",
            extra={
                "payment_id": payment.pk,
                "booking_id": payment.booking_id,
                "via": str(actor.via.value),
            },
        )
        return _confirm_or_refund(payment, actor, now)


def _confirm_or_refund(payment: Payment, actor: Actor, now: datetime) -> Applied:
    if payment.booking is None:  # paid after its partner deleted its account
        refund_request(payment=payment, reason=Refund.Reason.BOOKING_GONE, actor=actor)
        return Applied(Outcome.REFUNDED_BOOKING_GONE, payment)
    try:
        booking_services.booking_confirm(booking=payment.booking, actor=actor, now=now)
    except booking_services.SlotTaken:
        refund_request(payment=payment, reason=Refund.Reason.SLOT_TAKEN, actor=actor)
        return Applied(Outcome.REFUNDED_SLOT_TAKEN, payment)
    except booking_services.ChangeNotAllowed:
        refund_request(payment=payment, reason=Refund.Reason.BOOKING_GONE, actor=actor)
        return Applied(Outcome.REFUNDED_BOOKING_GONE, payment)
    return Applied(Outcome.PAID, payment)


def payment_refresh(*, payment: Payment, now: datetime | None = None) -> Payment:
    """Ask Stripe for the intent's state (the customer's return page): the same processing as a
    webhook, so the page shows the real state even before the webhook arrives."""
    if payment.status not in Payment.OPEN:
        return payment
    payment_apply_intent(intent=_intent(payment), actor=_STRIPE_READ, now=now)
    payment.refresh_from_db()
    return payment


def holds_release(*, now: datetime | None = None) -> dict[str, int]:
    """The periodic job: release holds that ran out unpaid (their time is free again at once),
    then cancel the open PaymentIntents of holds that ended (released or cancelled), so they can
    no longer be paid. An intent that was paid meanwhile is processed as paid instead (confirmed
    if its time is free, refunded if not). Safe to run twice and alongside itself."""
    now = now or timezone.now()
    released = sum(
        booking_services.booking_hold_release(booking=booking, actor=_HOLDS_JOB, now=now)
        for booking in booking_selectors.holds_expired(now=now)
    )
    cancelled = failed = 0
    for payment in Payment.objects.filter(
        status__in=Payment.OPEN, booking__status=Booking.Status.CANCELLED
    ):
        try:
            _cancel_intent(payment, _HOLDS_JOB, now)
            cancelled += 1
        except stripe.StripeError:
            failed += 1
            logger.warning(
                "could not cancel payment intent; next run retries",
                extra={"payment_id": payment.pk},
            )
    resubmitted = refunds_resubmit(now=now)
    result = {
        "released": released,
        "intents_cancelled": cancelled,
        "cancel_failed": failed,
        "refunds_resubmitted": resubmitted,
    }
    if any(result.values()):
        logger.info("holds released", extra=result)
    return result


def _cancel_intent(payment: Payment, actor: Actor, now: datetime) -> None:
    intent: Mapping[str, Any]
    try:
        intent = (
            stripe_api.client()
            .v1.payment_intents.cancel(payment.stripe_payment_intent_id)
            .to_dict()
        )
    except stripe.InvalidRequestError:
        # Not cancellable any more: most likely paid (or processing) a moment ago. What Stripe
        # says it is now decides.
        intent = _intent(payment)
    payment_apply_intent(intent=intent, actor=actor, now=now)
