"""Refunds (C20): always the full amount, at most one per payment.

`refund_request` decides, in the caller's transaction: it creates the Refund row (the one-per-
payment constraint makes a second request a no-op) and sends it to Stripe after commit.
`refund_submit` talks to Stripe with an idempotency key derived from the row, so a retried task,
a resubmission by the periodic job or a double click never refunds twice. Refund states then
follow Stripe's events (payments.webhooks).
"""

from __future__ import annotations

import logging
from collections.abc import Mapping
from datetime import datetime, timedelta
from typing import Any

import stripe
from django.db import transaction
from django.utils import timezone

from payments import stripe_api
from payments.events import PaymentEvent
from payments.models import Payment, Refund
from security.actors import Actor
from security.events import record_event

logger = logging.getLogger(__name__)

# A requested refund not at Stripe after this long is sent again by the periodic job (the task
# was lost, or Stripe was unreachable through all its retries).
RESUBMIT_AFTER = timedelta(minutes=5)
_STRIPE_STATES = {
    "pending": Refund.Status.PENDING,
    "requires_action": Refund.Status.PENDING,
    "succeeded": Refund.Status.SUCCEEDED,
    "failed": Refund.Status.FAILED,
    "canceled": Refund.Status.CANCELED,
}


class RefundNotPossible(Exception):
    """The message is safe to show the partner."""


def refund_request(
    *, payment: Payment, reason: Refund.Reason, actor: Actor, now: datetime | None = None
) -> Refund:
    """Refund `payment` in full. Returns the existing refund when there is one (idempotent).
    Raises RefundNotPossible for a payment that was never paid."""
    now = now or timezone.now()
    with transaction.atomic():
        locked = Payment.objects.select_for_update().get(pk=payment.pk)
        existing = Refund.objects.filter(payment=locked).first()
        if existing is not None:
            return existing
        if locked.status != Payment.Status.SUCCEEDED or locked.amount_refunded >= locked.amount:
            raise RefundNotPossible(
                "Only a completed payment that has not been refunded can be refunded."
            )
        refund = Refund.objects.create(
            payment=locked,
            amount=locked.amount - locked.amount_refunded,
            reason=reason,
            created_at=now,
            updated_at=now,
        )
        record_event(
            event_type=PaymentEvent.REFUND,
            actor=actor,
            target=f"payment {locked.pk}",
            detail={
                "booking_id": locked.booking_id,
                "amount": refund.amount,
                "currency": locked.currency,
                "reason": reason,
            },
        )
        transaction.on_commit(lambda: _enqueue(refund.pk))
    logger.info(
        "refund requested",
        extra={"refund_id": refund.pk, "payment_id": locked.pk, "reason": reason},
    )
    return refund


def _enqueue(refund_id: int) -> None:
    from payments.tasks import refund_submit_task

    refund_submit_task.delay(refund_id)


def refund_submit(*, refund_id: int, now: datetime | None = None) -> Refund:
    """Create the refund at Stripe (once; the idempotency key makes a repeat return the same
    refund) and email the customer the first time it is accepted. Raises stripe.StripeError when
    Stripe cannot be reached, for the task to retry."""
    now = now or timezone.now()
    refund = Refund.objects.select_related("payment").get(pk=refund_id)
    if refund.stripe_refund_id:
        return refund
    try:
        stripe_refund = (
            stripe_api.client()
            .v1.refunds.create(
                params={
                    "payment_intent": refund.payment.stripe_payment_intent_id,
                    "amount": refund.amount,
                    "metadata": {
                        "refund_id": str(refund.pk),
                        "booking_id": str(refund.payment.booking_id or ""),
                    },
                },
                options={"idempotency_key": refund.idempotency_key},
            )
            .to_dict()
        )
    except stripe.InvalidRequestError as exc:
        # Stripe refuses this refund for good (e.g. the charge was disputed): retrying would not
        # help. Marked failed for the partner and operators to see, never resent by the job.
        Refund.objects.filter(pk=refund_id, stripe_refund_id__isnull=True).update(
            status=Refund.Status.FAILED, updated_at=now
        )
        logger.error(
            "stripe refused the refund",
            extra={"refund_id": refund_id, "stripe_code": exc.code or ""},
        )
        refund.refresh_from_db()
        return refund
    first = False
    with transaction.atomic():
        locked = Refund.objects.select_for_update().select_related("payment").get(pk=refund_id)
        if not locked.stripe_refund_id:
            first = True
            locked.stripe_refund_id = stripe_refund["id"]
            _apply_state(locked, stripe_refund, now)
    if first:
        from payments.tasks import refund_email_task

        transaction.on_commit(lambda: refund_email_task.delay(refund_id))
        logger.info(
            "refund sent to stripe", extra={"refund_id": refund_id, "status": locked.status}
        )
    return locked


def _apply_state(refund: Refund, stripe_refund: Mapping[str, Any], now: datetime) -> None:
    status = _STRIPE_STATES.get(str(stripe_refund.get("status", "")), refund.status)
    refund.status = status
    refund.updated_at = now
    refund.save(update_fields=["stripe_refund_id", "status", "updated_at"])
    if status == Refund.Status.SUCCEEDED:
        Payment.objects.filter(pk=refund.payment_id).update(
            amount_refunded=refund.amount, updated_at=now
        )


def refund_apply_stripe(
    *, stripe_refund: Mapping[str, Any], now: datetime | None = None
) -> Refund | None:
    """A refund event from Stripe (refund.created/updated/failed, charge.refund.updated): our
    refund follows its state. Refunds we did not ask for (made in Stripe's dashboard) are not
    ours to track here; None."""
    now = now or timezone.now()
    metadata = stripe_refund.get("metadata") or {}
    rows = Refund.objects.select_for_update()
    refund = rows.filter(stripe_refund_id=str(stripe_refund.get("id", ""))).first()
    if refund is None and str(metadata.get("refund_id", "")).isdigit():
        refund = rows.filter(pk=int(metadata["refund_id"]), stripe_refund_id__isnull=True).first()
    if refund is None:
        return None
    if refund.payment.stripe_payment_intent_id != str(stripe_refund.get("payment_intent", "")):
        return None
    refund.stripe_refund_id = str(stripe_refund["id"])
    _apply_state(refund, stripe_refund, now)
    return refund


def refunds_resubmit(*, now: datetime) -> int:
    """Send again the refunds that were decided but never reached Stripe."""
    stale = Refund.objects.filter(
        stripe_refund_id__isnull=True,
        status=Refund.Status.REQUESTED,
        created_at__lte=now - RESUBMIT_AFTER,
    ).values_list("pk", flat=True)
    count = 0
    for refund_id in stale:
        _enqueue(refund_id)
        count += 1
    return count
