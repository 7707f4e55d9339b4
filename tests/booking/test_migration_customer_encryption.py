"""Migration 0016: the customer data of existing bookings is encrypted in place (C26), with the
email's blind index, and the way back decrypts it."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest
from django.db import connection

from security.fieldcrypto import PREFIX, blind_index
from tests.migrating import migrate_to, migrate_to_latest

BEFORE = [("booking", "0015_customer_email_plain")]
AFTER = [("booking", "0016_customer_data_encrypted")]


def _raw() -> tuple[str, ...]:
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT customer_name, customer_email, customer_phone, notes FROM booking_booking"
        )
        return cursor.fetchone()


@pytest.mark.django_db(transaction=True)
def test_existing_customer_data_is_encrypted_and_can_be_decrypted_back() -> None:
    apps = migrate_to(BEFORE)
    Partner = apps.get_model("booking", "Partner")
    Service = apps.get_model("booking", "Service")
    StaffMember = apps.get_model("booking", "StaffMember")
    partner = Partner.objects.create(name="P", slug="p", contact_email="p@example.com")
    service = Service.objects.create(partner=partner, name="S", slug="s", duration_minutes=30)
    staff = StaffMember.objects.create(partner=partner, name="Team")
    at = datetime(2026, 5, 4, 9, tzinfo=UTC)
    apps.get_model("booking", "Booking").objects.create(
        partner=partner,
        service=service,
        staff=staff,
        start=at,
        end=at + timedelta(minutes=30),
        busy_start=at,
        busy_end=at + timedelta(minutes=30),
        customer_name="Grace Hopper",
        customer_email="Grace@Navy.example",
        customer_phone="",
        notes="Bring the nanosecond",
        manage_token_hash="0" * 64,
    )

    Booking = migrate_to(AFTER).get_model("booking", "Booking")
    name, email, phone, notes = _raw()
    assert name.startswith(PREFIX) and email.startswith(PREFIX) and notes.startswith(PREFIX)
    assert phone == ""  # nothing to hide, nothing stored
    booking = Booking.objects.get()
    assert (booking.customer_name, booking.customer_email, booking.notes) == (
        "Grace Hopper",
        "Grace@Navy.example",
        "Bring the nanosecond",
    )
    assert booking.customer_email_index == blind_index("grace@navy.example")

    migrate_to(BEFORE)
    assert _raw() == ("Grace Hopper", "Grace@Navy.example", "", "Bring the nanosecond")
    # Back to the latest state for the tests that follow.
    migrate_to_latest()
