"""Closing the business over days with a paid booking: the closure page shows it as paid, and
"cancel them and tell each customer" refunds it in full through the refund path (Stripe's
stand-in holds the refund); "keep them" refunds nothing."""

from __future__ import annotations

from datetime import datetime, timedelta
from datetime import time as clock
from zoneinfo import ZoneInfo

import pytest
from django.contrib.auth import get_user_model
from django.contrib.auth.models import Group
from django.core import mail

from booking import roles
from booking.models import Booking, Closure, PartnerMembership
from payments.models import Payment, Refund
from security.events import verify_chain
from tests.otp_login import login_verified
from tests.payments.conftest import pay_server_side, signed_event, start_payment

ZURICH = ZoneInfo("Europe/Zurich")
CLOSE = "/admin/booking/closure/add/"
pytestmark = pytest.mark.usefixtures("stripe_on")


def _client():
    from payments import stripe_api

    return stripe_api.client()


@pytest.fixture
def paid(hold, post_event, django_capture_on_commit_callbacks) -> tuple[Booking, Payment]:
    start = datetime.combine(
        datetime.now(ZURICH).date() + timedelta(days=5), clock(10), tzinfo=ZURICH
    )
    booking, _token = hold(start, customer_name="Ada Paid", customer_email="ada@paid.example")
    payment = start_payment(booking)
    intent = pay_server_side(_client(), payment)
    with django_capture_on_commit_callbacks(execute=True):
        post_event(*signed_event("payment_intent.succeeded", intent.to_dict()))
    booking.refresh_from_db()
    assert booking.status == Booking.Status.CONFIRMED
    mail.outbox.clear()
    return booking, payment


@pytest.fixture
def owner_client(client, partner):
    roles.roles_ensure()
    user = get_user_model().objects.create_user(email="boss@paid.example", is_staff=True)
    user.groups.add(Group.objects.get(name=roles.PARTNER_OWNER))
    PartnerMembership.objects.create(user=user, partner=partner, role=PartnerMembership.Role.OWNER)
    login_verified(client, user)
    return client


def _days(booking: Booking) -> dict[str, str]:
    day = booking.start.astimezone(ZURICH).date()
    return {"first_day": str(day), "last_day": str(day + timedelta(days=2)), "note": "Holidays"}


def test_cancel_and_notify_refunds_a_paid_booking_in_full(
    paid, owner_client, django_capture_on_commit_callbacks
) -> None:
    booking, payment = paid
    page = owner_client.post(CLOSE, _days(booking)).content.decode()
    assert "Ada Paid" in page and "CHF 150.00" in page  # shown as paid before anything happens
    assert not Refund.objects.exists()
    with django_capture_on_commit_callbacks(execute=True):
        response = owner_client.post(
            CLOSE, {**_days(booking), "choice": "cancel", "shown": [str(booking.pk)]}
        )
    assert response.status_code == 302
    refund = Refund.objects.get(payment=payment)
    assert (refund.amount, refund.reason, refund.status) == (
        15000,
        Refund.Reason.CANCELLED,
        Refund.Status.SUCCEEDED,
    )
    at_stripe = (
        _client().v1.refunds.list(params={"payment_intent": payment.stripe_payment_intent_id}).data
    )
    assert [r.amount for r in at_stripe] == [15000]
    booking.refresh_from_db()
    assert booking.status == Booking.Status.CANCELLED
    assert "ada@paid.example" in {m.to[0] for m in mail.outbox}
    assert Closure.objects.count() == 1
    assert verify_chain() == []


def test_keep_refunds_nothing(paid, owner_client, django_capture_on_commit_callbacks) -> None:
    booking, payment = paid
    with django_capture_on_commit_callbacks(execute=True):
        owner_client.post(CLOSE, {**_days(booking), "choice": "keep", "shown": [str(booking.pk)]})
    assert Closure.objects.count() == 1
    assert not Refund.objects.exists()
    booking.refresh_from_db()
    assert booking.status == Booking.Status.CONFIRMED
    assert mail.outbox == []
