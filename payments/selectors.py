"""Reads of the payments app."""

from __future__ import annotations

from django.db.models import QuerySet

from booking.models import Booking
from payments.models import Payment

# A booking rescheduled many times is still one paid booking; the chain is short in practice.
_MAX_CHAIN = 50


def payment_for_booking(*, booking: Booking) -> Payment | None:
    """The payment of a booking, or of the booking it was rescheduled from (a reschedule makes a
    new booking row; the payment stays with the row it paid for)."""
    current: Booking | None = booking
    for _ in range(_MAX_CHAIN):
        if current is None:
            return None
        payment = Payment.objects.filter(booking_id=current.pk).select_related("booking").first()
        if payment is not None:
            return payment
        current = current.rescheduled_from
    return None


def payment_list_for_partner(*, partner_id: int | None) -> QuerySet[Payment]:
    rows = Payment.objects.select_related(
        "booking", "booking__service", "booking__partner"
    ).prefetch_related("refund")
    return rows if partner_id is None else rows.filter(booking__partner_id=partner_id)
