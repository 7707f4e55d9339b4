"""Each booking write names its actor and writes its security event in its own transaction; what
code branches on is a typed cause, never the words a person typed."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from datetime import timedelta

import pytest
import time_machine
from django.db import IntegrityError, transaction

from booking import services
from booking.models import Booking, Service
from booking.services import ChangeNotAllowed, SlotTaken
from security.actors import Actor, ActorKind, Via
from security.models import SecurityEvent
from tests.actors import BOOKING_CUSTOMER, MANAGE_LINK_CUSTOMER, TEST_JOB, partner_staff
from tests.booking.conftest import zurich

pytestmark = pytest.mark.django_db
Book = Callable[..., tuple[Booking, str]]
WEDNESDAY_10 = zurich(2025, 3, 5, 10)
THURSDAY_10 = zurich(2025, 3, 6, 10)
# The text the old code wrote for a hold that ran out; a person can type it too.
OLD_RELEASE_TEXT = "Not paid in time: the reserved time was released."


@pytest.fixture(autouse=True)
def frozen() -> Iterator[None]:
    with time_machine.travel(zurich(2025, 3, 3, 7), tick=False):
        yield


def events(event_type: str) -> list[SecurityEvent]:
    return list(SecurityEvent.objects.filter(event_type=event_type).order_by("id"))


def test_a_customer_booking_is_logged_with_the_customer_and_the_way_in(
    service: Service, book: Book
) -> None:
    booking, _ = book(service, WEDNESDAY_10, actor=BOOKING_CUSTOMER)
    (event,) = events("booking_created")
    assert event.target == f"booking:{booking.pk}"
    assert (event.actor_email, event.ip) == ("", "192.0.2.50")
    assert event.detail["actor_kind"] == "customer"
    assert event.detail["via"] == "booking_page"
    assert event.detail["partner_id"] == booking.partner_id


def test_no_customer_data_goes_into_the_append_only_log(service: Service, book: Book) -> None:
    booking, _ = book(service, WEDNESDAY_10, customer_name="Grace Hopper", notes="Allergic")
    services.booking_cancel(booking=booking, reason="Ill today", actor=MANAGE_LINK_CUSTOMER)
    logged = " ".join(str(e.detail) + e.target for e in SecurityEvent.objects.all())
    for private in ("Grace", "ada@example.com", "Allergic", "Ill today"):
        assert private not in logged


def test_a_partner_cancel_names_the_staff_member_and_the_cause(
    service: Service, book: Book
) -> None:
    booking, _ = book(service, WEDNESDAY_10)
    staff = partner_staff(booking.partner)
    services.booking_cancel(booking=booking, reason="Closed today", actor=staff)
    stored = Booking.objects.get(pk=booking.pk)
    assert stored.cancelled_because == Booking.CancelledBecause.PARTNER
    assert stored.cancellation_reason == "Closed today"
    (event,) = events("booking_cancelled")
    assert (event.actor_email, event.ip) == (staff.account.get_username(), "192.0.2.60")
    assert event.detail["because"] == "partner"
    assert event.detail["with_reason"] is True


def test_a_customer_cancel_through_the_link_is_typed_customer(service: Service, book: Book) -> None:
    booking, _ = book(service, WEDNESDAY_10)
    services.booking_cancel(booking=booking, actor=MANAGE_LINK_CUSTOMER)
    assert Booking.objects.get(pk=booking.pk).cancelled_because == "customer"
    (event,) = events("booking_cancelled")
    assert (event.detail["actor_kind"], event.detail["via"]) == ("customer", "manage_link")


def test_a_reschedule_is_typed_and_logged_once(service: Service, book: Book) -> None:
    old, _ = book(service, WEDNESDAY_10)
    new = services.booking_reschedule(
        booking=old, new_start=THURSDAY_10, actor=MANAGE_LINK_CUSTOMER
    )
    assert Booking.objects.get(pk=old.pk).cancelled_because == "rescheduled"
    (event,) = events("booking_rescheduled")
    assert event.target == f"booking:{new.pk}"
    assert event.detail["from_booking_id"] == old.pk
    assert events("booking_cancelled") == []  # a move is not a cancellation


def test_a_refused_write_leaves_no_event(service: Service, book: Book) -> None:
    mine, _ = book(service, WEDNESDAY_10)
    book(service, THURSDAY_10, customer_email="other@example.com")
    before = SecurityEvent.objects.count()
    with pytest.raises(SlotTaken):
        services.booking_reschedule(booking=mine, new_start=THURSDAY_10, actor=MANAGE_LINK_CUSTOMER)
    with time_machine.travel(WEDNESDAY_10 - timedelta(hours=1), tick=False):
        with pytest.raises(ChangeNotAllowed):  # past the cut-off
            services.booking_cancel(booking=mine, actor=MANAGE_LINK_CUSTOMER)
    assert SecurityEvent.objects.count() == before


def test_the_event_rolls_back_with_the_change(service: Service, book: Book) -> None:
    booking, _ = book(service, WEDNESDAY_10)
    with pytest.raises(RuntimeError), transaction.atomic():
        services.booking_cancel(booking=booking, actor=MANAGE_LINK_CUSTOMER)
        raise RuntimeError("the caller's transaction fails afterwards")
    assert Booking.objects.get(pk=booking.pk).status == Booking.Status.CONFIRMED
    assert events("booking_cancelled") == []


def test_a_system_job_may_not_cancel_what_a_person_booked(service: Service, book: Book) -> None:
    booking, _ = book(service, WEDNESDAY_10)
    with pytest.raises(ValueError, match="system job"):
        services.booking_cancel(booking=booking, actor=TEST_JOB)
    assert Booking.objects.get(pk=booking.pk).status == Booking.Status.CONFIRMED


def test_a_late_payment_never_revives_a_booking_a_person_cancelled_whatever_the_reason(
    service: Service, book: Book
) -> None:
    # Before the cause was a type, a partner who typed the release message as the reason made
    # a late payment confirm the booking they had cancelled.
    booking, _ = book(service, WEDNESDAY_10)
    services.booking_cancel(
        booking=booking, reason=OLD_RELEASE_TEXT, actor=partner_staff(booking.partner)
    )
    with pytest.raises(ChangeNotAllowed):
        services.booking_confirm(booking=booking, actor=TEST_JOB)
    assert Booking.objects.get(pk=booking.pk).status == Booking.Status.CANCELLED


def test_a_released_hold_is_confirmed_by_its_late_payment(service: Service, book: Book) -> None:
    hold, _ = book(service, WEDNESDAY_10, status=Booking.Status.PENDING_PAYMENT, hold_minutes=15)
    assert services.booking_hold_release(
        booking=hold, actor=TEST_JOB, now=hold.hold_expires_at + timedelta(seconds=1)
    )
    released = Booking.objects.get(pk=hold.pk)
    assert released.cancelled_because == Booking.CancelledBecause.HOLD_EXPIRED
    assert released.cancellation_reason == ""  # the cause is a type, not words
    confirmed = services.booking_confirm(booking=hold, actor=TEST_JOB)
    assert (confirmed.status, confirmed.cancelled_because) == (Booking.Status.CONFIRMED, "")
    assert [e.detail["after_release"] for e in events("booking_confirmed")] == [True]
    assert [e.detail["job"] for e in events("hold_released")] == ["test_job"]


@pytest.mark.parametrize(
    ("status", "because"),
    [
        (Booking.Status.CANCELLED, ""),
        (Booking.Status.CANCELLED, "typo_cause"),
        (Booking.Status.CONFIRMED, Booking.CancelledBecause.CUSTOMER),
    ],
)
def test_the_database_refuses_a_cause_that_does_not_match_the_status(
    service: Service, book: Book, status: str, because: str
) -> None:
    booking, _ = book(service, WEDNESDAY_10)
    with pytest.raises(IntegrityError), transaction.atomic():
        Booking.objects.filter(pk=booking.pk).update(
            status=status,
            cancelled_because=because,
            cancelled_at=booking.created_at if status == Booking.Status.CANCELLED else None,
        )


def test_an_actor_must_be_consistent(service: Service) -> None:
    account = partner_staff(service.partner).account
    with pytest.raises(ValueError, match="only a user actor"):
        Actor(kind=ActorKind.CUSTOMER, via=Via.MANAGE_LINK, account=account)
    with pytest.raises(ValueError, match="names its job"):
        Actor.system("")
