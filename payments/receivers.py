"""A paid booking cancelled by a person is refunded in full (C20, issue: "cancelling a paid
booking before the partner's cut-off refunds it"). Customers can only cancel before the cut-off
(booking's rule); when the partner cancels, the customer is refunded too. The refund row is
created in the cancelling transaction; Stripe is called after commit."""

from __future__ import annotations

from typing import Any

from booking.signals import booking_cancelled
from payments import selectors
from payments.models import Refund
from payments.refunds import refund_request
from security.audit import current_request
from security.client_ip import client_ip


def refund_cancelled_booking(sender: Any, booking: Any, by_customer: bool, **kwargs: Any) -> None:
    payment = selectors.payment_for_booking(booking=booking)
    if payment is None or not payment.is_refundable:
        return
    request = current_request()
    actor = getattr(request, "user", None) if request is not None and not by_customer else None
    refund_request(
        payment=payment,
        reason=Refund.Reason.CANCELLED,
        actor=actor,
        ip=client_ip(request) if request is not None else "",
    )


booking_cancelled.connect(
    refund_cancelled_booking, dispatch_uid="payments.refund_cancelled_booking"
)
