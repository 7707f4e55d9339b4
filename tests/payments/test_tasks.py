"""The payments jobs: hold release runs every minute through beat, and the refund task retries
while Stripe cannot be reached."""

from __future__ import annotations

from datetime import datetime, timedelta
from datetime import time as clock
from zoneinfo import ZoneInfo

import pytest
import time_machine
from django.conf import settings

from booking.models import Booking
from payments import tasks
from payments.models import Refund
from payments.refunds import refund_request
from tests.actors import partner_staff
from tests.payments.conftest import intent_object, pay_server_side, signed_event, start_payment

ZURICH = ZoneInfo("Europe/Zurich")


def test_hold_release_is_scheduled_every_minute_and_registered() -> None:
    from celery import current_app

    [entry] = [
        e
        for e in settings.CELERY_BEAT_SCHEDULE.values()
        if e["task"] == "payments.tasks.holds_release"
    ]
    assert entry["schedule"] == 60.0
    assert "payments.tasks.holds_release" in current_app.tasks


@pytest.mark.usefixtures("stripe_on")
def test_the_task_releases_expired_holds(hold) -> None:
    start = datetime.combine(
        datetime.now(ZURICH).date() + timedelta(days=3), clock(10), tzinfo=ZURICH
    )
    booking, _ = hold(start)
    with time_machine.travel(booking.hold_expires_at + timedelta(minutes=1), tick=False):
        result = tasks.holds_release.delay().get()
    assert result["released"] == 1
    booking.refresh_from_db()
    assert booking.status == Booking.Status.CANCELLED


@pytest.mark.usefixtures("stripe_on")
def test_a_refund_that_never_reached_stripe_is_sent_again_by_the_job(
    hold, post_event, settings, stripe_client, django_capture_on_commit_callbacks
) -> None:
    start = datetime.combine(
        datetime.now(ZURICH).date() + timedelta(days=3), clock(11), tzinfo=ZURICH
    )
    booking, _ = hold(start)
    payment = start_payment(booking)
    post_event(
        *signed_event("payment_intent.succeeded", pay_server_side(stripe_client, payment).to_dict())
    )
    payment.refresh_from_db()
    standin = settings.STRIPE_API_BASE
    settings.STRIPE_API_BASE = "http://127.0.0.1:9"  # Stripe unreachable when the refund is decided
    with django_capture_on_commit_callbacks(execute=False):
        refund = refund_request(
            payment=payment,
            reason=Refund.Reason.PARTNER,
            actor=partner_staff(payment.booking.partner),
        )
    settings.STRIPE_API_BASE = standin
    assert Refund.objects.get(pk=refund.pk).stripe_refund_id is None
    with time_machine.travel(refund.created_at + timedelta(minutes=6), tick=False):
        assert tasks.holds_release.delay().get()["refunds_resubmitted"] == 1
    refund.refresh_from_db()
    assert refund.stripe_refund_id and refund.status == Refund.Status.SUCCEEDED


@pytest.mark.usefixtures("stripe_on")
def test_a_refund_stripe_refuses_for_good_is_marked_failed_and_not_resent(
    hold, post_event, client, django_capture_on_commit_callbacks
) -> None:
    start = datetime.combine(
        datetime.now(ZURICH).date() + timedelta(days=3), clock(12), tzinfo=ZURICH
    )
    booking, token = hold(start)
    payment = start_payment(booking)
    # Our record says paid (a signed event) but Stripe holds no charge to refund.
    post_event(*signed_event("payment_intent.succeeded", intent_object(payment)))
    with django_capture_on_commit_callbacks(execute=True):
        refund = refund_request(
            payment=payment,
            reason=Refund.Reason.PARTNER,
            actor=partner_staff(payment.booking.partner),
        )
    refund.refresh_from_db()
    assert refund.status == Refund.Status.FAILED and refund.stripe_refund_id is None
    with time_machine.travel(refund.created_at + timedelta(minutes=6), tick=False):
        assert tasks.holds_release.delay().get()["refunds_resubmitted"] == 0
    page = client.get(f"/manage/{token}/pay/status/")
    assert b'data-state="refund_failed"' in page.content and b"contact Clinic Paid" in page.content
