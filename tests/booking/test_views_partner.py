"""/book/<partner>/: the partner's name and its active services, each linking to its times."""

from __future__ import annotations

from decimal import Decimal

import pytest
from django.test import Client

from booking.models import Partner, Service

pytestmark = pytest.mark.django_db


def test_lists_active_services_with_duration_price_and_link(
    client: Client, partner: Partner, service: Service
) -> None:
    Service.objects.create(
        partner=partner,
        name="Colour",
        slug="colour",
        duration_minutes=90,
        price=Decimal("120.00"),
        currency="CHF",
    )
    Service.objects.create(
        partner=partner, name="Retired", slug="retired", duration_minutes=30, is_active=False
    )

    response = client.get("/book/salon-alpha/")

    assert response.status_code == 200
    text = response.content.decode()
    assert "Salon Alpha" in text
    assert "Haircut" in text and "60 minutes" in text
    assert "Colour" in text and "90 minutes" in text and "CHF 120.00" in text
    assert 'href="/book/salon-alpha/haircut/"' in text
    assert 'href="/book/salon-alpha/colour/"' in text
    assert "Retired" not in text


def test_partner_without_services_says_so(client: Client, partner: Partner) -> None:
    response = client.get("/book/salon-alpha/")
    assert response.status_code == 200
    assert "offers no online bookings" in response.content.decode()


def test_another_partners_services_are_not_listed(
    client: Client, service: Service, other_partner: Partner
) -> None:
    text = client.get("/book/salon-alpha/").content.decode()
    assert "Check-up" not in text and "Clinic Beta" not in text


def test_unknown_partner_is_404(client: Client, partner: Partner) -> None:
    response = client.get("/book/no-such-salon/")
    assert response.status_code == 404
    assert "Not found" in response.content.decode()


def test_names_are_escaped(client: Client, partner: Partner) -> None:
    partner.name = "<script>alert(1)</script>"
    partner.save()
    Service.objects.create(
        partner=partner,
        name="<b>Cut</b>",
        slug="cut",
        duration_minutes=30,
        description="<img src=x>",
    )
    text = client.get("/book/salon-alpha/").content.decode()
    assert "<script>alert(1)" not in text and "&lt;script&gt;alert(1)&lt;/script&gt;" in text
    assert "<b>Cut</b>" not in text and "&lt;b&gt;Cut&lt;/b&gt;" in text
    assert "<img src=x>" not in text


@pytest.mark.parametrize("method", ["post", "put", "delete"])
def test_wrong_method_is_405(client: Client, partner: Partner, method: str) -> None:
    assert getattr(client, method)("/book/salon-alpha/").status_code == 405
