"""A paid booking cancelled by a person is refunded in full (C20, issue: "cancelling a paid
booking before the partner's cut-off refunds it"). Customers can only cancel before the cut-off
(booking's rule); when the partner cancels, the customer is refunded too. The refund row is
created in the cancelling transaction, with the actor who cancelled; Stripe is called after
commit."""

from __future__ import annotations

from typing import Any

from booking.models import Booking, Partner
from booking.signals import booking_cancelled, partner_deleting, partner_deletion_preview
from payments import selectors
from payments.models import Payment, Refund
from payments.refunds import refund_request
from security.actors import Actor


def refund_cancelled_booking(sender: Any, booking: Booking, actor: Actor, **kwargs: Any) -> None:
    payment = selectors.payment_for_booking(booking=booking)
    if payment is None or not payment.is_refundable:
        return
    refund_request(payment=payment, reason=Refund.Reason.CANCELLED, actor=actor)


booking_cancelled.connect(
    refund_cancelled_booking, dispatch_uid="payments.refund_cancelled_booking"
)


def detach_partner_payments(
    sender: Any, partner: Partner, booking_ids: list[int], **kwargs: Any
) -> None:
    """Partner deletion: the partner's payments (and their refunds) stay as accounting records,
    without their bookings. Refunds of the cancelled bookings were requested before this, in the
    same transaction (booking_cancelled)."""
    for start in range(0, len(booking_ids), 500):
        Payment.objects.filter(booking_id__in=booking_ids[start : start + 500]).update(booking=None)


def count_partner_refunds(
    sender: Any, partner: Partner, booking_ids: list[int], **kwargs: Any
) -> dict[str, int]:
    """Partner deletion preview: how many of the future bookings would be refunded."""
    refundable = Payment.objects.filter(
        booking_id__in=booking_ids, status=Payment.Status.SUCCEEDED, refund__isnull=True
    )
    return {"refunds": refundable.count()}


partner_deleting.connect(detach_partner_payments, dispatch_uid="payments.detach_partner_payments")
partner_deletion_preview.connect(
    count_partner_refunds, dispatch_uid="payments.count_partner_refunds"
)
