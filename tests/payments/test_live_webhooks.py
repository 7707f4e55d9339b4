"""End to end against the Stripe stand-in, through the real `stripe` library: our server
creates the PaymentIntent, the card is confirmed the way Stripe.js does it, and the stand-in
delivers the signed webhook to a live server, which confirms the booking. Nothing of the card
reaches our logs, our security events or our database."""

from __future__ import annotations

import json
import logging
from datetime import datetime, timedelta
from datetime import time as clock
from zoneinfo import ZoneInfo

import pytest
from django.db import connection

from booking.models import Booking
from payments.models import Payment, WebhookEvent
from security.models import SecurityEvent
from tests.payments.conftest import (
    DECLINED_CARD,
    TEST_CARD,
    pay_server_side,
    start_payment,
    wait_for,
)

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


def _everything_stored() -> str:
    """Every row of every table of ours, as text."""
    dump = []
    with connection.cursor() as cursor:
        for table in connection.introspection.table_names():
            cursor.execute(f"SELECT * FROM {connection.ops.quote_name(table)}")  # noqa: S608 - our own table names
            dump.extend(repr(row) for row in cursor.fetchall())
    return "\n".join(dump)


def test_a_paid_hold_is_confirmed_by_the_signed_webhook(hold, stripe_client, caplog) -> None:
    caplog.set_level(logging.DEBUG)
    booking, _ = hold(_start(3))
    payment = start_payment(booking)
    intent = pay_server_side(stripe_client, payment, card=TEST_CARD)
    assert intent.status == "succeeded"
    assert wait_for(
        lambda: Booking.objects.get(pk=booking.pk).status == Booking.Status.CONFIRMED
    ), "webhook not processed"
    event = WebhookEvent.objects.get(event_type="payment_intent.succeeded")
    assert event.stripe_event_id.startswith("evt_") and event.outcome == "paid"
    payment.refresh_from_db()
    assert payment.status == Payment.Status.SUCCEEDED

    # A declined card: Stripe's payment_failed event records the failure code only.
    other, _ = hold(_start(4), customer_email="bob@example.com")
    declined = start_payment(other)
    pay_server_side(stripe_client, declined, card=DECLINED_CARD)
    assert wait_for(lambda: Payment.objects.get(pk=declined.pk).last_error_code == "card_declined")
    other.refresh_from_db()
    assert other.status == Booking.Status.PENDING_PAYMENT

    # No card data anywhere on our side: logs, security events, any table.
    logged = caplog.text + json.dumps(list(SecurityEvent.objects.values_list("detail", flat=True)))
    stored = _everything_stored()
    for secret in (TEST_CARD, DECLINED_CARD, "cvc", "exp_month"):
        assert secret not in logged, secret
        assert secret not in stored, secret
