"""Customers as records: one per email address per partner, whatever its case; a booking made,
moved or made again points to the customer; migration 0014 gives existing bookings theirs."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, datetime, timedelta

import pytest
import time_machine
from django.db import IntegrityError, transaction

from booking import services
from booking.models import Customer
from security.fieldcrypto import blind_index
from tests.actors import BOOKING_CUSTOMER
from tests.booking.conftest import zurich
from tests.migrating import migrate_to, migrate_to_latest

pytestmark = pytest.mark.django_db


@pytest.fixture(autouse=True)
def _frozen() -> Iterator[None]:
    with time_machine.travel(zurich(2026, 2, 25, 9), tick=False):
        yield


def test_the_first_booking_makes_the_customer_and_later_ones_find_it(service, book) -> None:
    first, _ = book(service, zurich(2026, 3, 2, 10), customer_email="Ada@Example.com")
    second, _ = book(
        service, zurich(2026, 3, 2, 12), customer_email=" ada@EXAMPLE.com", customer_name="A. L."
    )

    customer = Customer.objects.get()
    assert first.customer == second.customer == customer
    assert (customer.name, customer.email) == ("Ada Lovelace", "Ada@Example.com")
    # The second booking keeps what was typed for it; the record is not renamed by it.
    assert second.customer_name == "A. L."


def test_one_address_at_two_partners_is_two_customers(service, other_partner, book) -> None:
    here, _ = book(service, zurich(2026, 3, 2, 10))
    there, _ = book(other_partner.services.get(), zurich(2026, 3, 2, 15))

    assert here.customer != there.customer
    assert {c.partner for c in Customer.objects.all()} == {service.partner, other_partner}


def test_a_moved_booking_stays_with_its_customer(service, book) -> None:
    booking, _ = book(service, zurich(2026, 3, 2, 10))
    moved = services.booking_reschedule(
        booking=booking, new_start=zurich(2026, 3, 3, 10), actor=BOOKING_CUSTOMER
    )
    assert moved.customer == booking.customer
    assert Customer.objects.count() == 1


def test_the_database_keeps_one_record_per_address_per_partner(service, book) -> None:
    booking, _ = book(service, zurich(2026, 3, 2, 10))
    with pytest.raises(IntegrityError), transaction.atomic():
        Customer.objects.create(partner=service.partner, name="Twin", email="ADA@example.com")
    assert booking.customer.email_index == blind_index("ada@example.com")


# --- migration 0014 --------------------------------------------------------------------------------

BEFORE = [("booking", "0016_customer_data_encrypted")]
AFTER = [("booking", "0018_booking_customer_required")]


@pytest.mark.django_db(transaction=True)
def test_existing_bookings_get_one_customer_per_address_per_partner() -> None:
    apps = migrate_to(BEFORE)
    Partner = apps.get_model("booking", "Partner")
    Service = apps.get_model("booking", "Service")
    StaffMember = apps.get_model("booking", "StaffMember")
    Booking = apps.get_model("booking", "Booking")
    rows = []
    for slug in ("p", "q"):
        partner = Partner.objects.create(name=slug, slug=slug, contact_email="p@example.com")
        service = Service.objects.create(partner=partner, name="S", slug="s", duration_minutes=30)
        staff = StaffMember.objects.create(partner=partner, name="Team")
        for n, (email, name) in enumerate(
            [("grace@navy.example", "Grace"), ("GRACE@navy.example", "G."), ("ada@x.example", "A")]
        ):
            at = datetime(2026, 5, 4, 9 + n, tzinfo=UTC)
            rows.append(
                Booking.objects.create(
                    partner=partner,
                    service=service,
                    staff=staff,
                    start=at,
                    end=at + timedelta(minutes=30),
                    busy_start=at,
                    busy_end=at + timedelta(minutes=30),
                    customer_name=name,
                    customer_email=email,
                    manage_token_hash=f"{slug}{n}".ljust(64, "0"),
                    created_at=at,
                )
            )

    apps = migrate_to(AFTER)
    Booking = apps.get_model("booking", "Booking")
    Customer = apps.get_model("booking", "Customer")
    assert Customer.objects.count() == 4
    customer_of = {b.pk: b.customer_id for b in Booking.objects.all()}
    assert customer_of[rows[0].pk] == customer_of[rows[1].pk] != customer_of[rows[2].pk]
    assert customer_of[rows[0].pk] != customer_of[rows[3].pk]  # the other partner's Grace
    assert Customer.objects.get(pk=customer_of[rows[1].pk]).name == "Grace"  # the earliest
    migrate_to_latest()
