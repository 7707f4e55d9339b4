"""POST /manage/<token>/cancel/: the customer cancels, until the partner's cut-off.

Time is frozen at Monday 6 January 2025, 08:00 in Zurich; the booking is on Wednesday 8 January
10:00 Zurich, so the 24 h cut-off is Tuesday 7 January 10:00 Zurich (09:00 UTC).
"""

from __future__ import annotations

import secrets
from collections.abc import Iterator
from datetime import UTC, datetime

import pytest
import time_machine
from django.test import Client

from booking import services
from booking.models import Booking, Service
from tests import hostile_inputs as hostile
from tests.actors import MANAGE_LINK_CUSTOMER
from tests.booking.conftest import zurich

pytestmark = pytest.mark.django_db

NOW = datetime(2025, 1, 6, 7, 0, tzinfo=UTC)
AFTER_CUTOFF = datetime(2025, 1, 7, 9, 30, tzinfo=UTC)
XSS = "<script>alert(1)</script>"


@pytest.fixture(autouse=True)
def _frozen() -> Iterator[time_machine.Coordinates]:
    with time_machine.travel(NOW, tick=False) as traveller:
        yield traveller


@pytest.fixture
def booked(service: Service, book) -> tuple[Booking, str]:
    return book(service, zurich(2025, 1, 8, 10))


def test_customer_cancels_and_sees_it_cancelled(
    client: Client, booked: tuple[Booking, str]
) -> None:
    booking, token = booked
    response = client.post(
        f"/manage/{token}/cancel/", {"reason": "  Ill  ", "tz": "America/New_York"}
    )

    assert response.status_code == 302
    assert response["Location"] == f"/manage/{token}/?tz=America%2FNew_York"
    assert response["Referrer-Policy"] == "strict-origin"
    booking.refresh_from_db()
    assert booking.status == Booking.Status.CANCELLED
    assert booking.cancelled_at == NOW
    assert booking.cancellation_reason == "Ill"
    text = client.get(response["Location"]).content.decode()
    assert "This booking is cancelled. Reason: Ill" in text
    assert "(America/New_York)" in text


def test_reason_is_optional_and_escaped(client: Client, booked: tuple[Booking, str]) -> None:
    booking, token = booked
    response = client.post(f"/manage/{token}/cancel/", {"reason": XSS}, follow=True)
    text = response.content.decode()
    assert XSS not in text and "&lt;script&gt;alert(1)&lt;/script&gt;" in text
    booking.refresh_from_db()
    assert booking.status == Booking.Status.CANCELLED


def test_after_the_cutoff_cancel_is_refused_and_nothing_changes(
    client: Client, booked: tuple[Booking, str], _frozen
) -> None:
    booking, token = booked
    _frozen.move_to(AFTER_CUTOFF)
    response = client.post(f"/manage/{token}/cancel/", {"reason": "late"})
    assert response.status_code == 400
    assert (
        "Changes are possible until 24 hours before the appointment." in response.content.decode()
    )
    booking.refresh_from_db()
    assert booking.status == Booking.Status.CONFIRMED


def test_cancelling_twice_is_refused(client: Client, booked: tuple[Booking, str]) -> None:
    booking, token = booked
    services.booking_cancel(booking=booking, reason="first", actor=MANAGE_LINK_CUSTOMER)
    response = client.post(f"/manage/{token}/cancel/", {"reason": "second"})
    assert response.status_code == 400
    assert "already cancelled" in response.content.decode()
    booking.refresh_from_db()
    assert booking.cancellation_reason == "first"


def test_over_long_reason_is_400_and_nothing_changes(
    client: Client, booked: tuple[Booking, str]
) -> None:
    booking, token = booked
    response = client.post(f"/manage/{token}/cancel/", {"reason": "x" * 501})
    assert response.status_code == 400
    assert "at most 500 characters" in response.content.decode()
    booking.refresh_from_db()
    assert booking.status == Booking.Status.CONFIRMED


def test_csrf_is_enforced(booked: tuple[Booking, str]) -> None:
    booking, token = booked
    response = Client(enforce_csrf_checks=True).post(f"/manage/{token}/cancel/", {"reason": ""})
    assert response.status_code == 403
    booking.refresh_from_db()
    assert booking.status == Booking.Status.CONFIRMED


def test_unknown_token_is_404_and_nothing_changes(
    client: Client, booked: tuple[Booking, str]
) -> None:
    booking, _ = booked
    assert client.post(f"/manage/{secrets.token_urlsafe(32)}/cancel/").status_code == 404
    booking.refresh_from_db()
    assert booking.status == Booking.Status.CONFIRMED


@pytest.mark.parametrize("method", ["get", "put", "delete"])
def test_wrong_method_is_405_and_nothing_changes(
    client: Client, booked: tuple[Booking, str], method: str
) -> None:
    booking, token = booked
    assert getattr(client, method)(f"/manage/{token}/cancel/").status_code == 405
    booking.refresh_from_db()
    assert booking.status == Booking.Status.CONFIRMED


@pytest.mark.parametrize("tz", hostile.ZONES)
def test_hostile_zones_are_refused_with_400_and_nothing_changes(
    client: Client, booked: tuple[Booking, str], tz: str
) -> None:
    old, token = booked
    assert client.post(f"/manage/{token}/cancel/", {"tz": tz}).status_code == 400
    old.refresh_from_db()
    assert old.status == Booking.Status.CONFIRMED
