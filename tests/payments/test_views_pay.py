"""The customer's payment pages and the booking pages of a paid service: what the customer sees
in each state, who can reach them, and the payment page's Content-Security-Policy."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from datetime import time as clock
from zoneinfo import ZoneInfo

import pytest
import time_machine

from booking.models import Booking
from payments.models import Payment
from tests import hostile_inputs as hostile
from tests.payments.conftest import (
    PUBLISHABLE_KEY,
    intent_object,
    pay_server_side,
    signed_event,
    start_payment,
)

ZURICH = ZoneInfo("Europe/Zurich")


def _start(days: int = 3, hour: int = 10) -> datetime:
    return datetime.combine(
        datetime.now(ZURICH).date() + timedelta(days=days), clock(hour), tzinfo=ZURICH
    )


def _utc(moment: datetime) -> str:
    return moment.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


def _directives(response) -> dict[str, list[str]]:
    policy = response["Content-Security-Policy"]
    return {part.split()[0]: part.split()[1:] for part in policy.split(";") if part.strip()}


@pytest.mark.usefixtures("stripe_on")
def test_choosing_a_time_of_a_paid_service_holds_it_and_opens_the_payment_page(
    client, paid_service, stripe_on
) -> None:
    form = {
        "start": _utc(_start()),
        "tz": "Europe/Zurich",
        "customer_name": "Ada",
        "customer_email": "ada@example.com",
    }
    book_page = client.get(
        "/book/clinic-paid/consultation/book/", {"start": form["start"], "tz": "Europe/Zurich"}
    )
    assert b"Continue to payment" in book_page.content
    response = client.post("/book/clinic-paid/consultation/book/", form)
    assert response.status_code == 302
    booking = Booking.objects.get()
    assert booking.status == Booking.Status.PENDING_PAYMENT
    pay = client.get(response["Location"])
    assert pay.status_code == 200
    assert pay["Cache-Control"].startswith("max-age=0") or "no-store" in pay["Cache-Control"]
    payment = Payment.objects.get(booking=booking)
    content = pay.content.decode()
    assert f'data-publishable-key="{PUBLISHABLE_KEY}"' in content
    assert f"{payment.stripe_payment_intent_id}_secret_" in content
    assert f'<script src="{stripe_on}/js.stripe.com/v3/"></script>' in content
    assert "Pay CHF 150.00" in content
    # The payment page, and only it, lets Stripe's origin in.
    policy = _directives(pay)
    assert policy["script-src"] == ["'self'", stripe_on]
    assert policy["frame-src"] == [stripe_on]
    assert policy["connect-src"] == ["'self'", stripe_on]
    assert (
        policy["default-src"] == ["'self'"]
        and "'unsafe-inline'" not in pay["Content-Security-Policy"]
    )
    for other in (
        client.get("/book/clinic-paid/"),
        client.get(response["Location"].replace("/pay/", "/")),
    ):
        assert stripe_on not in other["Content-Security-Policy"]


def test_with_real_stripe_urls_the_policy_names_stripes_documented_origins(
    client, hold, paid_service, settings, stripe_on
) -> None:
    from payments.stripe_api import payment_page_csp

    settings.STRIPE_JS_URL = "https://js.stripe.com/v3/"
    settings.STRIPE_API_BASE = "https://api.stripe.com"
    assert payment_page_csp() == {
        "script-src": ["https://js.stripe.com"],
        "frame-src": ["https://js.stripe.com", "https://hooks.stripe.com"],
        "connect-src": ["https://api.stripe.com"],
    }


@pytest.mark.usefixtures("stripe_on")
def test_the_return_page_shows_the_real_state(client, hold, stripe_client) -> None:
    booking, token = hold(_start())
    payment = start_payment(booking)
    status_url = f"/manage/{token}/pay/status/"
    assert b'data-state="not_paid"' in client.get(status_url).content
    pay_server_side(stripe_client, payment, card="4000000000000341")
    failed = client.get(status_url)
    assert b'data-state="failed"' in failed.content and b"card was declined" in failed.content
    pay_server_side(stripe_client, payment)
    # Paid at Stripe; the webhook has not arrived: the page asks Stripe and shows it as paid.
    paid = client.get(status_url)
    assert b'data-state="paid"' in paid.content
    booking.refresh_from_db()
    assert booking.status == Booking.Status.CONFIRMED
    assert client.get(f"/manage/{token}/pay/").status_code == 302  # nothing left to pay


@pytest.mark.usefixtures("stripe_on")
def test_an_expired_hold_cannot_be_paid(client, hold) -> None:
    booking, token = hold(_start())
    with time_machine.travel(booking.hold_expires_at + timedelta(seconds=1), tick=False):
        response = client.get(f"/manage/{token}/pay/")
    assert response.status_code == 410 and b"reservation has ended" in response.content
    assert not Payment.objects.exists()


@pytest.mark.usefixtures("stripe_on")
def test_unknown_and_forged_tokens_get_404(client, hold) -> None:
    hold(_start())
    for token in ("nope", "A" * 43, "../admin", "x" * 200):
        assert client.get(f"/manage/{token}/pay/").status_code == 404
        assert client.get(f"/manage/{token}/pay/status/").status_code == 404


@pytest.mark.usefixtures("stripe_on")
def test_the_stripe_service_down_is_a_clear_503_and_the_hold_stays(client, hold, settings) -> None:
    booking, token = hold(_start())
    settings.STRIPE_API_BASE = "http://127.0.0.1:9"  # nothing listens there
    response = client.get(f"/manage/{token}/pay/")
    assert response.status_code == 503 and b"cannot be reached" in response.content
    booking.refresh_from_db()
    assert booking.status == Booking.Status.PENDING_PAYMENT


def test_without_keys_paid_services_say_payments_are_not_configured(
    client, paid_service, settings
) -> None:
    settings.PAYMENTS_ENABLED = False
    service_page = client.get("/book/clinic-paid/consultation/")
    assert b"Payments are not configured" in service_page.content
    start = _utc(_start())
    book_page = client.get(
        "/book/clinic-paid/consultation/book/", {"start": start, "tz": "Europe/Zurich"}
    )
    assert book_page.status_code == 503 and b"Payments are not configured" in book_page.content
    assert b'<form method="post" action="/book/' not in book_page.content
    posted = client.post(
        "/book/clinic-paid/consultation/book/",
        {
            "start": start,
            "tz": "Europe/Zurich",
            "customer_name": "Ada",
            "customer_email": "ada@example.com",
        },
    )
    assert posted.status_code == 503
    api = client.post(
        "/api/v1/partners/clinic-paid/bookings",
        content_type="application/json",
        data={
            "service": "consultation",
            "start": start,
            "customer_name": "Ada",
            "customer_email": "ada@example.com",
        },
    )
    assert api.status_code == 503 and api.json()["error"] == "payments_not_configured"
    assert not Booking.objects.exists()


@pytest.mark.usefixtures("stripe_on")
def test_the_widget_api_answers_a_paid_service_with_a_hold_and_the_payment_link(
    client, paid_service
) -> None:
    response = client.post(
        "/api/v1/partners/clinic-paid/bookings",
        content_type="application/json",
        data={
            "service": "consultation",
            "start": _utc(_start()),
            "customer_name": "Ada",
            "customer_email": "ada@example.com",
        },
    )
    assert response.status_code == 201
    body = response.json()
    assert body["booking"]["status"] == "pending_payment" and "hold_expires_at" in body["booking"]
    assert body["payment_url"].startswith("http://testserver/manage/") and body[
        "payment_url"
    ].endswith("/pay/")
    assert client.get(body["payment_url"]).status_code == 200


@pytest.mark.usefixtures("stripe_on")
def test_the_manage_page_of_a_hold_offers_to_pay_or_release(client, hold) -> None:
    booking, token = hold(_start())
    page = client.get(f"/manage/{token}/")
    assert b"Pay now" in page.content and b"Release this time" in page.content
    assert b"Choose another time" not in page.content
    reschedule = client.get(f"/manage/{token}/reschedule/")
    assert reschedule.status_code == 400 and b"until it is paid" in reschedule.content


@pytest.mark.usefixtures("stripe_on")
def test_a_confirmed_webhook_then_shows_paid_everywhere(
    client, hold, post_event, stripe_client
) -> None:
    booking, token = hold(_start())
    payment = start_payment(booking)
    post_event(*signed_event("payment_intent.succeeded", intent_object(payment)))
    assert b'data-state="paid"' in client.get(f"/manage/{token}/pay/status/").content
    assert b"Payment details" in client.get(f"/manage/{token}/").content


@pytest.mark.usefixtures("stripe_on")
def test_a_payment_still_processing_says_so_and_refreshes_itself(
    client, hold, post_event, settings
) -> None:
    booking, token = hold(_start())
    payment = start_payment(booking)
    post_event(
        *signed_event("payment_intent.processing", intent_object(payment, status="processing"))
    )
    payment.refresh_from_db()
    assert payment.status == Payment.Status.PROCESSING
    # Stripe cannot be asked right now: the page shows what Stripe's last event said.
    settings.STRIPE_API_BASE = "http://127.0.0.1:9"
    page = client.get(f"/manage/{token}/pay/status/")
    assert page.status_code == 200
    assert b'data-state="processing"' in page.content
    assert b'<meta http-equiv="refresh" content="3">' in page.content
    booking.refresh_from_db()
    assert booking.status == Booking.Status.PENDING_PAYMENT


@pytest.mark.usefixtures("stripe_on")
def test_hostile_zones_fall_back_to_the_partners_zone_on_the_payment_pages(client, hold) -> None:
    # Pages that only show a booking use the partner's zone rather than refusing a bad ?tz=.
    booking, token = hold(_start())
    for tz in hostile.ZONES:
        status = client.get(f"/manage/{token}/pay/status/", {"tz": tz})
        assert status.status_code == 200, tz
        assert b"tz=Europe%2FZurich" in status.content, tz
        with time_machine.travel(booking.hold_expires_at + timedelta(seconds=1), tick=False):
            assert client.get(f"/manage/{token}/pay/", {"tz": tz}).status_code == 410, tz
