"""Rough edges at input: an email address with a quoted local part is refused where it is typed
(booking form, widget API, lost-link form) with a message saying what to do, and nothing is
stored; the partner page, the booking form page and the lost-link page are rate-limited per
client address like the other public pages (C01)."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, datetime

import pytest
import time_machine
from django.test import Client

from booking.models import Booking, Service
from tests.booking.test_api_bookings import body, post

pytestmark = pytest.mark.django_db

NOW = datetime(2025, 1, 6, 7, 0, tzinfo=UTC)
# Addresses Django's own validator lets through (others with quotes it already refuses).
QUOTED = ['"x"@example.com', '"ada.lovelace"@example.com', '"a\\b"@example.com']
MESSAGE = "without quotation marks"


@pytest.fixture(autouse=True)
def _frozen() -> Iterator[None]:
    with time_machine.travel(NOW, tick=False):
        yield


@pytest.mark.parametrize("address", QUOTED)
def test_the_booking_form_refuses_a_quoted_address(
    client: Client, service: Service, address: str
) -> None:
    response = client.post(
        "/book/salon-alpha/haircut/book/",
        {
            "start": "2025-01-07T09:00:00Z",
            "tz": "Europe/Zurich",
            "customer_name": "Ada Lovelace",
            "customer_email": address,
        },
    )
    assert response.status_code == 400
    assert MESSAGE in response.content.decode()
    assert not Booking.objects.exists()


@pytest.mark.parametrize("address", QUOTED)
def test_the_widget_api_refuses_a_quoted_address(service: Service, address: str) -> None:
    with time_machine.travel(datetime(2025, 3, 24, 6, 0, tzinfo=UTC), tick=False):
        response = post(Client(), body(customer_email=address))
    assert response.status_code == 400
    assert MESSAGE in " ".join(response.json()["fields"]["customer_email"])
    assert not Booking.objects.exists()


def test_the_lost_link_form_refuses_a_quoted_address(client: Client, service: Service) -> None:
    response = client.post("/lost-link/salon-alpha/", {"email": QUOTED[0]})
    assert response.status_code == 400
    assert MESSAGE in response.content.decode()


def test_a_plain_address_is_still_booked(client: Client, service: Service) -> None:
    response = client.post(
        "/book/salon-alpha/haircut/book/",
        {
            "start": "2025-01-07T09:00:00Z",
            "tz": "Europe/Zurich",
            "customer_name": "Ada Lovelace",
            "customer_email": "ada.o'lovelace+salon@example.com",
        },
    )
    assert response.status_code == 302
    assert Booking.objects.get().customer_email == "ada.o'lovelace+salon@example.com"


@pytest.mark.parametrize(
    "path",
    [
        "/book/salon-alpha/",
        "/book/salon-alpha/haircut/book/?start=2025-01-07T09:00:00Z",
        "/lost-link/salon-alpha/",
    ],
)
def test_public_pages_are_rate_limited_per_client_address(
    service: Service, settings, path: str
) -> None:
    settings.RATE_LIMITS = {**settings.RATE_LIMITS, "pages": {"rate": "3/m", "fail_open": True}}
    one = Client(REMOTE_ADDR="198.51.100.10")
    for _ in range(3):
        assert one.get(path).status_code == 200
    refused = one.get(path)
    assert refused.status_code == 429 and int(refused["Retry-After"]) >= 1
    assert Client(REMOTE_ADDR="198.51.100.11").get(path).status_code == 200
