"""Holds (C20): a paid service's chosen time is held, exactly like a booking, until it is paid or
its time runs out; the periodic job releases it and cancels its PaymentIntent; a payment that
arrives after the release confirms the booking if the time is still free, refunds it if not."""

from __future__ import annotations

from datetime import datetime, timedelta
from datetime import time as clock
from zoneinfo import ZoneInfo

import pytest
import time_machine
from django.core import mail
from django.db import IntegrityError, transaction

from booking import selectors, services
from booking.models import Booking
from booking.services import CustomerDetails
from payments import services as payment_services
from payments.models import Payment, Refund
from tests.actors import BOOKING_CUSTOMER, MANAGE_LINK_CUSTOMER, TEST_JOB
from tests.payments.conftest import pay_server_side, signed_event, start_payment
from tests.staffing import team

ZURICH = ZoneInfo("Europe/Zurich")
pytestmark = pytest.mark.usefixtures("stripe_on")


def _start(days: int = 3, hour: int = 10) -> datetime:
    return datetime.combine(
        datetime.now(ZURICH).date() + timedelta(days=days), clock(hour), tzinfo=ZURICH
    )


def test_a_hold_blocks_its_time_for_the_configured_minutes(hold, paid_service, settings) -> None:
    settings.PAYMENT_HOLD_MINUTES = 20
    now = datetime.now(ZURICH)
    booking, _ = hold(_start(), now=now)
    assert booking.status == Booking.Status.PENDING_PAYMENT
    assert booking.hold_expires_at == now + timedelta(minutes=20)
    assert (
        selectors.service_slot_status(service=paid_service, start=_start(), now=now)
        is selectors.SlotStatus.TAKEN
    )
    with pytest.raises(services.SlotTaken):
        hold(_start(), now=now + timedelta(minutes=19), customer_email="bob@example.com")
    assert mail.outbox == []  # nothing is announced for a hold


@pytest.mark.postgres
def test_the_database_refuses_a_booking_over_a_hold(hold, paid_service) -> None:
    booking, _ = hold(_start())
    clash = Booking(
        partner=booking.partner,
        service=paid_service,
        staff=booking.staff,
        start=booking.start,
        end=booking.end,
        busy_start=booking.busy_start,
        busy_end=booking.busy_end,
        customer_name="X",
        customer_email="x@example.com",
        manage_token_hash="f" * 64,
    )
    with pytest.raises(IntegrityError, match="booking_staff_no_overlap"), transaction.atomic():
        clash.save()


def test_a_hold_needs_an_expiry_in_the_database(hold) -> None:
    booking, _ = hold(_start())
    with pytest.raises(IntegrityError, match="booking_hold_has_expiry"), transaction.atomic():
        Booking.objects.filter(pk=booking.pk).update(hold_expires_at=None)


def test_an_expired_hold_frees_its_time_at_once_and_the_job_cancels_its_intent(
    hold, paid_service, stripe_client
) -> None:
    booking, _ = hold(_start())
    payment = start_payment(booking)
    later = booking.hold_expires_at + timedelta(seconds=1)
    # Offered again the moment the hold expires, before any job ran...
    assert (
        selectors.service_slot_status(service=paid_service, start=_start(), now=later)
        is selectors.SlotStatus.OFFERED
    )
    with time_machine.travel(later, tick=False):
        result = payment_services.holds_release()
    assert result["released"] == 1 and result["intents_cancelled"] == 1
    booking.refresh_from_db()
    payment.refresh_from_db()
    assert (
        booking.status == Booking.Status.CANCELLED
        and booking.cancelled_because == Booking.CancelledBecause.HOLD_EXPIRED
    )
    assert payment.status == Payment.Status.CANCELED
    assert (
        stripe_client.v1.payment_intents.retrieve(payment.stripe_payment_intent_id).status
        == "canceled"
    )
    # ...and the job is safe to run again.
    with time_machine.travel(later + timedelta(minutes=1), tick=False):
        assert payment_services.holds_release() == {
            "released": 0,
            "intents_cancelled": 0,
            "cancel_failed": 0,
            "refunds_resubmitted": 0,
        }


def test_a_hold_not_yet_expired_is_left_alone(hold) -> None:
    booking, _ = hold(_start())
    with time_machine.travel(booking.hold_expires_at - timedelta(seconds=1), tick=False):
        assert payment_services.holds_release()["released"] == 0
    booking.refresh_from_db()
    assert booking.status == Booking.Status.PENDING_PAYMENT


def test_booking_over_an_expired_hold_releases_it_first(hold) -> None:
    first, _ = hold(_start())
    later = first.hold_expires_at + timedelta(seconds=1)
    second, _ = hold(_start(), now=later, customer_email="bob@example.com")
    first.refresh_from_db()
    assert first.status == Booking.Status.CANCELLED and first.hold_was_released
    assert second.status == Booking.Status.PENDING_PAYMENT


def test_abandoning_the_payment_and_booking_again_never_confirms_unpaid(
    client, hold, paid_service
) -> None:
    """A customer leaves the payment page and books the same time again, through the page and
    the API: refused while the hold lives, a new hold after it expired; never a confirmed
    booking without a payment."""
    start = _start()
    first, _ = hold(start)
    start_payment(first)
    form = {
        "start": start.astimezone(ZoneInfo("UTC")).strftime("%Y-%m-%dT%H:%M:%SZ"),
        "tz": "Europe/Zurich",
        "customer_name": "Ada Lovelace",
        "customer_email": "ada@example.com",
    }
    page = client.post("/book/clinic-paid/consultation/book/", form)
    assert page.status_code == 409
    api = client.post(
        "/api/v1/partners/clinic-paid/bookings",
        content_type="application/json",
        data={
            "service": "consultation",
            "start": form["start"],
            "customer_name": "Ada",
            "customer_email": "ada@example.com",
        },
    )
    assert api.status_code == 409
    with time_machine.travel(first.hold_expires_at + timedelta(seconds=5), tick=False):
        again = client.post("/book/clinic-paid/consultation/book/", form)
        payment_services.holds_release()
    assert again.status_code == 302 and "/pay/" in again["Location"]
    assert not Booking.objects.filter(status=Booking.Status.CONFIRMED).exists()
    assert Booking.objects.filter(status=Booking.Status.PENDING_PAYMENT).count() == 1


def test_a_payment_after_the_release_confirms_when_the_time_is_still_free(
    hold, stripe_client, post_event, django_capture_on_commit_callbacks
) -> None:
    booking, _ = hold(_start())
    payment = start_payment(booking)
    services.booking_hold_release(
        booking=booking, actor=TEST_JOB, now=booking.hold_expires_at + timedelta(seconds=1)
    )
    intent = pay_server_side(stripe_client, payment)  # the customer's tab was still open
    assert intent.status == "succeeded"
    with django_capture_on_commit_callbacks(execute=True):
        response = post_event(*signed_event("payment_intent.succeeded", intent.to_dict()))
    assert response.json() == {"status": "paid"}
    booking.refresh_from_db()
    assert booking.status == Booking.Status.CONFIRMED and booking.cancelled_at is None
    assert not Refund.objects.exists()


def test_a_payment_after_the_release_is_refunded_when_the_time_was_taken(
    hold, stripe_client, post_event, django_capture_on_commit_callbacks
) -> None:
    booking, _ = hold(_start())
    payment = start_payment(booking)
    later = booking.hold_expires_at + timedelta(seconds=1)
    other, _ = hold(
        _start(), now=later, customer_email="bob@example.com"
    )  # releases and takes the time
    intent = pay_server_side(stripe_client, payment)
    with django_capture_on_commit_callbacks(execute=True):
        response = post_event(*signed_event("payment_intent.succeeded", intent.to_dict()))
    assert response.json() == {"status": "refunded_slot_taken"}
    booking.refresh_from_db()
    assert booking.status == Booking.Status.CANCELLED
    refund = Refund.objects.get(payment=payment)
    assert refund.reason == Refund.Reason.SLOT_TAKEN and refund.stripe_refund_id
    at_stripe = stripe_client.v1.refunds.list(
        params={"payment_intent": payment.stripe_payment_intent_id}
    ).data
    assert [(r.id, r.amount) for r in at_stripe] == [(refund.stripe_refund_id, 15000)]
    [email] = [m for m in mail.outbox if m.to == ["ada@example.com"]]
    assert "CHF 150.00" in email.subject and "booked by someone else" in email.body
    other.refresh_from_db()
    assert other.status == Booking.Status.PENDING_PAYMENT


def test_the_job_processes_an_intent_paid_just_before_it_could_cancel_it(
    hold, stripe_client
) -> None:
    booking, _ = hold(_start())
    payment = start_payment(booking)
    pay_server_side(stripe_client, payment)  # paid, but the webhook has not arrived yet
    with time_machine.travel(booking.hold_expires_at + timedelta(seconds=1), tick=False):
        payment_services.holds_release()
    booking.refresh_from_db()
    payment.refresh_from_db()
    assert payment.status == Payment.Status.SUCCEEDED
    assert booking.status == Booking.Status.CONFIRMED  # its time was still free


def test_a_hold_cannot_be_rescheduled_before_it_is_paid(hold) -> None:
    booking, _ = hold(_start())
    with pytest.raises(services.ChangeNotAllowed, match="paid"):
        services.booking_reschedule(
            booking=booking, new_start=_start(days=4), actor=MANAGE_LINK_CUSTOMER
        )


def test_a_free_service_is_still_booked_at_once(partner) -> None:
    from booking.models import Service

    free = Service.objects.create(partner=partner, name="Intro", slug="intro", duration_minutes=30)
    team(partner)
    booking, _ = services.booking_create_for_customer(
        service=free,
        start=_start(),
        customer=CustomerDetails(name="Ada", email="ada@example.com"),
        actor=BOOKING_CUSTOMER,
    )
    assert booking.status == Booking.Status.CONFIRMED and booking.hold_expires_at is None


def test_without_payment_keys_a_paid_service_cannot_be_booked(paid_service, settings) -> None:
    settings.PAYMENTS_ENABLED = False
    with pytest.raises(services.PaymentsUnavailable):
        services.booking_create_for_customer(
            service=paid_service,
            start=_start(),
            customer=CustomerDetails(name="Ada", email="ada@example.com"),
            actor=BOOKING_CUSTOMER,
        )
    assert not Booking.objects.exists()


def test_payment_amount_comes_from_the_service(hold, stripe_client) -> None:
    booking, _ = hold(_start())
    payment = start_payment(booking)
    assert start_payment(booking).pk == payment.pk  # one intent per hold
    intent = stripe_client.v1.payment_intents.retrieve(payment.stripe_payment_intent_id)
    assert (intent.amount, intent.currency, intent.metadata["booking_id"]) == (
        15000,
        "chf",
        str(booking.pk),
    )
    assert (payment.amount, payment.currency) == (15000, "CHF")


def test_the_payment_intent_takes_cards_only(hold, stripe_client) -> None:
    booking, _ = hold(_start())
    payment = start_payment(booking)
    intent = stripe_client.v1.payment_intents.retrieve(payment.stripe_payment_intent_id)
    assert intent.payment_method_types == ["card"]


def test_a_hold_whose_service_was_made_free_cannot_be_paid(hold, paid_service) -> None:
    booking, _ = hold(_start())
    paid_service.price, paid_service.currency = None, ""
    paid_service.save()
    booking.refresh_from_db()
    with pytest.raises(payment_services.PaymentNotPossible):
        start_payment(booking)
    assert not Payment.objects.exists()
