"""Customer records for tests that write booking rows directly (the services make them)."""

from __future__ import annotations

from booking.models import Customer, Partner
from security.fieldcrypto import blind_index


def customer_record(
    partner: Partner | int, email: str, name: str = "Direct", phone: str = ""
) -> Customer:
    """The partner's customer with this email address, made on first use."""
    partner_id = partner if isinstance(partner, int) else partner.pk
    found = Customer.objects.filter(partner_id=partner_id, email_index=blind_index(email)).first()
    return found or Customer.objects.create(
        partner_id=partner_id, name=name, email=email, phone=phone
    )
