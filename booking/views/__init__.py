"""The customer pages: pick a service, pick a time, book, and manage the booking through the
private link. Server-rendered HTML that works without JavaScript.

Each view parses its input with a form (booking.forms), calls a selector or one service and
renders; the booking rules (what is a slot, what is free, until when a booking may change) stay
in booking.services / booking.selectors. Error pages carry a message a customer can act on.
"""

from booking.views.common import booking_or_404, customer_zone, mark_private, private_page
from booking.views.customer import book, partner_page, service_page
from booking.views.lost_link import lost_link
from booking.views.manage import (
    manage,
    manage_cancel,
    manage_cancel_confirm,
    manage_renew,
    manage_reschedule,
    manage_reschedule_confirm,
)

__all__ = [
    "book",
    "booking_or_404",
    "customer_zone",
    "lost_link",
    "manage",
    "manage_cancel",
    "manage_cancel_confirm",
    "manage_renew",
    "manage_reschedule",
    "manage_reschedule_confirm",
    "mark_private",
    "partner_page",
    "private_page",
    "service_page",
]
