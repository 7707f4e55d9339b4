"""The customer list in the admin: a partner's users see their own customers with their
bookings, never another partner's; support staff see them masked unless granted, and every
unmasked view of platform staff is logged; search is by the whole email address."""

from __future__ import annotations

from datetime import timedelta

import pytest
from admin_world import A_CUSTOMER, A_EMAIL, A_PHONE, B_CUSTOMER, B_EMAIL, build_world
from django.db import connection
from django.test.utils import CaptureQueriesContext

from booking.models import Customer
from security.models import SecurityEvent
from tests.otp_login import login_verified

pytestmark = pytest.mark.django_db
LIST = "/admin/booking/customer/"


@pytest.fixture
def world():
    return build_world()


def _detail(world, which: str = "a") -> str:
    booking = getattr(world, f"{which}_booking")
    return f"{LIST}{booking.customer_id}/change/"


def _access_events():
    return list(SecurityEvent.objects.filter(event_type="support_access").order_by("id"))


def test_owner_sees_own_customers_with_their_bookings(client, world) -> None:
    login_verified(client, world.owner)
    body = client.get(LIST).content.decode()
    assert A_CUSTOMER in body and A_EMAIL in body
    assert B_CUSTOMER not in body and B_EMAIL not in body

    detail = client.get(_detail(world)).content.decode()
    assert A_CUSTOMER in detail and A_PHONE in detail
    assert f"/admin/booking/booking/{world.a_booking.pk}/change/" in detail
    assert world.a_service.name in detail and "Europe/Zurich" in detail
    assert _access_events() == []  # the partner's own data: no support access


def test_another_partners_customer_does_not_exist(client, world) -> None:
    login_verified(client, world.member_b)
    response = client.get(_detail(world, "a"), follow=True)
    assert A_CUSTOMER not in response.content.decode()
    assert response.redirect_chain and response.redirect_chain[-1][0] == "/admin/"


def test_anonymous_is_sent_to_the_login(client, world) -> None:
    response = client.get(LIST)
    assert response.status_code == 302 and "/admin/login/" in response["Location"]


def test_customers_cannot_be_added_changed_or_deleted_here(client, world) -> None:
    login_verified(client, world.owner)
    assert client.get(f"{LIST}add/").status_code == 403
    response = client.post(_detail(world), {"name": "Renamed"})
    assert response.status_code == 403
    assert client.post(f"{_detail(world)[:-7]}delete/").status_code == 403


def test_support_without_grant_sees_customers_masked(client, world) -> None:
    login_verified(client, world.support)
    for url in (LIST, _detail(world)):
        body = client.get(url).content.decode()
        assert A_CUSTOMER not in body and A_EMAIL not in body and "u•••@alpha-cust.example" in body
    assert _access_events() == []


def test_support_with_grant_sees_them_and_each_view_is_logged(client, world) -> None:
    login_verified(client, world.support_granted)
    assert A_CUSTOMER in client.get(_detail(world)).content.decode()
    body = client.get(LIST).content.decode()
    assert A_CUSTOMER in body and B_CUSTOMER not in body  # B did not grant
    events = _access_events()
    assert [e.detail["view"] for e in events] == ["customer", "customer_list"]
    a_customers = sorted(Customer.objects.filter(partner=world.a).values_list("pk", flat=True))
    assert events[0].detail["customer_ids"] == [world.a_booking.customer_id]
    assert events[1].detail["customer_ids"] == a_customers  # the page's rows, all of A
    assert events[0].target == f"customer:{world.a_booking.customer_id}"


@pytest.mark.parametrize(
    ("term", "found"),
    [(A_EMAIL.upper(), True), ("umberto", False), (A_CUSTOMER, False), (B_EMAIL, False)],
)
def test_owner_finds_a_customer_by_the_whole_email(client, world, term: str, found: bool) -> None:
    login_verified(client, world.owner)
    body = client.get(LIST, {"q": term}).content.decode()
    assert (_detail(world) in body) is found
    assert _detail(world, "b") not in body


def test_support_without_grant_cannot_confirm_an_address_by_searching(client, world) -> None:
    login_verified(client, world.support)
    body = client.get(LIST, {"q": A_EMAIL}).content.decode()
    assert _detail(world) not in body


def test_the_list_costs_the_same_queries_for_many_customers(client, world) -> None:
    from tests.booking.admin_world import make_booking

    login_verified(client, world.owner)
    client.get(LIST)
    with CaptureQueriesContext(connection) as few:
        client.get(LIST)
    for n in range(8):
        make_booking(
            world.a_service,
            world.a_booking.start.replace(hour=8) + timedelta(days=n + 3),
            customer_email=f"c{n}@example.com",
        )
    with CaptureQueriesContext(connection) as many:
        client.get(LIST)
    assert len(many) == len(few)
