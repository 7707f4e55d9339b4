"""Walk-ins and phone customers without an email: a booking by hand in the admin may leave the
email out. Such a customer is a record of their own (two walk-ins called the same are two
people), gets no emails at all (confirmation, reminders), and the pages say so; a customer
booking online still must give an address, and the person's other bookings still refuse an
overlapping walk-in.

Time is frozen at Tuesday 1 December 2026, 08:00 in Zurich (07:00 UTC); partner A is open every
day 08:00-20:00."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest
from admin_world import World, build_world, make_booking
from django.core import mail
from django.core.exceptions import ValidationError
from django.db import IntegrityError, transaction
from django.test import Client

from booking import erasure, reminders, services
from booking.forms import CustomerDetailsForm
from booking.models import Booking, BookingReminder, Customer
from security.actors import Actor, Via
from tests.otp_login import login_verified

pytestmark = [pytest.mark.django_db, pytest.mark.usefixtures("december_first")]

ADD = "/admin/booking/booking/add/"
NINE = datetime(2026, 12, 4, 8, 0, tzinfo=UTC)  # Friday 4 December, 09:00 in Zurich


@pytest.fixture
def world() -> World:
    world = build_world()
    world.a_service.reminder_hours = 24
    world.a_service.save()
    return world


def _walk_in(world: World, start: str = "2026-12-04T09:00", **extra: str) -> dict[str, object]:
    return {
        "service": str(world.a_service.pk),
        "staff": world.a_staff.pk,
        "start": start,
        "customer_name": "Walter Walkin",
        "customer_email": "",
        "customer_phone": "",
        "notes": "",
        **extra,
    }


def _details(email: str = "", name: str = "Walter Walkin") -> services.CustomerDetails:
    return services.CustomerDetails(name=name, email=email, language="en")


def test_a_walk_in_with_a_name_only_is_booked_and_no_email_is_sent(
    client: Client, world: World, django_capture_on_commit_callbacks
) -> None:
    login_verified(client, world.owner)
    form = client.get(ADD).content.decode()
    assert "Email (optional)" in form
    assert "Without one, the customer gets no emails" in form
    mail.outbox.clear()
    with django_capture_on_commit_callbacks(execute=True):
        response = client.post(ADD, _walk_in(world), follow=True)
    page = response.content.decode()
    assert response.status_code == 200
    assert "The customer has no email address: no emails are sent to them" in page
    assert "This customer has no email address: they get no confirmation" in page
    booking = Booking.objects.get(customer__by_hand=True)
    assert booking.start == NINE and booking.customer_email == ""
    assert booking.customer is not None and booking.customer.by_hand
    assert booking.customer.email == "" and booking.customer.email_index == ""
    # Nobody is written to: the customer has no address, and the business made the booking
    # itself (no notice of its own changes).
    assert mail.outbox == []


def test_a_phone_customer_keeps_the_phone_number(client: Client, world: World) -> None:
    login_verified(client, world.owner)
    response = client.post(ADD, _walk_in(world, customer_phone="+41 79 555 12 34"))
    assert response.status_code == 302
    customer = Customer.objects.get(by_hand=True)
    assert customer.phone == "+41 79 555 12 34" and customer.email == ""


def test_the_reminder_planner_leaves_a_walk_in_out(world: World) -> None:
    by_hand = Actor.user(world.owner)
    walk_in, _t = services.booking_create(
        service=world.a_service, start=NINE, customer=_details(), actor=by_hand
    )
    online, _t = services.booking_create(
        service=world.a_service,
        start=NINE + timedelta(hours=2),
        customer=_details("olga@online.example", "Olga Online"),
        actor=Actor.customer(via=Via.BOOKING_PAGE),
    )
    assert reminders.reminders_plan(now=datetime.now(UTC)) >= 1
    planned = set(BookingReminder.objects.values_list("booking_id", flat=True))
    assert online.pk in planned and walk_in.pk not in planned
    # Even a reminder row written around the planner sends nothing to nobody.
    mail.outbox.clear()
    BookingReminder.objects.create(booking=walk_in, lead_hours=24, due_at=walk_in.start)
    reminders.reminders_send_due(now=walk_in.start - timedelta(hours=1))
    assert all(m.to != [""] for m in mail.outbox)
    assert not [m for m in mail.outbox if "Walter" in m.body]


def test_two_walk_ins_with_the_same_name_are_two_customers(world: World) -> None:
    by_hand = Actor.user(world.owner)
    first, _t = services.booking_create(
        service=world.a_service, start=NINE, customer=_details(), actor=by_hand
    )
    second, _t = services.booking_create(
        service=world.a_service, start=NINE + timedelta(hours=2), customer=_details(), actor=by_hand
    )
    assert first.customer_id != second.customer_id
    assert Customer.objects.filter(by_hand=True, email_index="").count() == 2


def test_a_walk_in_with_an_email_is_matched_like_anyone(world: World) -> None:
    online, _t = services.booking_create(
        service=world.a_service,
        start=NINE,
        customer=_details("olga@online.example", "Olga Online"),
        actor=Actor.customer(via=Via.BOOKING_PAGE),
    )
    at_desk, _t = services.booking_create(
        service=world.a_service,
        start=NINE + timedelta(hours=2),
        customer=_details("OLGA@online.example", "Olga Online"),
        actor=Actor.user(world.owner),
    )
    assert at_desk.customer_id == online.customer_id


def test_a_walk_in_overlapping_the_persons_booking_is_refused(client: Client, world: World) -> None:
    make_booking(world.a_service, NINE, staff=world.a_staff)
    login_verified(client, world.owner)
    for override in ({}, {"override": "on"}):
        response = client.post(ADD, {**_walk_in(world), **override})
        assert response.status_code == 200
        assert "is not a free time of" in response.content.decode()
    assert not Booking.objects.filter(customer__by_hand=True).exists()


@pytest.mark.parametrize("via", [Via.BOOKING_PAGE, Via.WIDGET_API])
def test_online_booking_without_an_email_is_refused(world: World, via: Via) -> None:
    before = (Booking.objects.count(), Customer.objects.count())
    # A customer, and a logged-in user on the public page: neither books by hand.
    for actor in (Actor.customer(via=via), Actor.user(world.owner, via=via)):
        with pytest.raises(ValidationError) as refused:
            services.booking_create(
                service=world.a_service, start=NINE, customer=_details(), actor=actor
            )
        assert "customer_email" in refused.value.message_dict
    assert (Booking.objects.count(), Customer.objects.count()) == before
    form = CustomerDetailsForm({"customer_name": "Walter Walkin", "customer_email": ""})
    assert not form.is_valid() and "customer_email" in form.errors


def test_the_database_keeps_customers_without_an_index_to_bookings_by_hand(
    world: World,
) -> None:
    Customer.objects.create(partner=world.a_service.partner, name="Walk In", email="", by_hand=True)
    Customer.objects.create(partner=world.a_service.partner, name="Walk In", email="", by_hand=True)
    with pytest.raises(IntegrityError), transaction.atomic():
        Customer.objects.create(
            partner=world.a_service.partner, name="Ghost", email="", by_hand=False
        )
    Customer.objects.create(partner=world.a_service.partner, name="A", email="a@x.example")
    with pytest.raises(IntegrityError), transaction.atomic():
        Customer.objects.create(
            partner=world.a_service.partner, name="A", email="A@x.example", by_hand=True
        )


def test_a_walk_in_can_be_exported_and_anonymised(world: World) -> None:
    booking, _t = services.booking_create(
        service=world.a_service, start=NINE, customer=_details(), actor=Actor.user(world.owner)
    )
    customer = booking.customer
    assert customer is not None
    data = erasure.customer_data(customer)
    assert data["customer"]["email"] == "" and data["bookings"][0]["email"] == ""
    with pytest.raises(erasure.ErasureRefused):  # upcoming: cancelled first, as for anyone
        erasure.customer_erase(customer=customer, actor=Actor.user(world.owner))
    services.booking_cancel(booking=booking, actor=Actor.user(world.owner))
    summary = erasure.customer_erase(customer=customer, actor=Actor.user(world.owner))
    assert summary.anonymised == 1
    assert not Customer.objects.filter(pk=customer.pk).exists()


def test_the_csv_export_lists_a_walk_in(client: Client, world: World) -> None:
    services.booking_create(
        service=world.a_service, start=NINE, customer=_details(), actor=Actor.user(world.owner)
    )
    login_verified(client, world.owner)
    response = client.get("/admin/booking/booking/export/")
    assert response.status_code == 200
    body = response.content.decode()
    assert "Walter Walkin" in body


def test_moving_and_cancelling_a_walk_in_writes_to_nobody(
    world: World, django_capture_on_commit_callbacks
) -> None:
    owner = Actor.user(world.owner)
    booking, _t = services.booking_create(
        service=world.a_service, start=NINE, customer=_details(), actor=owner
    )
    mail.outbox.clear()
    with django_capture_on_commit_callbacks(execute=True):
        moved = services.booking_reschedule(
            booking=booking, new_start=NINE + timedelta(hours=1), actor=owner
        )
    # Replanning after the service's lead times change leaves it out, as the planner does.
    reminders.reminders_replan(service=world.a_service, now=datetime.now(UTC))
    assert not BookingReminder.objects.filter(booking=moved).exists()
    with django_capture_on_commit_callbacks(execute=True):
        services.booking_cancel(booking=moved, actor=owner)
    assert mail.outbox == []


@pytest.mark.postgres
@pytest.mark.django_db(transaction=True)
def test_the_database_refuses_an_overlapping_walk_in(
    world: World, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The code's overlap check out of the way (two writers racing past it): the exclusion
    constraint alone refuses a walk-in over the person's booking, with or without override."""
    first = make_booking(world.a_service, NINE, staff=world.a_staff)
    monkeypatch.setattr(services, "_overlapping", lambda booking: Booking.objects.none())
    owner = Actor.user(world.owner)
    with pytest.raises(services.SlotTaken):
        services.booking_create_override(
            service=world.a_service,
            staff=world.a_staff,
            start=NINE + timedelta(minutes=30),
            customer=_details(),
            actor=owner,
        )
    assert list(Booking.objects.filter(staff=world.a_staff, start__gte=NINE)) == [first]
    assert not Customer.objects.filter(by_hand=True).exists()
