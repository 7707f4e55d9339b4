"""The security event types of payments, registered with security at start-up (PaymentsConfig)."""

from __future__ import annotations

from django.db.models import TextChoices


class PaymentEvent(TextChoices):
    PAYMENT_WEBHOOK_REJECTED = (
        "payment_webhook_rejected",
        "Payment webhook refused (signature, age, format)",
    )
    PAYMENT_WEBHOOK_REPLAYED = "payment_webhook_replayed", "Payment webhook event received again"
    PAYMENT_MISMATCH = "payment_mismatch", "Payment event not matching our records"
    REFUND = "refund", "Payment refunded"
