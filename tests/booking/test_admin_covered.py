"""Never silently: special hours of a date that leave bookings outside show them first, naming
and linking each booking (in the partner's zone), and the owner cancels them (each customer
told) or keeps them; nothing is saved before that choice.

Time is frozen at Tuesday 1 December 2026, 08:00 in Zurich (07:00 UTC)."""

from __future__ import annotations

import re
from datetime import UTC, datetime

import pytest
from admin_world import World, build_world, make_booking
from django.test import Client

from booking.closures import covered_by_range
from booking.models import Booking, DateOverride
from security.models import SecurityEvent
from tests.booking.conftest import WORKSPACE_NOW
from tests.otp_login import login_verified

pytestmark = [pytest.mark.django_db, pytest.mark.usefixtures("december_first")]

ADD = "/admin/booking/dateoverride/add/"


@pytest.fixture
def world(client: Client) -> World:
    world = build_world()
    login_verified(client, world.owner)
    return world


def _close(client: Client, day: str, *ranges: tuple[str, str], choice: str = "keep") -> str:
    """Special hours on `day` through their page: the bookings left outside are shown first
    (returned as `shown`, nothing saved yet), then the owner's choice saves."""
    data: dict[str, object] = {"date": day, "note": "Holiday"}
    for n, (start, end) in enumerate(ranges):
        data |= {f"r{n}_start": start, f"r{n}_end": end}
    first = client.post(ADD, data)
    if first.status_code == 302:  # nothing left outside: saved at once
        return client.get(first["Location"]).content.decode()
    shown_page = first.content.decode()
    assert first.status_code == 200 and "closure-choice" in shown_page, shown_page[:2000]
    assert not DateOverride.objects.filter(date=day).exists()  # shown first, nothing saved
    shown = re.findall(r'name="shown" value="(\d+)"', shown_page)
    response = client.post(ADD, {**data, "choice": choice, "shown": shown}, follow=True)
    assert response.status_code == 200 and response.redirect_chain
    return shown_page + response.content.decode()


def test_closing_a_booked_day_names_the_bookings_it_covers(client: Client, world: World) -> None:
    booking = make_booking(world.a_service, datetime(2026, 12, 24, 9, 0, tzinfo=UTC))
    page = _close(client, "2026-12-24")
    assert "The new hours leave 1 booking outside" in page
    assert (
        f'<a href="/admin/booking/booking/{booking.pk}/change/">'
        "2026-12-24 10:00 (Europe/Zurich)</a>" in page
    )
    assert "1 booking outside them was kept." in page
    booking.refresh_from_db()
    assert booking.status == Booking.Status.CONFIRMED


def test_closing_a_booked_day_can_cancel_and_tell_the_customer(
    client: Client, world: World
) -> None:
    booking = make_booking(world.a_service, datetime(2026, 12, 24, 9, 0, tzinfo=UTC))
    page = _close(client, "2026-12-24", choice="cancel")
    assert "1 booking outside them was cancelled; its customer is told by email." in page
    booking.refresh_from_db()
    assert booking.status == Booking.Status.CANCELLED
    event = SecurityEvent.objects.filter(event_type="date_override_set").get()
    assert event.actor_id == world.owner.pk and event.detail["cancelled"] == [booking.pk]


def test_shorter_hours_name_only_the_bookings_outside_them(client: Client, world: World) -> None:
    morning = make_booking(world.a_service, datetime(2026, 12, 24, 8, 0, tzinfo=UTC))  # 09:00
    evening = make_booking(world.a_service, datetime(2026, 12, 24, 15, 0, tzinfo=UTC))  # 16:00
    page = _close(client, "2026-12-24", ("08:00", "12:00"))
    assert f"/admin/booking/booking/{evening.pk}/change/" in page
    assert f"/admin/booking/booking/{morning.pk}/change/" not in page


def test_closing_a_free_day_says_nothing(client: Client, world: World) -> None:
    page = _close(client, "2026-12-25")
    assert "leave" not in page.split("The special hours were saved.")[0][-200:]
    assert "The special hours were saved." in page
    assert "outside them" not in page
    assert DateOverride.objects.filter(date="2026-12-25", partner=world.a).exists()


def test_an_absence_covers_the_persons_overlapping_bookings_only(world: World) -> None:
    # What the "Away over dates" page shows first for a person (the one way to enter absences).
    hers = world.a_own_booking
    day = hers.start.astimezone(world.a.zone).date()
    make_booking(world.a_service, hers.start)  # the team's, at the same time
    cancelled = make_booking(
        world.a_service, hers.end, staff=world.a_staff, status=Booking.Status.CANCELLED
    )
    found = covered_by_range(
        partner=world.a, first_day=day, last_day=day, now=WORKSPACE_NOW, staff=world.a_staff
    )
    assert hers in found and cancelled not in found
    assert {b.staff_id for b in found} == {world.a_staff.pk}


def test_removing_special_hours_that_bookings_need_is_refused(client: Client, world: World) -> None:
    """Special hours 07:00-21:00 on Christmas Eve (the week: 08:00-20:00) and a booking at
    07:00: removing them would leave it outside the weekly hours, so nothing is removed and the
    owner is sent to the page that shows it and asks."""
    _close(client, "2026-12-24", ("07:00", "21:00"))
    early = make_booking(world.a_service, datetime(2026, 12, 24, 6, 0, tzinfo=UTC))  # 07:00
    override = DateOverride.objects.get(partner=world.a, date="2026-12-24")
    url = f"/admin/booking/dateoverride/{override.pk}/delete/"
    response = client.post(url, {"post": "yes"}, follow=True)
    assert response.status_code == 200
    assert "would leave bookings of this day outside" in response.content.decode()
    assert response.redirect_chain[-1][0].endswith("&day=2026-12-24")
    assert DateOverride.objects.filter(pk=override.pk).exists()
    early.refresh_from_db()
    assert early.status == Booking.Status.CONFIRMED
    assert not SecurityEvent.objects.filter(event_type="date_override_deleted").exists()


def test_removing_special_hours_nobody_needs_is_recorded(client: Client, world: World) -> None:
    _close(client, "2026-12-25")
    override = DateOverride.objects.get(partner=world.a, date="2026-12-25")
    response = client.post(f"/admin/booking/dateoverride/{override.pk}/delete/", {"post": "yes"})
    assert response.status_code == 302
    assert not DateOverride.objects.filter(pk=override.pk).exists()
    event = SecurityEvent.objects.filter(event_type="date_override_deleted").get()
    assert event.actor_id == world.owner.pk and event.target == f"dateoverride:{override.pk}"
