"""Refunds (C20): cancelling a paid booking refunds it in full through Stripe's Refund API, once
however often it is asked; partners refund from the admin after a confirmation step."""

from __future__ import annotations

from datetime import datetime, timedelta
from datetime import time as clock
from zoneinfo import ZoneInfo

import pytest
from django.contrib.auth import get_user_model
from django.contrib.auth.models import Group
from django.core import mail
from django.test import Client

from booking import roles
from booking import services as booking_services
from booking.models import Booking, PartnerMembership, Service
from payments.models import Payment, Refund
from payments.refunds import RefundNotPossible, refund_request, refund_submit
from security.models import SecurityEvent
from tests.actors import partner_staff
from tests.payments.conftest import signed_event, start_payment

ZURICH = ZoneInfo("Europe/Zurich")
pytestmark = pytest.mark.usefixtures("stripe_on")


def _start(days: int = 3, hour: int = 10) -> datetime:
    return datetime.combine(
        datetime.now(ZURICH).date() + timedelta(days=days), clock(hour), tzinfo=ZURICH
    )


@pytest.fixture
def paid(hold, post_event, django_capture_on_commit_callbacks) -> tuple[Booking, str, Payment]:
    booking, token = hold(_start())
    payment = start_payment(booking)
    from tests.payments.conftest import pay_server_side

    intent = pay_server_side(_client(), payment)
    with django_capture_on_commit_callbacks(execute=True):
        post_event(*signed_event("payment_intent.succeeded", intent.to_dict()))
    booking.refresh_from_db()
    payment.refresh_from_db()
    assert booking.status == Booking.Status.CONFIRMED
    mail.outbox.clear()
    return booking, token, payment


def _client():
    from payments import stripe_api

    return stripe_api.client()


def _refunds_at_stripe(payment: Payment) -> list:
    return (
        _client().v1.refunds.list(params={"payment_intent": payment.stripe_payment_intent_id}).data
    )


def test_the_customer_cancelling_before_the_cut_off_gets_a_full_refund(
    paid, client, django_capture_on_commit_callbacks
) -> None:
    booking, token, payment = paid
    with django_capture_on_commit_callbacks(execute=True):
        response = client.post(f"/manage/{token}/cancel/", {"tz": "Europe/Zurich", "reason": ""})
    assert response.status_code == 302
    refund = Refund.objects.get(payment=payment)
    assert (refund.amount, refund.reason, refund.status) == (
        15000,
        Refund.Reason.CANCELLED,
        Refund.Status.SUCCEEDED,
    )
    assert [(r.id, r.amount) for r in _refunds_at_stripe(payment)] == [
        (refund.stripe_refund_id, 15000)
    ]
    payment.refresh_from_db()
    assert payment.amount_refunded == 15000
    refund_mail = [m for m in mail.outbox if "refunded" in m.subject]
    assert len(refund_mail) == 1 and refund_mail[0].to == ["ada@example.com"]
    assert "CHF 150.00" in refund_mail[0].body and "cancelled" in refund_mail[0].body
    # The refund email carries the booking's manage link, which opens it.
    assert f"/manage/{token}/" in refund_mail[0].body
    status = client.get(f"/manage/{token}/pay/status/")
    assert b'data-state="refunded"' in status.content


def test_the_refund_of_a_customer_cancel_names_the_customer_and_their_address(
    paid, django_capture_on_commit_callbacks
) -> None:
    _, token, _ = paid
    client = Client(REMOTE_ADDR="198.51.100.7")
    with django_capture_on_commit_callbacks(execute=True):
        client.post(f"/manage/{token}/cancel/", {"tz": "Europe/Zurich", "reason": ""})
    event = SecurityEvent.objects.get(event_type="refund")
    assert (event.actor_email, event.ip) == ("", "198.51.100.7")
    assert (event.detail["actor_kind"], event.detail["via"]) == ("customer", "manage_link")


def test_a_partner_cancel_outside_any_request_still_names_the_partner_on_the_refund(
    paid, django_capture_on_commit_callbacks
) -> None:
    # The actor travels with the cancel (booking_cancelled carries it), not through whatever
    # request happens to be served: a cancel from a job or a command is attributed too.
    booking, _, _ = paid
    staff = partner_staff(booking.partner)
    with django_capture_on_commit_callbacks(execute=True):
        booking_services.booking_cancel(booking=booking, reason="Closed", actor=staff)
    event = SecurityEvent.objects.get(event_type="refund")
    assert event.actor_email == staff.account.get_username()
    assert event.detail["reason"] == Refund.Reason.CANCELLED


def test_after_the_cut_off_the_customer_cannot_cancel_so_nothing_is_refunded(paid, client) -> None:
    booking, token, payment = paid
    soon = datetime.now(ZURICH) + timedelta(hours=2)  # inside the 24-hour cut-off
    Booking.objects.filter(pk=booking.pk).update(
        start=soon,
        end=soon + timedelta(hours=1),
        busy_start=soon,
        busy_end=soon + timedelta(hours=1),
    )
    response = client.post(f"/manage/{token}/cancel/", {"tz": "Europe/Zurich", "reason": ""})
    assert response.status_code == 400
    assert not Refund.objects.exists() and _refunds_at_stripe(payment) == []


def test_a_refund_is_made_once_however_often_it_is_asked(
    paid, django_capture_on_commit_callbacks
) -> None:
    _, _, payment = paid
    with django_capture_on_commit_callbacks(execute=True):
        first = refund_request(
            payment=payment,
            reason=Refund.Reason.PARTNER,
            actor=partner_staff(payment.booking.partner),
        )
        second = refund_request(
            payment=payment,
            reason=Refund.Reason.PARTNER,
            actor=partner_staff(payment.booking.partner),
        )
    assert first.pk == second.pk
    # A retried task (the worker died after Stripe answered) sends the same idempotency key and
    # finds the refund already recorded.
    Refund.objects.filter(pk=first.pk).update(stripe_refund_id=None, status=Refund.Status.REQUESTED)
    again = refund_submit(refund_id=first.pk)
    assert Refund.objects.count() == 1 and again.stripe_refund_id
    at_stripe = _refunds_at_stripe(payment)
    # localstripe ignores idempotency keys (real Stripe replays the first answer); our guard is
    # the refund row: whatever Stripe did, we record one refund and mail once.
    assert len([m for m in mail.outbox if "refunded" in m.subject]) == 1
    assert at_stripe and all(r.amount == 15000 for r in at_stripe)
    assert SecurityEvent.objects.filter(event_type="refund").count() == 1


def test_an_unpaid_payment_cannot_be_refunded(hold) -> None:
    booking, _ = hold(_start())
    payment = start_payment(booking)
    with pytest.raises(RefundNotPossible):
        refund_request(
            payment=payment,
            reason=Refund.Reason.PARTNER,
            actor=partner_staff(payment.booking.partner),
        )


def test_releasing_a_hold_refunds_nothing_and_cancels_the_intent(
    hold, client, django_capture_on_commit_callbacks
) -> None:
    booking, token = hold(_start())
    payment = start_payment(booking)
    response = client.post(f"/manage/{token}/cancel/", {"tz": "Europe/Zurich", "reason": ""})
    assert response.status_code == 302
    from payments.services import holds_release

    holds_release()
    payment.refresh_from_db()
    assert payment.status == Payment.Status.CANCELED and not Refund.objects.exists()
    assert mail.outbox == []


# --- The partner admin ---------------------------------------------------------------------------


@pytest.fixture
def owner(paid, partner):
    roles.roles_ensure()
    user = get_user_model().objects.create_user(
        email="owner@paid.example", password="x" * 16, is_staff=True
    )
    user.groups.add(Group.objects.get(name=roles.PARTNER_OWNER))
    PartnerMembership.objects.create(user=user, partner=partner, role=PartnerMembership.Role.OWNER)
    return user


def _stranger(name: str, group: str | None = None):
    from booking.models import Partner

    user = get_user_model().objects.create_user(
        email=f"{name}@other.example", password="x" * 16, is_staff=True
    )
    if group:
        user.groups.add(Group.objects.get(name=group))
    if group != roles.SUPPORT:
        other = Partner.objects.create(
            name=f"Other {name}", slug=f"other-{name}", time_zone="UTC", contact_email="o@x.example"
        )
        Service.objects.create(partner=other, name="S", slug="s", duration_minutes=30)
        PartnerMembership.objects.create(
            user=user, partner=other, role=PartnerMembership.Role.OWNER
        )
    return user


def _admin_login(client, user, admin_login) -> None:
    admin_login(client, user)


def test_the_owner_refunds_from_the_admin_after_confirming(
    paid, owner, client, admin_login, django_capture_on_commit_callbacks
) -> None:
    _, _, payment = paid
    admin_login(client, owner)
    changelist = client.get("/admin/payments/payment/")
    assert changelist.status_code == 200 and b"CHF 150.00" in changelist.content
    ask = client.post(
        "/admin/payments/payment/", {"action": "refund_in_full", "_selected_action": [payment.pk]}
    )
    assert ask.status_code == 200 and b"Yes, refund 1 payment" in ask.content
    assert not Refund.objects.exists()  # nothing happens before the confirmation
    with django_capture_on_commit_callbacks(execute=True):
        done = client.post(
            "/admin/payments/payment/",
            {"action": "refund_in_full", "_selected_action": [payment.pk], "confirm": "yes"},
        )
    assert done.status_code == 302
    refund = Refund.objects.get(payment=payment)
    assert refund.reason == Refund.Reason.PARTNER and refund.status == Refund.Status.SUCCEEDED
    assert SecurityEvent.objects.get(event_type="refund").actor_email == "owner@paid.example"


@pytest.mark.parametrize("who", ["other_owner", "support"])
def test_other_partners_and_support_cannot_refund(paid, owner, client, admin_login, who) -> None:
    _, _, payment = paid
    user = _stranger(who, roles.SUPPORT if who == "support" else roles.PARTNER_OWNER)
    admin_login(client, user)
    client.post(
        "/admin/payments/payment/",
        {"action": "refund_in_full", "_selected_action": [payment.pk], "confirm": "yes"},
    )
    assert not Refund.objects.exists()
    page = client.get(f"/admin/payments/payment/{payment.pk}/change/")
    if who == "support":
        assert page.status_code == 200  # reads it (no customer data in a payment), cannot refund
    else:
        assert page.status_code in (302, 404)
        assert b"CHF 150.00" not in client.get("/admin/payments/payment/").content
