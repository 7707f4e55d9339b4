"""The customer's refund email. Says how much, why, and for which appointment, with the booking's
manage link (derived, never stored: booking.tokens); nothing of the card (we never have it)."""

from __future__ import annotations

import logging
from typing import TYPE_CHECKING

from django.utils import translation
from django.utils.translation import gettext_lazy as _

from booking.i18n import when
from booking.links import manage_url
from payments.models import Refund
from payments.money import format_minor
from security.mail import send_templated_mail

if TYPE_CHECKING:
    from django_stubs_ext import StrOrPromise

logger = logging.getLogger(__name__)

# Each completes "we refunded your payment of CHF 80.00 in full, because ...".
_REASONS: dict[str, StrOrPromise] = {
    Refund.Reason.CANCELLED: _("your booking was cancelled"),
    Refund.Reason.PARTNER: _("the business refunded it"),
    Refund.Reason.SLOT_TAKEN: _(
        "your payment arrived after the reserved time had been released, and the time was booked "
        "by someone else in the meantime, so we could not confirm your booking"
    ),
    Refund.Reason.BOOKING_GONE: _("the booking it was for no longer exists"),
}


def send_refund_email(*, refund_id: int) -> None:
    refund = Refund.objects.select_related(
        "payment__booking__service", "payment__booking__partner"
    ).get(pk=refund_id)
    booking = refund.payment.booking
    if booking is None:
        # The partner deleted its account: the customer was told then, refund included.
        logger.info("refund email skipped: booking deleted", extra={"refund_id": refund.pk})
        return
    if not booking.customer_email:
        # Booked by hand without an email: the business tells the customer itself.
        logger.info("refund email skipped: no email address", extra={"refund_id": refund.pk})
        return
    # In the language the customer booked in, whoever triggered the refund.
    with translation.override(booking.language):
        context = {
            "refund": refund,
            "booking": booking,
            "partner": booking.partner,
            "service": booking.service,
            "amount": format_minor(refund.amount, refund.payment.currency),
            "why": _REASONS.get(refund.reason, _("it was refunded")),
            "manage_url": manage_url(booking),
            "when": when(booking.start, booking.end, booking.partner.zone),
        }
        send_templated_mail(
            template="payments/email/refund",
            context=context,
            to=booking.customer_email,
            reply_to=booking.partner.contact_email,
        )
    logger.info("refund email sent", extra={"refund_id": refund.pk, "booking_id": booking.pk})
