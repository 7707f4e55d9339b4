"""The customer pages with staff: choose a service, then anyone or a person, then a time; the
confirmation, manage page, emails and calendar entry name the person (and the room).

Time is frozen at Monday 6 January 2025, 08:00 in Zurich; the partner is open Mon-Fri 09-17."""

from __future__ import annotations

import re
from collections.abc import Iterator
from datetime import UTC, datetime, time

import pytest
import time_machine
from django.core import mail
from django.test import Client

from booking.emails import send_booking_event
from booking.models import Booking, Partner, Service, StaffChoice, StaffMember
from tests.booking.conftest import zurich
from tests.booking.test_emails import calendars
from tests.staffing import person, resource

pytestmark = pytest.mark.django_db

NOW = datetime(2025, 1, 6, 7, 0, tzinfo=UTC)
PAGE = "/book/salon-alpha/cut/"
BOOK = "/book/salon-alpha/cut/book/"
TUESDAY_9 = "2025-01-07T08:00:00Z"
TUESDAY_14 = "2025-01-07T13:00:00Z"


@pytest.fixture(autouse=True)
def _frozen() -> Iterator[None]:
    with time_machine.travel(NOW, tick=False):
        yield


@pytest.fixture
def cut(partner: Partner) -> Service:
    return Service.objects.create(
        partner=partner, name="Cut", slug="cut", duration_minutes=60, horizon_days=30
    )


@pytest.fixture
def anna(partner: Partner, cut: Service) -> StaffMember:
    return person(partner, "Anna", hours={1: [(time(9), time(12))]}, order=1)


@pytest.fixture
def ben(partner: Partner, cut: Service) -> StaffMember:
    return person(partner, "Ben", hours={1: [(time(14), time(16))]}, order=2)


def times_on_tuesday(html: str) -> list[str]:
    return re.findall(r'aria-label="Tuesday, 7 January (\d\d:\d\d)"', html)


def test_the_service_page_offers_anyone_or_a_person(
    client: Client, anna: StaffMember, ben: StaffMember
) -> None:
    html = client.get(PAGE).content.decode()
    assert "With whom?" in html
    assert '<span class="staff-choice current" aria-current="true">Anyone</span>' in html
    assert re.search(
        rf'href="{PAGE}\?week=2025-01-06&amp;tz=Europe%2FZurich&amp;staff={ben.pk}"', html
    )
    assert times_on_tuesday(html) == ["09:00", "10:00", "11:00", "14:00", "15:00"]

    html = client.get(PAGE, {"staff": ben.pk}).content.decode()
    assert '<span class="staff-choice current" aria-current="true">Ben</span>' in html
    assert times_on_tuesday(html) == ["14:00", "15:00"]
    # The chosen person travels with the time to the booking form.
    assert (
        f"start={TUESDAY_14.replace(':', '%3A')}&amp;tz=Europe%2FZurich&amp;staff={ben.pk}" in html
    )


def test_a_one_person_business_sees_no_menu(client: Client, service: Service) -> None:
    html = client.get("/book/salon-alpha/haircut/").content.decode()
    assert "With whom?" not in html
    assert "staff=" not in html


def test_a_person_not_of_this_service_is_404_and_garbage_400(
    client: Client, anna: StaffMember, other_partner: Partner, partner: Partner
) -> None:
    stranger = person(other_partner, "Stranger")
    trainee = person(partner, "Trainee", services=[])
    for who in (stranger.pk, trainee.pk, 99999):
        assert client.get(PAGE, {"staff": who}).status_code == 404
        assert client.get(BOOK, {"start": TUESDAY_9, "staff": who}).status_code == 404
    assert client.get(PAGE, {"staff": "anna"}).status_code == 400
    assert client.get(BOOK, {"start": TUESDAY_9, "staff": "1 OR 1=1"}).status_code == 400


def test_booking_a_person_names_them_everywhere(
    client: Client, partner: Partner, cut: Service, anna: StaffMember, ben: StaffMember, settings
) -> None:
    settings.CELERY_TASK_ALWAYS_EAGER = True
    cut.required_resource_kind = "wash-basin"
    cut.save()
    resource(partner, "Basin by the window", "wash-basin")
    form = client.get(BOOK, {"start": TUESDAY_14, "staff": ben.pk}).content.decode()
    assert "<strong>Ben</strong>" in form
    response = client.post(
        BOOK,
        {
            "start": TUESDAY_14,
            "staff": str(ben.pk),
            "tz": "Europe/Zurich",
            "customer_name": "Ada Lovelace",
            "customer_email": "ada@example.com",
        },
    )
    assert response.status_code == 302
    booking = Booking.objects.get()
    assert (booking.staff, booking.resource.name) == (ben, "Basin by the window")
    manage = client.get(response["Location"]).content.decode()
    assert '<dd class="staff-name">Ben</dd>' in manage
    assert '<dd class="resource-name">Basin by the window</dd>' in manage

    mail.outbox.clear()
    send_booking_event(booking_id=booking.pk, event="confirmed")
    customer, partner_notice = sorted(mail.outbox, key=lambda m: m.to != ["ada@example.com"])
    assert "Served by: Ben" in customer.body
    assert "Room or equipment: Basin by the window" in customer.body
    assert "Staff member: Ben" in partner_notice.body
    ((_, calendar),) = calendars(customer)
    assert "with Ben at Salon Alpha" in calendar["DESCRIPTION"]
    assert calendar["LOCATION"] == "Basin by the window\\, Salon Alpha"


def test_anyone_is_assigned_and_named_on_the_confirmation(
    client: Client, anna: StaffMember, ben: StaffMember
) -> None:
    form = client.get(BOOK, {"start": TUESDAY_9}).content.decode()
    assert "Whoever is free at this time" in form
    response = client.post(
        BOOK,
        {"start": TUESDAY_9, "customer_name": "Ada", "customer_email": "ada@example.com"},
    )
    assert Booking.objects.get().staff == anna
    assert '<dd class="staff-name">Anna</dd>' in client.get(response["Location"]).content.decode()


def test_a_service_whose_customers_must_choose(
    client: Client, cut: Service, anna: StaffMember, ben: StaffMember
) -> None:
    cut.staff_choice = StaffChoice.CUSTOMER_CHOOSES
    cut.save()
    html = client.get(PAGE).content.decode()
    assert "Choose the person you want to book with" in html
    assert ">Anyone<" not in html
    assert times_on_tuesday(html) == []
    assert client.get(BOOK, {"start": TUESDAY_9}).status_code == 400
    assert times_on_tuesday(client.get(PAGE, {"staff": anna.pk}).content.decode()) == [
        "09:00",
        "10:00",
        "11:00",
    ]


def test_rescheduling_keeps_the_person_unless_the_customer_picks_anyone(
    client: Client, cut: Service, anna: StaffMember, partner: Partner
) -> None:
    wide = person(partner, "Cara", hours={1: [(time(9), time(17))]}, order=3)
    client.post(
        BOOK,
        {
            "start": TUESDAY_9,
            "staff": str(anna.pk),
            "customer_name": "Ada",
            "customer_email": "ada@example.com",
        },
        follow=False,
    )
    booking = Booking.objects.get()
    token_url = client.post(
        BOOK,
        {"start": TUESDAY_14, "customer_name": "Bo", "customer_email": "bo@example.com"},
    )["Location"]
    assert Booking.objects.get(customer_name="Bo").staff == wide
    # Ada's own manage link: only the token from the redirect knows it, so move Bo's instead.
    token = token_url.split("/manage/")[1].split("/")[0]
    page = client.get(f"/manage/{token}/reschedule/").content.decode()
    assert "with Cara" in page
    # Cara's day but for Bo's own time (shown as the current one).
    assert times_on_tuesday(page) == ["09:00", "10:00", "11:00", "12:00", "13:00", "15:00", "16:00"]
    anyone = client.get(f"/manage/{token}/reschedule/", {"staff": "any"}).content.decode()
    assert "10:00" in times_on_tuesday(anyone)
    response = client.post(
        f"/manage/{token}/reschedule/", {"start": "2025-01-07T14:00:00Z", "staff": ""}
    )
    assert response.status_code == 302
    moved = Booking.objects.get(customer_name="Bo", status=Booking.Status.CONFIRMED)
    assert moved.staff == wide and moved.start == zurich(2025, 1, 7, 15)
    assert booking.staff == anna
