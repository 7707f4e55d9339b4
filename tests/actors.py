"""Actors for tests that call the services directly: who does what is part of every write."""

from __future__ import annotations

from typing import Any

from django.contrib.auth import get_user_model

from booking.models import Partner, PartnerMembership
from booking.services import CustomerDetails
from security.actors import Actor, Via

# A customer on the booking page, and the same customer through the private manage link.
BOOKING_CUSTOMER = Actor.customer(via=Via.BOOKING_PAGE, ip="192.0.2.50")
MANAGE_LINK_CUSTOMER = Actor.customer(via=Via.MANAGE_LINK, ip="192.0.2.51")
# The system (a scheduled job or a provider's webhook) in tests.
TEST_JOB = Actor.system("test_job")

_CUSTOMER_FIELDS = {
    "customer_name": "name",
    "customer_email": "email",
    "customer_phone": "phone",
    "notes": "notes",
}


def customer_details(**fields: Any) -> tuple[CustomerDetails, dict[str, Any]]:
    """Ada's details, with customer_* keywords overriding them; the other keywords returned."""
    values = {"name": "Ada Lovelace", "email": "ada@example.com"}
    rest: dict[str, Any] = {}
    for key, value in fields.items():
        if key in _CUSTOMER_FIELDS:
            values[_CUSTOMER_FIELDS[key]] = value
        else:
            rest[key] = value
    return CustomerDetails(**values), rest


def partner_staff(partner: Partner, email: str = "") -> Actor:
    """A member of `partner`'s staff acting in the admin (created on first use)."""
    email = email or f"staff@{partner.slug}.example"
    user, _ = get_user_model().objects.get_or_create(email=email, defaults={"is_staff": True})
    PartnerMembership.objects.get_or_create(user=user, defaults={"partner": partner})
    return Actor.user(user, ip="192.0.2.60", via=Via.ADMIN)
