"""The customer's manage link of a booking, as pages and emails write it (booking.tokens derives
the token; nothing here is stored)."""

from __future__ import annotations

from django.conf import settings
from django.urls import reverse

from booking.models import Booking
from booking.tokens import manage_token


def manage_token_for(booking: Booking) -> str:
    return manage_token(booking_id=booking.pk, version=booking.manage_link_version)


def manage_url(booking: Booking) -> str:
    """The absolute link for emails (outside a request: SITE_URL)."""
    return settings.SITE_URL + reverse("booking:manage", args=[manage_token_for(booking)])
