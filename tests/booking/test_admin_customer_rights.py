"""The partner exports or anonymises one customer in one logged admin action; members and
support cannot, and nobody reaches another partner's customer."""

from __future__ import annotations

import json

import pytest
from admin_world import A_CUSTOMER, B_CUSTOMER, build_world

from booking.models import Booking, Customer
from security.events import verify_chain
from security.models import SecurityEvent
from tests.otp_login import login_verified

pytestmark = pytest.mark.django_db
LIST = "/admin/booking/customer/"


@pytest.fixture
def world():
    return build_world()


def _act(client, action: str, customer_id: int, **extra: str):
    return client.post(
        LIST, {"action": action, "_selected_action": [str(customer_id)], "index": "0", **extra}
    )


def test_the_owner_exports_one_customer_as_json_and_it_is_logged(client, world) -> None:
    login_verified(client, world.owner)
    response = _act(client, "export_data", world.a_booking.customer_id)
    assert response.status_code == 200 and response["Content-Type"] == "application/json"
    data = json.loads(response.content)
    assert data["customer"]["name"] == A_CUSTOMER
    event = SecurityEvent.objects.get(event_type="data_export")
    assert event.actor_email == world.owner.email and event.detail["format"] == "json"


def test_the_owner_anonymises_a_customer_after_confirming(client, world) -> None:
    login_verified(client, world.owner)
    customer_id = world.a_booking.customer_id
    Booking.objects.filter(pk=world.a_booking.pk).update(
        status=Booking.Status.CANCELLED,
        cancelled_at=world.a_booking.start,
        cancelled_because="partner",
    )
    page = _act(client, "anonymise", customer_id)
    assert page.status_code == 200 and "cannot be undone" in page.content.decode()
    assert Customer.objects.filter(pk=customer_id).exists()
    done = _act(client, "anonymise", customer_id, confirm="yes")
    assert done.status_code == 302
    assert not Customer.objects.filter(pk=customer_id).exists()
    booking = Booking.objects.get(pk=world.a_booking.pk)
    assert booking.customer_name == "" and booking.anonymised_at is not None
    assert SecurityEvent.objects.get(event_type="customer_erased").detail["anonymised"] >= 1
    assert verify_chain() == []
    # The anonymised booking still shows in the partner's lists and on its own page.
    assert client.get(f"/admin/booking/booking/{booking.pk}/change/").status_code == 200
    assert client.get("/admin/booking/booking/").status_code == 200
    assert A_CUSTOMER not in client.get("/admin/booking/booking/").content.decode()


def test_a_customer_with_upcoming_bookings_is_not_anonymised(client, world) -> None:
    login_verified(client, world.owner)
    customer_id = world.a_booking.customer_id
    response = _act(client, "anonymise", customer_id, confirm="yes")
    assert response.status_code == 302
    assert Customer.objects.filter(pk=customer_id).exists()


@pytest.mark.parametrize("who", ["member_b", "support", "stylist_a"])
def test_members_and_support_cannot_export_or_anonymise(client, world, who: str) -> None:
    login_verified(client, getattr(world, who))
    for action in ("export_data", "anonymise"):
        response = _act(client, action, world.a_booking.customer_id, confirm="yes")
        assert response["Content-Type"] != "application/json"
    assert Customer.objects.filter(pk=world.a_booking.customer_id).exists()
    assert not SecurityEvent.objects.filter(event_type__in=["data_export", "customer_erased"])


def test_the_owner_cannot_reach_another_partners_customer(client, world) -> None:
    login_verified(client, world.owner)
    response = _act(client, "export_data", world.b_booking.customer_id)
    assert B_CUSTOMER not in response.content.decode()
    assert not SecurityEvent.objects.filter(event_type="data_export").exists()
