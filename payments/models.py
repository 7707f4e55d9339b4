"""What the platform keeps of payments (C20): Stripe object ids, amounts, currencies and states.
Never a card number, expiry or security code: cards are typed into Stripe's own fields and go
from the browser to Stripe, and nothing here has a place for them (a test inspects the schema).

Amounts are integers in the currency's minor unit (cents), as Stripe counts them.
"""

from __future__ import annotations

from django.db import models
from django.db.models import F, Q
from django.utils import timezone

from booking.models import Booking
from payments.money import format_minor


class PaymentStatus(models.TextChoices):
    # Stripe's PaymentIntent statuses that occur with cards and automatic capture.
    REQUIRES_PAYMENT_METHOD = "requires_payment_method", "Waiting for the card"
    REQUIRES_CONFIRMATION = "requires_confirmation", "Waiting for confirmation"
    REQUIRES_ACTION = "requires_action", "Waiting for authentication"
    PROCESSING = "processing", "Processing"
    SUCCEEDED = "succeeded", "Paid"
    CANCELED = "canceled", "Cancelled"


class RefundStatus(models.TextChoices):
    REQUESTED = "requested", "Requested (not yet at Stripe)"
    PENDING = "pending", "Pending at Stripe"
    SUCCEEDED = "succeeded", "Refunded"
    FAILED = "failed", "Failed"
    CANCELED = "canceled", "Cancelled"


class Outcome(models.TextChoices):
    """What processing a Stripe event (or a read of an intent) did: stored on each webhook event
    and answered to Stripe."""

    PROCESSING = "processing", "Being processed"
    PAID = "paid", "Paid: the booking is confirmed"
    UPDATED = "updated", "Payment state updated"
    UNCHANGED = "unchanged", "Nothing to change"
    UNKNOWN_PAYMENT = "unknown_payment", "Not a payment of ours"
    MISMATCH = "mismatch", "Does not match our record"
    REFUNDED_SLOT_TAKEN = "refunded_slot_taken", "Paid late, the time was taken: refunded"
    REFUNDED_BOOKING_GONE = "refunded_booking_gone", "Paid for a cancelled booking: refunded"
    REFUND_UPDATED = "refund_updated", "Refund state updated"
    REFUND_NOT_OURS = "refund_not_ours", "A refund we did not ask for"
    IGNORED = "ignored", "Event type not handled"


# Module level, so the CHECK constraints below can list them (Meta cannot see a model's own
# nested classes).
PAYMENT_STATUSES = PaymentStatus.values
REFUND_STATUSES = RefundStatus.values


class Payment(models.Model):
    """One Stripe PaymentIntent for one hold. A reschedule creates a new booking row; the
    payment stays with the booking it paid for and follows the `rescheduled_from` chain."""

    Status = PaymentStatus

    OPEN = (
        Status.REQUIRES_PAYMENT_METHOD,
        Status.REQUIRES_CONFIRMATION,
        Status.REQUIRES_ACTION,
        Status.PROCESSING,
    )

    # Empty once the partner deleted its account (booking.deletion): the payment and its refund
    # stay as accounting records, without the booking and so without personal data.
    booking = models.OneToOneField(
        Booking, null=True, blank=True, on_delete=models.PROTECT, related_name="payment"
    )
    stripe_payment_intent_id = models.CharField(max_length=255, unique=True)
    amount = models.PositiveBigIntegerField()
    currency = models.CharField(max_length=3)  # ISO 4217, upper case as on the service
    status = models.CharField(
        max_length=32, choices=Status.choices, default=Status.REQUIRES_PAYMENT_METHOD
    )
    amount_refunded = models.PositiveBigIntegerField(default=0)
    # Stripe's code for the last failure (e.g. "card_declined"): never the card or its details.
    last_error_code = models.CharField(max_length=64, blank=True)
    created_at = models.DateTimeField(default=timezone.now, editable=False)
    updated_at = models.DateTimeField(default=timezone.now)
    paid_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["-created_at"]
        constraints = [
            models.CheckConstraint(condition=Q(amount__gt=0), name="payment_amount_positive"),
            models.CheckConstraint(
                condition=Q(amount_refunded__lte=F("amount")), name="payment_refund_within_amount"
            ),
            models.CheckConstraint(
                condition=Q(currency__regex=r"^[A-Z]{3}$"), name="payment_currency_iso"
            ),
            models.CheckConstraint(
                condition=Q(status__in=PAYMENT_STATUSES), name="payment_status_valid"
            ),
            models.CheckConstraint(
                condition=~Q(status=PaymentStatus.SUCCEEDED) | Q(paid_at__isnull=False),
                name="payment_paid_at_when_paid",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.amount_display} for booking {self.booking_id} ({self.get_status_display()})"

    @property
    def amount_display(self) -> str:
        return format_minor(self.amount, self.currency)

    @property
    def is_refundable(self) -> bool:
        return (
            self.status == self.Status.SUCCEEDED
            and self.amount_refunded < self.amount
            and not hasattr(self, "refund")
        )


class Refund(models.Model):
    """The full refund of a payment (at most one per payment). Created in the same transaction as
    the decision to refund, then sent to Stripe with an idempotency key derived from its id, so a
    retried task or a second click can never refund twice."""

    Status = RefundStatus

    class Reason(models.TextChoices):
        CANCELLED = "cancelled", "Booking cancelled"
        PARTNER = "partner", "Refunded by the business"
        SLOT_TAKEN = "slot_taken", "Paid after the reserved time was released and taken"
        BOOKING_GONE = "booking_gone", "Paid for a booking that no longer exists"

    payment = models.OneToOneField(Payment, on_delete=models.PROTECT, related_name="refund")
    stripe_refund_id = models.CharField(max_length=255, unique=True, null=True, blank=True)
    amount = models.PositiveBigIntegerField()
    status = models.CharField(max_length=16, choices=Status.choices, default=Status.REQUESTED)
    reason = models.CharField(max_length=16, choices=Reason.choices)
    created_at = models.DateTimeField(default=timezone.now, editable=False)
    updated_at = models.DateTimeField(default=timezone.now)

    class Meta:
        ordering = ["-created_at"]
        constraints = [
            models.CheckConstraint(condition=Q(amount__gt=0), name="refund_amount_positive"),
            models.CheckConstraint(
                condition=Q(status__in=REFUND_STATUSES), name="refund_status_valid"
            ),
        ]

    def __str__(self) -> str:
        return f"Refund of payment {self.payment_id} ({self.get_status_display()})"

    @property
    def idempotency_key(self) -> str:
        return f"booking-platform-refund-{self.pk}"


class WebhookEvent(models.Model):
    """Each Stripe event id we accepted, stored in the transaction that processed it: a second
    delivery of the same id finds it and changes nothing."""

    stripe_event_id = models.CharField(max_length=255, unique=True)
    event_type = models.CharField(max_length=100)
    outcome = models.CharField(max_length=40, choices=Outcome.choices)
    payment = models.ForeignKey(
        Payment, null=True, blank=True, on_delete=models.SET_NULL, related_name="events"
    )
    received_at = models.DateTimeField(default=timezone.now)

    class Meta:
        ordering = ["-received_at"]

    def __str__(self) -> str:
        return f"{self.event_type} {self.stripe_event_id}: {self.outcome}"
