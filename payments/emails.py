"""The customer's refund email. Says how much, why, and for which appointment, with the booking's
manage link (derived, never stored: booking.tokens); nothing of the card (we never have it)."""

from __future__ import annotations

import logging

from django.utils import dateformat

from booking.links import manage_url
from payments.models import Refund
from payments.money import format_minor
from security.mail import send_templated_mail

logger = logging.getLogger(__name__)

_REASONS: dict[str, str] = {
    Refund.Reason.CANCELLED: "your booking was cancelled",
    Refund.Reason.PARTNER: "the business refunded it",
    Refund.Reason.SLOT_TAKEN: (
        "your payment arrived after the reserved time had been released, and the time was booked by someone else "
        "in the meantime, so we could not confirm your booking"
    ),
    Refund.Reason.BOOKING_GONE: "the booking it was for no longer exists",
}


def send_refund_email(*, refund_id: int) -> None:
    refund = Refund.objects.select_related(
        "payment__booking__service", "payment__booking__partner"
    ).get(pk=refund_id)
    booking = refund.payment.booking
    zone = booking.partner.zone
    context = {
        "refund": refund,
        "booking": booking,
        "partner": booking.partner,
        "service": booking.service,
        "amount": format_minor(refund.amount, refund.payment.currency),
        "why": _REASONS.get(refund.reason, "it was refunded"),
        "manage_url": manage_url(booking),
        "when": dateformat.format(booking.start.astimezone(zone), "l, j F Y, H:i")
        + f" ({booking.partner.time_zone})",
    }
    send_templated_mail(
        template="payments/email/refund",
        context=context,
        to=booking.customer_email,
        reply_to=booking.partner.contact_email,
    )
    logger.info("refund email sent", extra={"refund_id": refund.pk, "booking_id": booking.pk})
