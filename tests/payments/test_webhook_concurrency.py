"""Stripe delivers an event twice at the same moment (a retry racing a slow first delivery), and
a webhook races the partner cancelling the same booking: on PostgreSQL, with real concurrent
transactions, each event is processed exactly once and nothing deadlocks."""

from __future__ import annotations

from datetime import datetime, timedelta
from datetime import time as clock
from zoneinfo import ZoneInfo

import pytest
from django.core import mail

from booking import services
from booking.models import Booking
from payments.models import Payment, WebhookEvent
from payments.webhooks import webhook_receive
from tests.actors import partner_staff
from tests.booking.test_concurrency import race
from tests.payments.conftest import intent_object, signed_event, start_payment

ZURICH = ZoneInfo("Europe/Zurich")
pytestmark = [
    pytest.mark.postgres,
    pytest.mark.django_db(transaction=True),
    pytest.mark.usefixtures("stripe_on"),
]


def _start(days: int, hour: int = 10) -> datetime:
    return datetime.combine(
        datetime.now(ZURICH).date() + timedelta(days=days), clock(hour), tzinfo=ZURICH
    )


def test_the_same_event_delivered_twice_at_once_is_processed_once(hold) -> None:
    for round_ in range(3):
        booking, _ = hold(_start(3 + round_), customer_email=f"c{round_}@example.com")
        payment = start_payment(booking)
        body, signature = signed_event(
            "payment_intent.succeeded", intent_object(payment), event_id=f"evt_twice_{round_}"
        )
        sent_before = len(mail.outbox)

        def deliver(body: bytes = body, signature: str = signature) -> object:
            return webhook_receive(payload=body, signature=signature, ip="127.0.0.1")

        results = race([deliver] * 4)
        outcomes = sorted(r[1].body["status"] for r in results if r[0] == "ok")
        assert outcomes == ["already_processed"] * 3 + ["paid"], results
        assert WebhookEvent.objects.filter(stripe_event_id=f"evt_twice_{round_}").count() == 1
        booking.refresh_from_db()
        assert booking.status == Booking.Status.CONFIRMED
        assert len(mail.outbox) - sent_before == 2  # customer and partner, once each


def test_a_webhook_racing_a_cancel_never_deadlocks(hold) -> None:
    for round_ in range(5):
        booking, _ = hold(_start(3 + round_, hour=14), customer_email=f"r{round_}@example.com")
        payment = start_payment(booking)
        body, signature = signed_event(
            "payment_intent.succeeded", intent_object(payment), event_id=f"evt_race_{round_}"
        )
        results = race(
            [
                lambda body=body, signature=signature: webhook_receive(
                    payload=body, signature=signature, ip="127.0.0.1"
                ),
                lambda booking=booking: services.booking_cancel(
                    booking=booking, actor=partner_staff(booking.partner)
                ),
            ]
        )
        assert [kind for kind, _ in results] == ["ok", "ok"], results
        payment.refresh_from_db()
        booking.refresh_from_db()
        assert booking.status == Booking.Status.CANCELLED
        assert payment.status == Payment.Status.SUCCEEDED
        # Whichever came first, a paid payment of a cancelled booking ends up refunded, or the
        # webhook found the booking cancelled and refunded it itself.
        assert hasattr(payment, "refund"), round_
