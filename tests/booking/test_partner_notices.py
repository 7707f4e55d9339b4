"""The partner's notice: exactly one message per change of a booking (new, paid, cancelled,
moved), linking to the booking in the workspace, the time in the partner's zone with the zone
named; and none for a change the partner's own owner or staff made (they know). Through the real
services, eager Celery and the locmem mail backend, on_commit callbacks run as a commit would."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from datetime import UTC, datetime

import pytest
import time_machine
from django.contrib.auth import get_user_model
from django.core import mail

from booking import services
from booking.models import Booking, PartnerMembership, Service
from security.actors import Actor, Via
from tests.actors import MANAGE_LINK_CUSTOMER, TEST_JOB, customer_details, partner_staff
from tests.booking.conftest import zurich

NOW = datetime(2025, 3, 3, 6, 0, tzinfo=UTC)  # Monday, 07:00 in Zurich
WEDNESDAY_10 = zurich(2025, 3, 5, 10)
THURSDAY_10 = zurich(2025, 3, 6, 10)
SITE = "https://booking.example"
PARTNER = "owner@alpha.example"
CUSTOMER = "ada@example.com"

Book = Callable[..., tuple[Booking, str]]


@pytest.fixture(autouse=True)
def frozen(settings) -> Iterator[None]:
    settings.SITE_URL = SITE
    with time_machine.travel(NOW, tick=False):
        yield


@pytest.fixture
def committed(django_capture_on_commit_callbacks):
    def _run(call: Callable[[], object]) -> object:
        with django_capture_on_commit_callbacks(execute=True):
            return call()

    return _run


def to(address: str) -> list[mail.EmailMessage]:
    return [m for m in mail.outbox if m.to == [address]]


def owner_of(service: Service) -> Actor:
    user = get_user_model().objects.create_user(
        email="boss@alpha.example", password="x" * 20, is_staff=True
    )
    PartnerMembership.objects.create(
        partner=service.partner, user=user, role=PartnerMembership.Role.OWNER
    )
    return Actor.user(user, via=Via.ADMIN)


def operator() -> Actor:
    user = get_user_model().objects.create_user(
        email="ops@platform.example", password="x" * 20, is_staff=True, is_superuser=True
    )
    return Actor.user(user, via=Via.ADMIN)


def assert_one_notice(booking: Booking, subject_start: str) -> mail.EmailMessage:
    (notice,) = to(PARTNER)
    assert notice.subject.startswith(subject_start)
    link = f"{SITE}/admin/booking/booking/{booking.pk}/change/"
    assert link in notice.body
    ((html, _),) = notice.alternatives  # type: ignore[attr-defined]
    assert f'href="{link}"' in str(html)
    return notice


def test_a_customer_booking_sends_one_notice_with_the_link_and_the_zone_named(
    service: Service, book: Book, committed
) -> None:
    booking, _ = committed(lambda: book(service, WEDNESDAY_10))
    notice = assert_one_notice(booking, "New booking")
    assert "Wednesday, 5 March 2025, 10:00–11:00 (Europe/Zurich)" in notice.body
    assert "Paid online" not in notice.body
    assert len(to(CUSTOMER)) == 1


def test_a_paid_booking_sends_one_notice_when_paid_and_none_for_the_hold(
    service: Service, book: Book, committed
) -> None:
    hold, _ = committed(
        lambda: book(
            service,
            WEDNESDAY_10,
            status=Booking.Status.PENDING_PAYMENT,
            hold_minutes=15,
        )
    )
    assert mail.outbox == []
    committed(lambda: services.booking_confirm(booking=hold, actor=TEST_JOB))
    notice = assert_one_notice(hold, "New booking")
    assert "Paid online when booked." in notice.body


def test_a_customer_cancellation_sends_one_notice(service: Service, book: Book, committed) -> None:
    booking, _ = committed(lambda: book(service, WEDNESDAY_10))
    mail.outbox.clear()
    committed(lambda: services.booking_cancel(booking=booking, actor=MANAGE_LINK_CUSTOMER))
    notice = assert_one_notice(booking, "Booking cancelled")
    assert "(Europe/Zurich)" in notice.body


def test_a_move_sends_one_notice_not_a_cancellation_and_a_booking(
    service: Service, book: Book, committed
) -> None:
    booking, _ = committed(lambda: book(service, WEDNESDAY_10))
    mail.outbox.clear()
    new = committed(
        lambda: services.booking_reschedule(
            booking=booking, new_start=THURSDAY_10, actor=MANAGE_LINK_CUSTOMER
        )
    )
    assert isinstance(new, Booking)
    notice = assert_one_notice(new, "Booking moved")
    assert "Thursday, 6 March 2025, 10:00–11:00 (Europe/Zurich)" in notice.body
    assert "Wednesday, 5 March 2025, 10:00–11:00 (Europe/Zurich)" in notice.body


@pytest.mark.parametrize("who", ["owner", "staff"])
def test_the_partners_own_cancellation_tells_only_the_customer(
    service: Service, book: Book, committed, who: str
) -> None:
    booking, _ = committed(lambda: book(service, WEDNESDAY_10))
    mail.outbox.clear()
    actor = owner_of(service) if who == "owner" else partner_staff(service.partner)
    committed(lambda: services.booking_cancel(booking=booking, actor=actor))
    assert to(PARTNER) == []
    (customer,) = to(CUSTOMER)
    assert customer.subject.startswith("Booking cancelled")


@pytest.mark.parametrize("who", ["owner", "staff"])
def test_the_partners_own_move_and_booking_by_hand_tell_only_the_customer(
    service: Service, book: Book, committed, who: str
) -> None:
    actor = owner_of(service) if who == "owner" else partner_staff(service.partner)
    booking, _ = committed(lambda: book(service, WEDNESDAY_10, actor=actor))
    assert to(PARTNER) == [] and len(to(CUSTOMER)) == 1
    committed(
        lambda: services.booking_reschedule(booking=booking, new_start=THURSDAY_10, actor=actor)
    )
    assert to(PARTNER) == [] and len(to(CUSTOMER)) == 3  # booked; moved (new + old entry)


def test_an_override_booking_by_the_owner_tells_only_the_customer(
    service: Service, committed
) -> None:
    customer, _ = customer_details()
    actor = owner_of(service)
    staff = service.partner.staff.get()
    committed(
        lambda: services.booking_create_override(
            service=service, staff=staff, start=zurich(2025, 3, 5, 9, 7), customer=customer,
            actor=actor,
        )
    )  # fmt: skip
    assert to(PARTNER) == [] and len(to(CUSTOMER)) == 1


def test_an_operators_cancellation_is_told_to_the_partner(
    service: Service, book: Book, committed
) -> None:
    """Only a membership of this partner silences the notice: an operator's cancellation is news
    to the business."""
    booking, _ = committed(lambda: book(service, WEDNESDAY_10))
    mail.outbox.clear()
    committed(lambda: services.booking_cancel(booking=booking, actor=operator()))
    assert_one_notice(booking, "Booking cancelled")
