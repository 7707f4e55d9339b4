"""Back from the payment page, "Continue to payment" again for the same slot and email leads to
the customer's own hold's payment page, not to "just taken" — but only in the browser that made
the hold (a signed cookie): knowing someone's email is not enough to reach their payment page."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from datetime import time as clock
from typing import Any
from zoneinfo import ZoneInfo

import pytest
import time_machine
from django.core import signing
from django.test import Client

from booking.links import manage_token_for
from booking.models import Booking
from booking.views.customer import HOLD_COOKIE, HOLD_COOKIE_SALT

ZURICH = ZoneInfo("Europe/Zurich")
URL = "/book/clinic-paid/consultation/book/"

pytestmark = [pytest.mark.django_db, pytest.mark.usefixtures("stripe_on")]


def _start() -> str:
    day = datetime.now(ZURICH).date() + timedelta(days=3)
    moment = datetime.combine(day, clock(10), tzinfo=ZURICH)
    return moment.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


def _form(**overrides: str) -> dict[str, Any]:
    return {
        "start": _start(),
        "tz": "America/New_York",
        "customer_name": "Ada",
        "customer_email": "ada@example.com",
        **overrides,
    }


def _pay_url(hold: Booking) -> str:
    return f"/manage/{manage_token_for(hold)}/pay/?tz=America%2FNew_York"


@pytest.fixture
def held(client: Client, paid_service) -> Booking:
    response = client.post(URL, _form())
    assert response.status_code == 302
    hold = Booking.objects.get()
    assert response["Location"] == _pay_url(hold)
    cookie = response.cookies[HOLD_COOKIE]
    assert cookie["httponly"] and cookie["samesite"] == "Lax"
    assert cookie["path"] == "/book/clinic-paid/"
    assert 0 < int(cookie["max-age"]) <= 24 * 60 * 60
    assert manage_token_for(hold) not in cookie.value  # names the hold, holds no link
    return hold


def test_back_from_payment_continue_again_leads_to_the_same_hold(
    client: Client, held: Booking
) -> None:
    # The booking form for the time (browser back) offers it, saying it is held for them.
    page = client.get(URL, {"start": _start(), "tz": "America/New_York"})
    assert page.status_code == 200
    assert "This time is held for you until" in page.content.decode()
    assert "just taken" not in page.content.decode()

    again = client.post(URL, _form(customer_email="  ADA@example.com "))
    assert again.status_code == 302
    assert again["Location"] == _pay_url(held)
    assert "no-store" in again["Cache-Control"]
    assert Booking.objects.count() == 1  # no second hold


def test_an_attacker_who_knows_the_email_gets_just_taken(client: Client, held: Booking) -> None:
    attacker = Client()
    page = attacker.get(URL, {"start": _start(), "tz": "America/New_York"})
    assert page.status_code == 409 and "just taken" in page.content.decode()
    response = attacker.post(URL, _form())
    assert response.status_code == 409
    text = response.content.decode()
    assert "just taken" in text and manage_token_for(held) not in text
    assert "Location" not in response


@pytest.mark.parametrize(
    "forged",
    [
        "1:anything",  # unsigned
        "garbage",
        signing.get_cookie_signer(salt="another.salt").sign("1:x"),
    ],
    ids=["unsigned", "garbage", "other-salt"],  # the signed one holds a timestamp: not an id
)
def test_a_forged_cookie_gets_just_taken(client: Client, held: Booking, forged: str) -> None:
    attacker = Client()
    attacker.cookies[HOLD_COOKIE] = forged
    attacker.cookies[HOLD_COOKIE]["path"] = "/book/clinic-paid/"
    response = attacker.post(URL, _form())
    assert response.status_code == 409 and "Location" not in response


def test_a_cookie_with_the_id_but_an_old_link_version_gets_just_taken(
    client: Client, held: Booking
) -> None:
    attacker = Client()
    signer = signing.get_cookie_signer(salt=HOLD_COOKIE + HOLD_COOKIE_SALT)
    attacker.cookies[HOLD_COOKIE] = signer.sign(f"{held.pk}:guessed-version")
    assert attacker.post(URL, _form()).status_code == 409


def test_same_browser_other_email_gets_just_taken(client: Client, held: Booking) -> None:
    response = client.post(URL, _form(customer_email="grace@example.com"))
    assert response.status_code == 409
    assert "just taken" in response.content.decode()


def test_same_browser_other_slot_makes_a_new_hold(client: Client, held: Booking) -> None:
    later = datetime.fromisoformat(_start().replace("Z", "+00:00")) + timedelta(hours=2)
    response = client.post(URL, _form(start=later.strftime("%Y-%m-%dT%H:%M:%SZ")))
    assert response.status_code == 302
    assert Booking.objects.count() == 2 and response["Location"] != _pay_url(held)


def test_an_expired_hold_is_not_resumed(client: Client, held: Booking, settings) -> None:
    with time_machine.travel(held.hold_expires_at + timedelta(seconds=1), tick=False):
        response = client.post(URL, _form())
    # The hold no longer blocks the time: a fresh hold, not the old payment page.
    assert response.status_code == 302
    assert response["Location"] != _pay_url(held)


def test_releasing_a_hold_asks_first(client: Client, held: Booking) -> None:
    token = manage_token_for(held)
    manage = client.get(f"/manage/{token}/").content.decode()
    assert f'href="/manage/{token}/cancel/confirm/' in manage
    page = client.get(f"/manage/{token}/cancel/confirm/")
    text = page.content.decode()
    assert page.status_code == 200 and "Release this time?" in text
    assert "nothing has been paid, so nothing is charged" in text
    assert f'<form method="post" action="/manage/{token}/cancel/"' in text
    held.refresh_from_db()
    assert held.status == Booking.Status.PENDING_PAYMENT
