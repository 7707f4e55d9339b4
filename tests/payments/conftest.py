"""Payment tests run against a Stripe stand-in (tests/payments/stripe_standin.py: localstripe plus
the browser-side confirm) started once per session on a free loopback port, through the real
`stripe` library. Webhooks are signed with Stripe's scheme: by the stand-in when it delivers
them to a live server, by `signed_event` when a test plays Stripe (or an attacker)."""

from __future__ import annotations

import hashlib
import hmac
import json
import subprocess
import sys
import time
import urllib.error
import urllib.request
from collections.abc import Callable, Iterator
from datetime import datetime
from datetime import time as clock
from decimal import Decimal
from pathlib import Path
from typing import Any

import pytest
import stripe
from django.conf import settings as django_settings

from booking import services as booking_services
from booking.models import Booking, OpeningHours, Partner, Service
from payments.models import Payment
from payments.services import payment_start
from tests.actors import BOOKING_CUSTOMER, customer_details
from tests.app_servers import free_port, wait_until_serving
from tests.staffing import team

ROOT = Path(django_settings.BASE_DIR)
SECRET_KEY = "sk_test_standin"
PUBLISHABLE_KEY = "pk_test_standin"
WEBHOOK_SECRET = "whsec_test_standin"
TEST_CARD = "4242424242424242"
DECLINED_CARD = "4000000000000341"  # Stripe's "attaches, then the charge is declined"


@pytest.fixture(scope="session")
def standin(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    port = free_port()
    log = tmp_path_factory.mktemp("stripe") / "standin.log"
    with log.open("wb") as out:
        process = subprocess.Popen(
            [sys.executable, "-m", "tests.payments.stripe_standin", "--port", str(port)],
            cwd=ROOT,
            stdout=out,
            stderr=subprocess.STDOUT,
            start_new_session=True,
        )
    base = f"http://127.0.0.1:{port}"
    try:
        wait_until_serving(f"{base}/js.stripe.com/v3/", process, log)
        yield base
    finally:
        process.terminate()
        process.wait(timeout=10)


@pytest.fixture
def stripe_on(settings: Any, standin: str) -> str:
    """Payments configured against the stand-in; returns its base URL."""
    settings.STRIPE_SECRET_KEY = SECRET_KEY
    settings.STRIPE_PUBLISHABLE_KEY = PUBLISHABLE_KEY
    settings.STRIPE_WEBHOOK_SECRET = WEBHOOK_SECRET
    settings.STRIPE_API_BASE = standin
    settings.STRIPE_JS_URL = f"{standin}/js.stripe.com/v3/"
    settings.PAYMENTS_ENABLED = True
    return standin


@pytest.fixture
def stripe_client(stripe_on: str) -> stripe.StripeClient:
    """Our side's view of the stand-in, for assertions ("what does Stripe hold now?")."""
    return stripe.StripeClient(SECRET_KEY, base_addresses={"api": stripe_on}, max_network_retries=0)


@pytest.fixture
def partner(db) -> Partner:
    partner = Partner.objects.create(
        name="Clinic Paid",
        slug="clinic-paid",
        time_zone="Europe/Zurich",
        contact_email="owner@paid.example",
        cancellation_cutoff_hours=24,
    )
    for weekday in range(7):
        OpeningHours.objects.create(partner=partner, weekday=weekday, start=clock(8), end=clock(18))
    return partner


@pytest.fixture
def paid_service(partner: Partner) -> Service:
    service = Service.objects.create(
        partner=partner,
        name="Consultation",
        slug="consultation",
        duration_minutes=60,
        min_notice_minutes=60,
        horizon_days=30,
        price=Decimal("150.00"),
        currency="CHF",
    )
    team(partner)
    return service


@pytest.fixture
def hold(paid_service: Service, settings: Any) -> Callable[..., tuple[Booking, str]]:
    """hold(start, now=None): a hold through the customers' way in (payments must be on)."""

    def _hold(start: datetime, now: datetime | None = None, **customer: str) -> tuple[Booking, str]:
        details, _ = customer_details(**customer)
        return booking_services.booking_create_for_customer(
            service=paid_service, start=start, now=now, customer=details, actor=BOOKING_CUSTOMER
        )

    return _hold


def pay_server_side(client: stripe.StripeClient, payment: Payment, card: str = TEST_CARD) -> Any:
    """What the customer's browser does through Stripe.js's confirmCardPayment: the card and the
    intent's client secret go to Stripe with the publishable key (never through our server).
    Returns the intent as Stripe holds it afterwards."""
    return confirm_in_browser(client, payment.stripe_payment_intent_id, card)


def confirm_in_browser(client: stripe.StripeClient, intent_id: str, card: str = TEST_CARD) -> Any:
    """pay_server_side for any intent at the stand-in, ours or not."""
    intent = client.v1.payment_intents.retrieve(intent_id)
    body = json.dumps(
        {
            "key": PUBLISHABLE_KEY,
            "client_secret": intent.client_secret,
            "payment_method_data": {
                "type": "card",
                "card": {"number": card, "exp_month": "12", "exp_year": "2034", "cvc": "123"},
            },
        }
    ).encode()
    base = django_settings.STRIPE_API_BASE
    request = urllib.request.Request(  # noqa: S310 - the local stand-in
        f"{base}/v1/payment_intents/{intent.id}/confirm", data=body, method="POST"
    )
    try:
        urllib.request.urlopen(request, timeout=10).close()  # noqa: S310 - the local stand-in
    except urllib.error.HTTPError as exc:
        assert exc.code == 402, exc.read()  # declined: Stripe.js would show the message
    return client.v1.payment_intents.retrieve(intent_id)


def start_payment(booking: Booking) -> Payment:
    payment, _ = payment_start(booking=booking)
    return payment


def signed_event(
    event_type: str,
    obj: dict[str, Any],
    *,
    secret: str = WEBHOOK_SECRET,
    timestamp: int | None = None,
    event_id: str | None = None,
) -> tuple[bytes, str]:
    """A Stripe event and its Stripe-Signature header (t=...,v1=HMAC-SHA256 of "t.body")."""
    body = json.dumps(
        {
            "id": event_id
            or f"evt_{hashlib.sha256(json.dumps(obj, sort_keys=True).encode() + event_type.encode()).hexdigest()[:24]}",
            "object": "event",
            "type": event_type,
            "livemode": False,
            "created": int(time.time()),
            "data": {"object": obj},
        }
    ).encode()
    stamp = int(time.time()) if timestamp is None else timestamp
    signature = hmac.new(secret.encode(), f"{stamp}.".encode() + body, hashlib.sha256).hexdigest()
    return body, f"t={stamp},v1={signature}"


def intent_object(payment: Payment, **changes: Any) -> dict[str, Any]:
    """The PaymentIntent as Stripe sends it in an event, for our payment (changes applied)."""
    obj = {
        "id": payment.stripe_payment_intent_id,
        "object": "payment_intent",
        "amount": payment.amount,
        "amount_received": payment.amount,
        "currency": payment.currency.lower(),
        "status": "succeeded",
        "metadata": {"booking_id": str(payment.booking_id)},
        "last_payment_error": None,
    }
    obj.update(changes)
    return obj


@pytest.fixture
def post_event(client: Any) -> Callable[..., Any]:
    def _post(body: bytes, signature: str | None) -> Any:
        headers = {"HTTP_STRIPE_SIGNATURE": signature} if signature is not None else {}
        return client.post(
            "/payments/stripe/webhook", data=body, content_type="application/json", **headers
        )

    return _post


@pytest.fixture
def admin_login() -> Callable[[Any, Any], None]:
    """Log a staff user into the admin with the test client: password and MFA passed."""
    from tests.otp_login import login_verified

    def _login(client: Any, user: Any) -> None:
        login_verified(client, user)

    return _login


def register_webhook(standin: str, url: str, events: list[str] | None = None) -> None:
    """(Re-)configure the stand-in's one webhook endpoint: `url`, for `events` (None: all)."""
    fields: dict[str, Any] = {"url": url, "secret": WEBHOOK_SECRET}
    if events is not None:
        fields["events"] = events
    request = urllib.request.Request(  # noqa: S310 - the local stand-in
        f"{standin}/_config/webhooks/live",
        data=json.dumps(fields).encode(),
        method="POST",
        headers={"Content-Type": "application/json"},
    )
    urllib.request.urlopen(request, timeout=5).close()  # noqa: S310 - the local stand-in


@pytest.fixture
def webhooks_to_live_server(stripe_on: str, live_server: Any) -> Iterator[str]:
    """The stand-in delivers its signed events to the live server's endpoint, as Stripe would;
    afterwards it delivers nothing (no event type matches), so no later test gets them."""
    url = f"{live_server.url}/payments/stripe/webhook"
    register_webhook(stripe_on, url)
    try:
        yield url
    finally:
        register_webhook(stripe_on, url, events=["none.of.ours"])


def wait_for(condition: Callable[[], bool], timeout: float = 15.0) -> bool:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if condition():
            return True
        time.sleep(0.1)
    return condition()
