"""Partner deletion (C25) and payments: a paid future booking is refunded in full through the
refund path; the payment and its refund survive as accounting records without the booking."""

from __future__ import annotations

from datetime import datetime, timedelta
from datetime import time as clock
from zoneinfo import ZoneInfo

import pytest
from django.core import mail

from booking.deletion import partner_delete, partner_deletion_preview_for
from booking.models import Booking, Partner
from payments.models import Payment, Refund
from payments.services import payment_apply_intent
from security.actors import Actor
from security.events import verify_chain
from tests.actors import TEST_JOB
from tests.payments.conftest import pay_server_side, signed_event, start_payment

ZURICH = ZoneInfo("Europe/Zurich")
pytestmark = pytest.mark.usefixtures("stripe_on")
OPERATOR = Actor.system("partner_delete")


def _start(days: int = 3, hour: int = 10) -> datetime:
    return datetime.combine(
        datetime.now(ZURICH).date() + timedelta(days=days), clock(hour), tzinfo=ZURICH
    )


def _client():
    from payments import stripe_api

    return stripe_api.client()


@pytest.fixture
def paid(hold, post_event, django_capture_on_commit_callbacks) -> tuple[Booking, Payment]:
    booking, _token = hold(_start(), customer_name="Ada Paid", customer_email="ada@paid.example")
    payment = start_payment(booking)
    intent = pay_server_side(_client(), payment)
    with django_capture_on_commit_callbacks(execute=True):
        post_event(*signed_event("payment_intent.succeeded", intent.to_dict()))
    booking.refresh_from_db()
    payment.refresh_from_db()
    assert booking.status == Booking.Status.CONFIRMED
    mail.outbox.clear()
    return booking, payment


def test_a_paid_future_booking_is_refunded_and_the_records_keep_no_booking(
    paid, partner: Partner, django_capture_on_commit_callbacks
) -> None:
    booking, payment = paid
    assert partner_deletion_preview_for(partner=partner).refunds == 1
    with django_capture_on_commit_callbacks(execute=True):
        partner_delete(partner=partner, actor=OPERATOR, reason="closing")
    refund = Refund.objects.get(payment=payment)
    assert (refund.amount, refund.reason, refund.status) == (
        15000,
        Refund.Reason.CANCELLED,
        Refund.Status.SUCCEEDED,
    )
    refunds_at_stripe = (
        _client().v1.refunds.list(params={"payment_intent": payment.stripe_payment_intent_id}).data
    )
    assert [r.amount for r in refunds_at_stripe] == [15000]
    payment.refresh_from_db()
    assert payment.booking_id is None and payment.amount_refunded == 15000
    assert not Booking.objects.filter(pk=booking.pk).exists()
    # One email: the partner-closed notice (it mentions the refund); no refund email without
    # a booking to describe.
    assert [m.to for m in mail.outbox] == [["ada@paid.example"]]
    assert verify_chain() == []


def test_a_hold_paid_after_its_partner_was_deleted_is_refunded(
    hold, partner: Partner, django_capture_on_commit_callbacks
) -> None:
    booking, _token = hold(_start())
    payment = start_payment(booking)
    partner_delete(partner=partner, actor=OPERATOR, reason="closing")
    intent = pay_server_side(_client(), payment)
    with django_capture_on_commit_callbacks(execute=True):
        applied = payment_apply_intent(intent=intent.to_dict(), actor=TEST_JOB)
    assert applied.outcome == "refunded_booking_gone"
    assert Refund.objects.get(payment=payment).reason == Refund.Reason.BOOKING_GONE
    assert Payment.objects.get(pk=payment.pk).booking_id is None
