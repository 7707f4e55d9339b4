"""Processing of Stripe's webhook deliveries (C20).

1. The `Stripe-Signature` header is checked against the raw body with our endpoint secret and
   Stripe's default tolerance of 300 s (the official library's `construct_event`). Unsigned,
   wrongly signed, stale or malformed deliveries change nothing, get 400 and a security event.
2. Each event id is stored in the same transaction that processes the event: a second delivery
   of the same id (Stripe retrying, or someone replaying a captured delivery within the
   tolerance) is answered 200 and changes nothing.
3. What an event says is checked against our record (payments.services) before it counts.

Answers follow Stripe's retry logic: 2xx for everything that was handled or can never be
handled (retrying would not help), 400 for a delivery we refuse, and 5xx only when something
on our side failed, so that Stripe delivers it again later.
"""

from __future__ import annotations

import logging
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

import stripe
from django.conf import settings
from django.db import IntegrityError, transaction
from django.utils import timezone

from payments.events import PaymentEvent
from payments.models import Outcome, Payment, WebhookEvent
from payments.refunds import refund_apply_stripe
from payments.services import payment_apply_intent
from security.actors import Actor, Via
from security.events import record_event

logger = logging.getLogger(__name__)

INTENT_EVENTS = frozenset(
    {
        "payment_intent.succeeded",
        "payment_intent.processing",
        "payment_intent.payment_failed",
        "payment_intent.canceled",
        "payment_intent.requires_action",
    }
)
REFUND_EVENTS = frozenset(
    {"refund.created", "refund.updated", "refund.failed", "charge.refund.updated"}
)


@dataclass(frozen=True)
class WebhookResult:
    status: int
    body: dict[str, str]


def _reject(reason: str, ip: str, length: int) -> WebhookResult:
    record_event(
        event_type=PaymentEvent.PAYMENT_WEBHOOK_REJECTED,
        ip=ip,
        target="stripe webhook",
        detail={"reason": reason, "bytes": length},
    )
    logger.warning("stripe webhook refused", extra={"reason": reason, "client_ip": ip})
    return WebhookResult(400, {"error": reason})


def _rejection_reason(exc: stripe.SignatureVerificationError, header: str | None) -> str:
    if not header:
        return "unsigned"
    if "tolerance" in str(exc).lower():
        return "stale_timestamp"
    return "bad_signature"


def webhook_receive(*, payload: bytes, signature: str | None, ip: str) -> WebhookResult:
    try:
        event = stripe.Webhook.construct_event(
            payload,
            signature or "",
            settings.STRIPE_WEBHOOK_SECRET,
            tolerance=settings.STRIPE_WEBHOOK_TOLERANCE_SECONDS,
        ).to_dict()
    except stripe.SignatureVerificationError as exc:
        return _reject(_rejection_reason(exc, signature), ip, len(payload))
    except ValueError:  # signed, but not a JSON event
        return _reject("malformed_payload", ip, len(payload))
    event_id, event_type = str(event.get("id", "")), str(event.get("type", ""))
    if not event_id.startswith("evt_") or not event_type:
        return _reject("malformed_event", ip, len(payload))
    if settings.STRIPE_SECRET_KEY.startswith("sk_live_") and not event.get("livemode"):
        return _reject("test_mode_event_on_live_account", ip, len(payload))

    with transaction.atomic():
        try:
            with transaction.atomic():
                stored = WebhookEvent.objects.create(
                    stripe_event_id=event_id[:255],
                    event_type=event_type[:100],
                    outcome=Outcome.PROCESSING,
                )
        except IntegrityError:
            record_event(
                event_type=PaymentEvent.PAYMENT_WEBHOOK_REPLAYED,
                ip=ip,
                target=event_id[:100],
                detail={"type": event_type[:100]},
            )
            return WebhookResult(200, {"status": "already_processed"})
        outcome, payment = _dispatch(event_type, event.get("data", {}).get("object") or {}, ip)
        stored.outcome, stored.payment = outcome, payment
        stored.save(update_fields=["outcome", "payment"])
    logger.info(
        "stripe webhook processed",
        extra={"stripe_event": event_id, "type": event_type, "outcome": outcome},
    )
    return WebhookResult(200, {"status": outcome})


def _dispatch(event_type: str, obj: Mapping[str, Any], ip: str) -> tuple[Outcome, Payment | None]:
    if event_type in INTENT_EVENTS:
        actor = Actor.system("stripe_webhook", via=Via.STRIPE_WEBHOOK, ip=ip)
        applied = payment_apply_intent(intent=obj, actor=actor)
        return applied.outcome, applied.payment
    if event_type in REFUND_EVENTS:
        refund = refund_apply_stripe(stripe_refund=obj)
        return (
            (Outcome.REFUND_UPDATED, refund.payment) if refund else (Outcome.REFUND_NOT_OURS, None)
        )
    if event_type == "charge.refunded":
        return _charge_refunded(obj)
    return Outcome.IGNORED, None


def _charge_refunded(charge: Mapping[str, Any]) -> tuple[Outcome, Payment | None]:
    payment = (
        Payment.objects.select_for_update()
        .filter(stripe_payment_intent_id=str(charge.get("payment_intent", "")))
        .first()
    )
    if payment is None:
        return Outcome.REFUND_NOT_OURS, None
    for stripe_refund in (charge.get("refunds") or {}).get("data") or []:
        refund_apply_stripe(stripe_refund=stripe_refund)
    refunded = charge.get("amount_refunded")
    if (
        isinstance(refunded, int)
        and 0 <= refunded <= payment.amount
        and refunded > payment.amount_refunded
    ):
        payment.amount_refunded = refunded
        payment.updated_at = timezone.now()
        payment.save(update_fields=["amount_refunded", "updated_at"])
    return Outcome.REFUND_UPDATED, payment
