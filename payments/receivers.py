"""A paid booking cancelled by a person is refunded in full (C20, issue: "cancelling a paid
booking before the partner's cut-off refunds it"). Customers can only cancel before the cut-off
(booking's rule); when the partner cancels, the customer is refunded too. The refund row is
created in the cancelling transaction, with the actor who cancelled; Stripe is called after
commit."""

from __future__ import annotations

from typing import Any

from booking.models import Booking
from booking.signals import booking_cancelled
from payments import selectors
from payments.models import Refund
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
