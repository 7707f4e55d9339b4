"""A customer pays in Chromium (C20, C06): the Card Element and confirmCardPayment of the
Stripe.js substitute served by the stand-in, under the payment page's CSP, with zero
violations. The card goes from the browser to the stand-in only: no request to our server
carries it. A declined card shows Stripe's message; the unpaid hold then expires and its time
is offered again."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from datetime import time as clock
from urllib.parse import quote
from zoneinfo import ZoneInfo

import pytest

from booking.models import Booking
from payments.services import holds_release
from tests.payments.conftest import DECLINED_CARD, TEST_CARD, wait_for

ZURICH = ZoneInfo("Europe/Zurich")
pytestmark = [
    pytest.mark.slow,
    pytest.mark.django_db(transaction=True),
    pytest.mark.usefixtures("webhooks_to_live_server"),
]


def _start(days: int, hour: int = 10) -> datetime:
    return datetime.combine(
        datetime.now(ZURICH).date() + timedelta(days=days), clock(hour), tzinfo=ZURICH
    )


def _param(moment: datetime) -> str:
    return quote(moment.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%SZ"), safe="")


def _book_and_open_payment(page, live_server, start: datetime, email: str) -> None:
    page.goto(
        f"{live_server.url}/book/clinic-paid/consultation/book/?start={_param(start)}&tz=Europe%2FZurich"
    )
    page.fill("#id_customer_name", "Ada Lovelace")
    page.fill("#id_customer_email", email)
    page.get_by_role("button", name="Continue to payment").click()
    page.wait_for_url("**/pay/**")
    page.wait_for_selector("#card-element input")


def _type_card(page, number: str) -> None:
    # The stand-in's Card Element (real Stripe.js puts these fields in its own frame).
    page.fill("#card-element input[placeholder=number]", number)
    page.fill("#card-element input[placeholder=exp_month]", "12")
    page.fill("#card-element input[placeholder=exp_year]", "34")
    page.fill("#card-element input[placeholder=cvc]", "123")
    page.fill("#card-element input[placeholder=postal_code]", "8001")


def test_a_customer_pays_by_card_and_sees_the_confirmation(
    page, live_server, paid_service, stripe_on
) -> None:
    ours = []
    page.on(
        "request",
        lambda r: (
            ours.append(f"{r.url} {r.post_data or ''}")
            if r.url.startswith(live_server.url)
            else None
        ),
    )
    _book_and_open_payment(page, live_server, _start(3), "ada@example.com")
    assert "Pay CHF 150.00" in page.inner_text("#pay-button")
    _type_card(page, TEST_CARD)
    page.get_by_role("button", name="Pay CHF 150.00").click()
    page.wait_for_url("**/pay/status/**")
    assert page.get_attribute("#payment-state", "data-state") == "paid"
    assert "you're booked" in page.inner_text("main")
    booking = Booking.objects.get()
    assert booking.status == Booking.Status.CONFIRMED
    assert page.evaluate("window.__violations") == [], "CSP violations"
    assert page.problems == []
    assert not [r for r in ours if TEST_CARD in r or "cvc" in r], "the card reached our server"
    # The webhook arrives too, and finds the payment already processed.
    assert wait_for(
        lambda: booking.payment.events.filter(event_type="payment_intent.succeeded").exists()
    )


def test_a_declined_card_shows_stripes_error_and_the_hold_later_frees_the_time(
    page, live_server, paid_service, stripe_on
) -> None:
    start = _start(4)
    _book_and_open_payment(page, live_server, start, "bob@example.com")
    _type_card(page, DECLINED_CARD)
    page.get_by_role("button", name="Pay CHF 150.00").click()
    page.wait_for_selector("#card-errors:has-text('declined')")
    assert page.inner_text("#card-errors") == "Your card was declined."
    assert page.is_enabled("#pay-button")  # another card may be tried
    assert page.evaluate("window.__violations") == []
    # Chromium reports the stand-in's 402 answer as a failed resource (real Stripe.js too).
    assert [p for p in page.problems if "402" not in p] == []
    booking = Booking.objects.get()
    assert booking.status == Booking.Status.PENDING_PAYMENT

    slot_link = f"a[href*='start={_param(start)}']"
    page.goto(
        f"{live_server.url}/book/clinic-paid/consultation/?week={start.date().isoformat()}&tz=Europe%2FZurich"
    )
    assert page.locator(slot_link).count() == 0  # held
    holds_release(now=booking.hold_expires_at + timedelta(seconds=1))
    booking.refresh_from_db()
    assert booking.status == Booking.Status.CANCELLED
    page.reload()
    assert page.locator(slot_link).count() == 1  # offered again


def test_every_payment_page_state_is_clean_under_csp(
    page, live_server, paid_service, stripe_on, hold, settings
) -> None:
    booking, token = hold(_start(5))
    expired, expired_token = hold(_start(6), customer_email="eve@example.com")
    Booking.objects.filter(pk=expired.pk).update(
        hold_expires_at=expired.hold_expires_at - timedelta(hours=1)
    )
    base = live_server.url
    pages = [
        (f"{base}/manage/{token}/", 200),
        (f"{base}/manage/{token}/pay/", 200),
        (f"{base}/manage/{token}/pay/status/", 200),
        (f"{base}/manage/{expired_token}/pay/", 410),
        (f"{base}/manage/{expired_token}/", 200),
        (f"{base}/book/clinic-paid/consultation/", 200),
    ]
    for url, status in pages:
        response = page.goto(url)
        assert response is not None and response.status == status, url
        page.wait_for_load_state("load")
        assert page.evaluate("window.__violations") == [], f"CSP violations on {url}"
        assert [p for p in page.problems if "Failed to load resource" not in p] == [], url
        page.problems.clear()
    settings.PAYMENTS_ENABLED = False
    response = page.goto(
        f"{base}/book/clinic-paid/consultation/book/?start={_param(_start(7))}&tz=Europe%2FZurich"
    )
    assert response.status == 503 and "Payments are not configured" in page.inner_text("main")
    assert page.evaluate("window.__violations") == []
