"""/manage/<token>/: the customer's private page for one booking.

Time is frozen at Monday 6 January 2025, 08:00 in Zurich; the booking is on Wednesday 8 January
10:00-11:00 Zurich, so the 24 h cut-off is Tuesday 7 January 10:00 Zurich (09:00 UTC).
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


@pytest.fixture(autouse=True)
def _frozen() -> Iterator[time_machine.Coordinates]:
    with time_machine.travel(NOW, tick=False) as traveller:
        yield traveller


@pytest.fixture
def booked(service: Service, book) -> tuple[Booking, str]:
    return book(
        service,
        zurich(2025, 1, 8, 10),
        notes="Please <b>ring</b>\ntwice",
        customer_phone="+41 79 1",
    )


def test_shows_the_booking_in_the_partners_zone_by_default(
    client: Client, booked: tuple[Booking, str]
) -> None:
    _, token = booked
    response = client.get(f"/manage/{token}/")

    assert response.status_code == 200
    text = response.content.decode()
    assert "Haircut" in text and "Salon Alpha" in text
    assert text.count("Wednesday, 8 January 2025, 10:00–11:00") == 2  # customer zone = partner zone
    assert "Confirmed" in text
    assert "Ada Lovelace" in text and "ada@example.com" in text and "+41 79 1" in text
    assert "Please &lt;b&gt;ring&lt;/b&gt;<br>twice" in text
    assert (
        "You can change or cancel this booking until Tuesday, 7 January 2025, 10:00 (Europe/Zurich)."
        in text
    )
    # Cancelling goes through its confirmation step (tests/booking/test_views_confirm.py).
    assert f'href="/manage/{token}/cancel/confirm/?tz=Europe%2FZurich"' in text
    assert f'href="/manage/{token}/reschedule/?tz=Europe%2FZurich"' in text
    assert "You're booked!" not in text


def test_shows_the_customers_zone_from_tz(client: Client, booked: tuple[Booking, str]) -> None:
    _, token = booked
    text = client.get(f"/manage/{token}/", {"tz": "America/New_York"}).content.decode()
    assert 'Wednesday, 8 January 2025, 04:00–05:00 <span class="zone">(America/New_York)' in text
    assert 'Wednesday, 8 January 2025, 10:00–11:00 <span class="zone">(Europe/Zurich)' in text


@pytest.mark.parametrize("tz", ["Mars/Base", "<script>alert(1)</script>", "x" * 500])
def test_garbage_zone_falls_back_to_the_partners(
    client: Client, booked: tuple[Booking, str], tz: str
) -> None:
    _, token = booked
    response = client.get(f"/manage/{token}/", {"tz": tz})
    assert response.status_code == 200
    text = response.content.decode()
    assert "(Europe/Zurich)" in text and "<script>alert(1)" not in text


def test_created_banner_shows_the_private_link(client: Client, booked: tuple[Booking, str]) -> None:
    _, token = booked
    text = client.get(f"/manage/{token}/", {"created": "1"}).content.decode()
    assert "You're booked!" in text
    assert (
        f'<a href="http://testserver/manage/{token}/">http://testserver/manage/{token}/</a>' in text
    )


def test_page_is_private(client: Client, booked: tuple[Booking, str]) -> None:
    _, token = booked
    response = client.get(f"/manage/{token}/")
    assert "no-store" in response["Cache-Control"]
    assert response["Referrer-Policy"] == "strict-origin"
    text = response.content.decode()
    assert '<meta name="robots" content="noindex, nofollow">' in text
    assert '<meta name="referrer" content="strict-origin">' in text


def test_after_the_cutoff_no_forms_are_shown(
    client: Client, booked: tuple[Booking, str], _frozen
) -> None:
    _, token = booked
    _frozen.move_to(AFTER_CUTOFF)
    text = client.get(f"/manage/{token}/").content.decode()
    assert "Changes are possible until 24 hours before the appointment." in text
    assert "/cancel/" not in text and "/reschedule/" not in text


def test_cancelled_booking_says_cancelled(client: Client, booked: tuple[Booking, str]) -> None:
    booking, token = booked
    services.booking_cancel(booking=booking, reason="Ill", actor=MANAGE_LINK_CUSTOMER)
    text = client.get(f"/manage/{token}/", {"created": "1"}).content.decode()
    assert "This booking is cancelled. Reason: Ill" in text
    assert "You're booked!" not in text
    assert "/cancel/" not in text and "/reschedule/" not in text


@pytest.mark.parametrize(
    "token",
    [
        secrets.token_urlsafe(32),
        "x",
        "a" * 101,
        "..%2F..%2Fadmin",
        "%00",
        "<script>",
        "' OR 1=1 --",
    ],
    # Named, not shown: a random token as its own id would differ between the parallel test
    # processes, which must collect the same tests.
    ids=["random", "short", "long", "traversal", "nul", "html", "sql"],
)
def test_unknown_forged_or_malformed_token_is_404(
    client: Client, booked: tuple[Booking, str], token: str
) -> None:
    response = client.get(f"/manage/{token}/")
    assert response.status_code == 404
    assert "Not found" in response.content.decode()


def test_a_token_differing_in_one_character_is_404(
    client: Client, booked: tuple[Booking, str]
) -> None:
    _, token = booked
    forged = token[:-1] + ("A" if token[-1] != "A" else "B")
    assert client.get(f"/manage/{forged}/").status_code == 404


@pytest.mark.parametrize("method", ["post", "put", "delete"])
def test_wrong_method_is_405(client: Client, booked: tuple[Booking, str], method: str) -> None:
    _, token = booked
    assert getattr(client, method)(f"/manage/{token}/").status_code == 405


@pytest.mark.parametrize("tz", hostile.ZONES)
def test_a_hostile_zone_shows_the_booking_in_the_partners_zone(
    client: Client, booked: tuple[Booking, str], tz: str
) -> None:
    # A page that only shows a booking falls back to the partner's zone rather than refusing.
    _, token = booked
    response = client.get(f"/manage/{token}/", {"tz": tz})
    assert response.status_code == 200
    assert "Europe/Zurich" in response.content.decode()


@pytest.mark.parametrize("token", ["9" * 5000, "١٢", "\x00", " ", "%00", "..%2f..%2f"])
def test_hostile_tokens_are_404(client: Client, booked: tuple[Booking, str], token: str) -> None:
    assert client.get(f"/manage/{token}/").status_code == 404
