"""The Stripe webhook endpoint (C20) as Stripe and as an attacker would use it: only correctly
signed, fresh, first-time events that match our records change anything."""

from __future__ import annotations

import json
import time
from datetime import datetime, timedelta
from datetime import time as clock
from zoneinfo import ZoneInfo

import pytest
from django.core import mail

from booking.models import Booking
from payments.models import Payment, Refund, WebhookEvent
from security.models import SecurityEvent
from tests.actors import partner_staff
from tests.payments.conftest import WEBHOOK_SECRET, intent_object, signed_event, start_payment

ZURICH = ZoneInfo("Europe/Zurich")
pytestmark = pytest.mark.usefixtures("stripe_on")


def _start(days: int = 3, hour: int = 10) -> datetime:
    return datetime.combine(
        datetime.now(ZURICH).date() + timedelta(days=days), clock(hour), tzinfo=ZURICH
    )


@pytest.fixture
def held(hold, django_capture_on_commit_callbacks) -> tuple[Booking, Payment]:
    booking, _ = hold(_start())
    return booking, start_payment(booking)


def _events(kind: str) -> list[SecurityEvent]:
    return list(SecurityEvent.objects.filter(event_type=kind))


def test_a_signed_succeeded_event_confirms_the_hold_and_sends_the_emails(
    held, post_event, django_capture_on_commit_callbacks
) -> None:
    booking, payment = held
    with django_capture_on_commit_callbacks(execute=True):
        response = post_event(*signed_event("payment_intent.succeeded", intent_object(payment)))
    assert response.status_code == 200 and response.json() == {"status": "paid"}
    booking.refresh_from_db()
    payment.refresh_from_db()
    assert booking.status == Booking.Status.CONFIRMED
    assert payment.status == Payment.Status.SUCCEEDED and payment.paid_at is not None
    assert sorted(m.to[0] for m in mail.outbox) == ["ada@example.com", "owner@paid.example"]
    assert WebhookEvent.objects.get().outcome == "paid"


@pytest.mark.parametrize(
    ("signature", "reason"),
    [
        (None, "unsigned"),
        ("t=1,v1=00", "bad_signature"),
        ("garbage", "bad_signature"),
    ],
)
def test_unsigned_or_wrongly_signed_events_change_nothing(
    held, post_event, signature, reason
) -> None:
    booking, payment = held
    body, _ = signed_event("payment_intent.succeeded", intent_object(payment))
    response = post_event(body, signature)
    assert response.status_code == 400
    booking.refresh_from_db()
    assert booking.status == Booking.Status.PENDING_PAYMENT
    assert not WebhookEvent.objects.exists()
    assert [e.detail["reason"] for e in _events("payment_webhook_rejected")] == [reason]


def test_an_event_signed_with_another_secret_is_refused(held, post_event) -> None:
    booking, payment = held
    response = post_event(
        *signed_event("payment_intent.succeeded", intent_object(payment), secret="whsec_attacker")
    )
    assert response.status_code == 400
    booking.refresh_from_db()
    assert booking.status == Booking.Status.PENDING_PAYMENT


def test_a_body_changed_after_signing_is_refused(held, post_event) -> None:
    booking, payment = held
    body, signature = signed_event(
        "payment_intent.payment_failed", intent_object(payment, status="requires_payment_method")
    )
    forged = body.replace(b'"requires_payment_method"', b'"succeeded"').replace(
        b"payment_failed", b"succeeded"
    )
    assert post_event(forged, signature).status_code == 400
    booking.refresh_from_db()
    assert booking.status == Booking.Status.PENDING_PAYMENT


def test_a_stale_event_is_refused_as_stale(held, post_event) -> None:
    booking, payment = held
    old = int(time.time()) - 301
    response = post_event(
        *signed_event("payment_intent.succeeded", intent_object(payment), timestamp=old)
    )
    assert response.status_code == 400
    assert [e.detail["reason"] for e in _events("payment_webhook_rejected")] == ["stale_timestamp"]
    booking.refresh_from_db()
    assert booking.status == Booking.Status.PENDING_PAYMENT


def test_a_replayed_event_is_acknowledged_once_and_changes_nothing_more(
    held, post_event, django_capture_on_commit_callbacks
) -> None:
    booking, payment = held
    body, signature = signed_event(
        "payment_intent.succeeded", intent_object(payment), event_id="evt_replayed_1"
    )
    with django_capture_on_commit_callbacks(execute=True):
        assert post_event(body, signature).json() == {"status": "paid"}
    sent = len(mail.outbox)
    # The partner cancels (refund), then the captured delivery is replayed: it must not confirm
    # the booking again nor send anything.
    from booking import services

    with django_capture_on_commit_callbacks(execute=False):
        services.booking_cancel(booking=booking, actor=partner_staff(booking.partner))
    replay = post_event(body, signature)
    assert replay.status_code == 200 and replay.json() == {"status": "already_processed"}
    booking.refresh_from_db()
    assert booking.status == Booking.Status.CANCELLED
    assert len(mail.outbox) == sent
    assert WebhookEvent.objects.count() == 1
    assert len(_events("payment_webhook_replayed")) == 1


def test_an_event_for_an_unknown_payment_intent_is_acknowledged_and_logged(
    held, post_event
) -> None:
    booking, payment = held
    response = post_event(
        *signed_event("payment_intent.succeeded", intent_object(payment, id="pi_not_ours"))
    )
    assert response.status_code == 200 and response.json() == {"status": "unknown_payment"}
    booking.refresh_from_db()
    assert booking.status == Booking.Status.PENDING_PAYMENT
    assert _events("payment_mismatch")[0].detail["problem"] == "unknown_payment_intent"


@pytest.mark.parametrize(
    ("changes", "field"),
    [
        ({"amount": 100, "amount_received": 100}, "amount"),
        ({"amount_received": 1}, "amount_received"),
        ({"currency": "eur"}, "currency"),
        ({"metadata": {"booking_id": "999999"}}, "booking"),
        ({"metadata": {}}, "booking"),
    ],
)
def test_an_event_that_does_not_match_our_record_changes_nothing(
    held, post_event, changes, field
) -> None:
    booking, payment = held
    response = post_event(
        *signed_event("payment_intent.succeeded", intent_object(payment, **changes))
    )
    assert response.status_code == 200 and response.json() == {"status": "mismatch"}
    booking.refresh_from_db()
    payment.refresh_from_db()
    assert booking.status == Booking.Status.PENDING_PAYMENT
    assert payment.status != Payment.Status.SUCCEEDED
    [event] = _events("payment_mismatch")
    assert field in event.detail["fields"]


def test_a_failed_payment_is_recorded_without_card_details(held, post_event) -> None:
    booking, payment = held
    failed = intent_object(
        payment,
        status="requires_payment_method",
        last_payment_error={
            "code": "card_declined",
            "message": "Your card was declined.",
            "payment_method": {"card": {"last4": "0341"}},
        },
    )
    assert post_event(*signed_event("payment_intent.payment_failed", failed)).status_code == 200
    payment.refresh_from_db()
    assert (
        payment.status == Payment.Status.REQUIRES_PAYMENT_METHOD
        and payment.last_error_code == "card_declined"
    )
    booking.refresh_from_db()
    assert booking.status == Booking.Status.PENDING_PAYMENT


def test_a_paid_payment_never_goes_back(held, post_event) -> None:
    booking, payment = held
    post_event(*signed_event("payment_intent.succeeded", intent_object(payment)))
    late = intent_object(payment, status="requires_payment_method")
    assert post_event(*signed_event("payment_intent.payment_failed", late)).json() == {
        "status": "unchanged"
    }
    payment.refresh_from_db()
    assert payment.status == Payment.Status.SUCCEEDED


def test_malformed_and_oversized_deliveries_get_a_clear_4xx(held, post_event, client) -> None:
    import hashlib
    import hmac

    stamp = int(time.time())
    body = b"not json"
    signature = hmac.new(
        WEBHOOK_SECRET.encode(), f"{stamp}.".encode() + body, hashlib.sha256
    ).hexdigest()
    assert post_event(body, f"t={stamp},v1={signature}").status_code == 400
    huge = json.dumps({"padding": "x" * 300_000}).encode()
    assert post_event(huge, "t=1,v1=00").status_code == 413
    assert client.get("/payments/stripe/webhook").status_code == 405


def test_events_of_other_kinds_are_acknowledged_and_ignored(held, post_event) -> None:
    response = post_event(*signed_event("customer.created", {"id": "cus_1", "object": "customer"}))
    assert response.status_code == 200 and response.json() == {"status": "ignored"}


def test_without_keys_the_endpoint_answers_503(held, post_event, settings) -> None:
    _, payment = held
    settings.PAYMENTS_ENABLED = False
    assert (
        post_event(*signed_event("payment_intent.succeeded", intent_object(payment))).status_code
        == 503
    )


def test_refund_events_move_our_refund_to_stripes_state(
    held, post_event, django_capture_on_commit_callbacks
) -> None:
    booking, payment = held
    post_event(*signed_event("payment_intent.succeeded", intent_object(payment)))
    from payments.refunds import refund_request

    with django_capture_on_commit_callbacks(execute=False):
        refund = refund_request(
            payment=payment,
            reason=Refund.Reason.PARTNER,
            actor=partner_staff(payment.booking.partner),
        )
    Refund.objects.filter(pk=refund.pk).update(
        stripe_refund_id="re_123", status=Refund.Status.PENDING
    )
    stripe_refund = {
        "id": "re_123",
        "object": "refund",
        "payment_intent": payment.stripe_payment_intent_id,
        "amount": payment.amount,
        "status": "succeeded",
        "metadata": {"refund_id": str(refund.pk)},
    }
    assert post_event(*signed_event("refund.updated", stripe_refund)).json() == {
        "status": "refund_updated"
    }
    refund.refresh_from_db()
    payment.refresh_from_db()
    assert refund.status == Refund.Status.SUCCEEDED and payment.amount_refunded == payment.amount
    # A refund event naming our refund id but another payment intent is not ours.
    foreign = {**stripe_refund, "id": "re_999", "payment_intent": "pi_other", "status": "failed"}
    assert post_event(*signed_event("refund.updated", foreign)).json() == {
        "status": "refund_not_ours"
    }
    refund.refresh_from_db()
    assert refund.status == Refund.Status.SUCCEEDED


def test_a_failure_while_processing_answers_500_stores_nothing_and_the_retry_succeeds(
    held, client, monkeypatch, django_capture_on_commit_callbacks
) -> None:
    """One transaction per event: if confirming fails half-way (here: the database refuses the
    booking write), the payment update and the event id roll back with it, Stripe gets a 5xx and
    delivers again, and the retry is processed in full."""
    from django.db import OperationalError

    from booking import services

    booking, payment = held
    real_confirm = services.booking_confirm
    calls = []

    def failing_once(**kwargs):
        calls.append(1)
        if len(calls) == 1:
            raise OperationalError("the database went away")
        return real_confirm(**kwargs)

    monkeypatch.setattr(services, "booking_confirm", failing_once)
    client.raise_request_exception = False
    body, signature = signed_event(
        "payment_intent.succeeded", intent_object(payment), event_id="evt_retry_1"
    )
    first = client.post(
        "/payments/stripe/webhook",
        data=body,
        content_type="application/json",
        HTTP_STRIPE_SIGNATURE=signature,
    )
    assert first.status_code == 500
    payment.refresh_from_db()
    assert payment.status != Payment.Status.SUCCEEDED and not WebhookEvent.objects.exists()
    with django_capture_on_commit_callbacks(execute=True):
        retry = client.post(
            "/payments/stripe/webhook",
            data=body,
            content_type="application/json",
            HTTP_STRIPE_SIGNATURE=signature,
        )
    assert retry.status_code == 200 and retry.json() == {"status": "paid"}
    booking.refresh_from_db()
    assert booking.status == Booking.Status.CONFIRMED


@pytest.mark.parametrize("length", ["-1", "abc", "1e9", "9" * 5000, "١٢", "１２", " 12"])
def test_a_malformed_content_length_is_refused_with_413(client, settings, length: str) -> None:
    response = client.post(
        "/payments/stripe/webhook",
        data=b"{}",
        content_type="application/json",
        HTTP_STRIPE_SIGNATURE="t=1,v1=00",
        CONTENT_LENGTH=length,
    )
    assert response.status_code == 413
