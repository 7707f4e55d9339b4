"""Booking a phone customer by hand: the service and person, that day's free times as links (no
JavaScript), one click fills in the start; an owner may knowingly override the rules (recorded),
and an overlap with the person's other bookings is still refused, by the database on
PostgreSQL even when the code's own check is out of the way.

Time is frozen at Tuesday 1 December 2026, 08:00 in Zurich (07:00 UTC); partner A is open every
day 08:00-20:00."""

from __future__ import annotations

import html
import re
from datetime import UTC, datetime
from urllib.parse import unquote

import pytest
from admin_world import A_STYLIST, World, build_world, make_booking
from django.test import Client

from booking import services
from booking.events import BookingEvent
from booking.models import Booking
from security.actors import Actor
from security.fieldcrypto import blind_index
from security.models import SecurityEvent
from tests.booking.conftest import WORKSPACE_NOW
from tests.otp_login import login_verified

pytestmark = [pytest.mark.django_db, pytest.mark.usefixtures("december_first")]

NOW = WORKSPACE_NOW
ADD = "/admin/booking/booking/add/"


@pytest.fixture
def world() -> World:
    return build_world()


def _customer(start: str, staff: int, **extra: str) -> dict[str, object]:
    return {
        "service": "",
        "staff": staff,
        "start": start,
        "customer_name": "Paula Phone",
        "customer_email": "paula@phone.example",
        "customer_phone": "",
        "notes": "",
        **extra,
    }


def _booked() -> Booking | None:
    return Booking.objects.filter(customer_email_index=blind_index("paula@phone.example")).first()


def test_free_times_are_links_and_a_link_fills_in_the_start(client: Client, world: World) -> None:
    login_verified(client, world.owner)
    query = f"?service={world.a_service.pk}&staff={world.a_staff.pk}&day=2026-12-04"
    page = client.get(ADD + query).content.decode()
    assert f"Free times of {A_STYLIST} on Fri 4 Dec 2026 (Europe/Zurich)" in page
    links = [
        unquote(html.unescape(u)) for u in re.findall(r'<a class="button" href="(\?[^"]+)">', page)
    ]
    assert any("start=2026-12-04T09:00" in link for link in links), links
    nine = next(link for link in links if "start=2026-12-04T09:00" in link)
    page = client.get(ADD + nine).content.decode()
    assert 'aria-current="true">09:00</a>' in page
    assert 'name="start" value="2026-12-04T09:00"' in page
    data = _customer("2026-12-04T09:00", world.a_staff.pk, service=str(world.a_service.pk))
    assert client.post(ADD, data).status_code == 302
    booking = _booked()
    assert booking is not None and booking.staff == world.a_staff
    assert booking.start == datetime(2026, 12, 4, 8, 0, tzinfo=UTC)


def test_a_day_without_free_times_says_so(client: Client, world: World) -> None:
    login_verified(client, world.owner)
    page = client.get(
        ADD + f"?service={world.a_service.pk}&staff={world.a_staff.pk}&day=2026-12-05"
    ).content.decode()  # a Saturday: she does not work
    assert "No free times that day." in page


def test_owner_overrides_the_rules_and_it_is_recorded(client: Client, world: World) -> None:
    login_verified(client, world.owner)
    page = client.get(ADD).content.decode()
    assert 'name="override"' in page and "The override is recorded." in page
    data = _customer("2026-12-04T07:07", world.a_staff.pk, service=str(world.a_service.pk))
    refused = client.post(ADD, data)  # before opening, not aligned: not offered
    assert refused.status_code == 200 and _booked() is None
    response = client.post(ADD, {**data, "override": "on"})
    assert response.status_code == 302
    booking = _booked()
    assert booking is not None
    assert booking.start == datetime(2026, 12, 4, 6, 7, tzinfo=UTC)
    assert booking.staff == world.a_staff
    event = SecurityEvent.objects.filter(
        event_type=BookingEvent.BOOKING_CREATED, target=f"booking:{booking.pk}"
    ).get()
    assert event.detail["override"] is True
    assert event.actor_id == world.owner.pk


def test_override_still_refuses_an_overlap(client: Client, world: World) -> None:
    login_verified(client, world.owner)
    taken = make_booking(
        world.a_service, datetime(2026, 12, 4, 6, 0, tzinfo=UTC), staff=world.a_staff
    )
    data = _customer("2026-12-04T07:30", world.a_staff.pk, service=str(world.a_service.pk))
    response = client.post(ADD, {**data, "override": "on"})
    assert response.status_code == 200
    assert "is not a free time of" in response.content.decode()
    assert _booked() is None and Booking.objects.filter(staff=world.a_staff).count() == 2
    assert taken.pk


def test_override_needs_a_person(client: Client, world: World) -> None:
    login_verified(client, world.owner)
    data = _customer("2026-12-04T07:07", "", service=str(world.a_service.pk))  # type: ignore[arg-type]
    response = client.post(ADD, {**data, "override": "on"})
    assert response.status_code == 200
    assert "Choose the person to book outside the offered times." in response.content.decode()
    assert _booked() is None


def test_a_member_cannot_override(client: Client, world: World) -> None:
    login_verified(client, world.stylist_a)
    page = client.get(ADD).content.decode()
    assert 'name="override"' not in page
    data = _customer("2026-12-04T07:07", world.a_staff.pk, service=str(world.a_service.pk))
    response = client.post(ADD, {**data, "override": "on"})  # forged
    assert response.status_code == 200 and _booked() is None


@pytest.mark.postgres
@pytest.mark.django_db(transaction=True)
def test_the_database_refuses_an_overriding_overlap(
    world: World, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The code's overlap check out of the way (as when two writers race past it): the
    exclusion constraint alone refuses the second booking of the person at that time."""
    first = make_booking(
        world.a_service, datetime(2026, 12, 4, 6, 0, tzinfo=UTC), staff=world.a_staff
    )
    monkeypatch.setattr(services, "_overlapping", lambda booking: Booking.objects.none())
    with pytest.raises(services.SlotTaken):
        services.booking_create_override(
            service=world.a_service,
            staff=world.a_staff,
            start=datetime(2026, 12, 4, 6, 30, tzinfo=UTC),
            customer=services.CustomerDetails(
                name="Paula Phone",
                email="paula@phone.example",
                phone="",
                notes="",
                language="en",
            ),
            actor=Actor.user(world.owner),
        )
    assert _booked() is None
    assert list(Booking.objects.filter(staff=world.a_staff, start__date=first.start.date())) == [
        first
    ]
