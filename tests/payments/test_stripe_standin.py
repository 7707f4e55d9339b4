"""The Stripe stand-in delivers an event as Stripe does: to the endpoint configured when the
event happened, a moment later. An endpoint configured after the event (the next test's live
server) never receives it, so no test is handed a webhook caused by the one before it."""

from __future__ import annotations

import json
import threading
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import pytest
import stripe

from tests.payments.conftest import TEST_CARD, confirm_in_browser, register_webhook

pytestmark = pytest.mark.slow


class _Receiver(ThreadingHTTPServer):
    """A webhook endpoint that keeps the type of every event delivered to it."""

    def __init__(self) -> None:
        super().__init__(("127.0.0.1", 0), _Delivery)
        self.received: list[str] = []
        self.arrived = threading.Event()

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.server_address[1]}/webhook"


class _Delivery(BaseHTTPRequestHandler):
    server: _Receiver

    def do_POST(self) -> None:  # the name http.server dispatches to
        body = self.rfile.read(int(self.headers.get("Content-Length", "0")))
        self.server.received.append(json.loads(body)["type"])
        self.server.arrived.set()
        self.send_response(200)
        self.end_headers()

    def log_message(self, format: str, *args: object) -> None:
        pass  # quiet


@pytest.fixture
def receiver(stripe_on: str) -> Iterator[_Receiver]:
    server = _Receiver()
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield server
    finally:
        register_webhook(stripe_on, server.url, events=["none.of.ours"])
        server.shutdown()
        server.server_close()
        thread.join(timeout=5)


def _paid_intent(client: stripe.StripeClient) -> None:
    intent = client.v1.payment_intents.create(
        params={"amount": 1500, "currency": "chf", "allowed_payment_method_types": ["card"]}
    )
    assert confirm_in_browser(client, intent.id, TEST_CARD).status == "succeeded"


def test_an_event_reaches_the_endpoint_configured_when_it_happened(
    stripe_on: str, stripe_client: stripe.StripeClient, receiver: _Receiver
) -> None:
    register_webhook(stripe_on, receiver.url)
    _paid_intent(stripe_client)
    assert receiver.arrived.wait(timeout=10)
    assert receiver.received == ["payment_intent.succeeded"]


def test_an_event_does_not_reach_an_endpoint_configured_after_it_happened(
    stripe_on: str, stripe_client: stripe.StripeClient, receiver: _Receiver
) -> None:
    register_webhook(stripe_on, receiver.url, events=["none.of.ours"])  # as between two tests
    _paid_intent(stripe_client)
    register_webhook(stripe_on, receiver.url)  # as the next test does, within the second
    assert not receiver.arrived.wait(timeout=3)  # the stand-in delivers after one second
    assert receiver.received == []
