"""Hours are entered as HH:MM (the browser's time picker, no seconds, no "Now" shortcut that
would enter the server's time), and the partner's zone is chosen from the IANA zones."""

from __future__ import annotations

import re

import pytest
from admin_world import World, build_world
from django.test import Client

from booking.models import OpeningHours, Partner
from tests.otp_login import login_verified

pytestmark = pytest.mark.django_db
HOURS = "/admin/booking/partner/hours/"


@pytest.fixture
def world(client: Client) -> World:
    world = build_world()
    login_verified(client, world.owner)
    return world


def _profile(world: World, client: Client, **changes: str) -> dict[str, str]:
    hours = list(OpeningHours.objects.filter(partner=world.a).order_by("pk"))
    data = {
        "name": world.a.name,
        "time_zone": world.a.time_zone,
        "contact_email": world.a.contact_email,
        "address": "",
        "phone": "",
        "privacy_notice_url": "",
        "cancellation_cutoff_hours": "24",
        "widget_origins": "",
        "opening_hours-TOTAL_FORMS": str(len(hours)),
        "opening_hours-INITIAL_FORMS": str(len(hours)),
        "opening_hours-MIN_NUM_FORMS": "0",
        "opening_hours-MAX_NUM_FORMS": "1000",
    }
    for n, row in enumerate(hours):
        data |= {
            f"opening_hours-{n}-id": str(row.pk),
            f"opening_hours-{n}-partner": str(world.a.pk),
            f"opening_hours-{n}-weekday": str(row.weekday),
            f"opening_hours-{n}-start": f"{row.start:%H:%M}",
            f"opening_hours-{n}-end": f"{row.end:%H:%M}",
        }
    return data | changes


def test_hours_are_hh_mm_time_inputs_without_a_now_shortcut(client: Client, world: World) -> None:
    # Entered on the weekly hours editor (the profile shows them, read-only, as HH:MM).
    page = client.get(f"/admin/booking/partner/{world.a.pk}/change/").content.decode()
    assert "08:00" in page and "08:00:00" not in page and "vTimeField" not in page
    page = client.get(HOURS, {"partner": world.a.pk}).content.decode()
    assert 'type="time"' in page and 'value="08:00"' in page
    assert 'value="08:00:00"' not in page and "vTimeField" not in page


def test_time_zone_is_chosen_from_the_list(client: Client, world: World) -> None:
    page = client.get(f"/admin/booking/partner/{world.a.pk}/change/").content.decode()
    assert '<select name="time_zone"' in page
    assert '<option value="Asia/Kolkata">' in page
    assert '<option value="Europe/Zurich" selected>' in page


def test_hours_and_zone_are_saved(client: Client, world: World) -> None:
    url = f"/admin/booking/partner/{world.a.pk}/change/"
    first = OpeningHours.objects.filter(partner=world.a).order_by("weekday", "start")[0]
    # The weekly hours editor saves the hours (showing first any booking they leave out) ...
    week: dict[str, str] = {}
    per_day: dict[int, int] = {}
    for row in OpeningHours.objects.filter(partner=world.a).order_by("weekday", "start"):
        n = per_day[row.weekday] = per_day.get(row.weekday, -1) + 1
        week[f"d{row.weekday}_{n}_start"] = f"{row.start:%H:%M}"
        week[f"d{row.weekday}_{n}_end"] = f"{row.end:%H:%M}"
    week[f"d{first.weekday}_0_start"] = "09:30"
    data = {"partner": str(world.a.pk), **week}
    response = client.post(HOURS, data)
    if response.status_code == 200:  # bookings left out: shown first, then kept
        shown = re.findall(r'name="shown" value="(\d+)"', response.content.decode())
        assert shown, re.findall(r"errorlist.{0,300}", response.content.decode())
        response = client.post(HOURS, {**data, "choice": "keep", "shown": shown})
    assert response.status_code == 302
    starts = OpeningHours.objects.filter(partner=world.a, weekday=first.weekday)
    assert "09:30" in [f"{row.start:%H:%M}" for row in starts]
    # ... the profile the zone; an hours row posted there as the old inline form changes nothing.
    response = client.post(
        url, _profile(world, client, time_zone="Asia/Kolkata", **{"opening_hours-0-start": "07:15"})
    )
    assert response.status_code == 302, re.findall(r"errorlist.{0,300}", response.content.decode())
    world.a.refresh_from_db()
    assert world.a.time_zone == "Asia/Kolkata"
    assert "07:15" not in [f"{row.start:%H:%M}" for row in OpeningHours.objects.all()]


@pytest.mark.parametrize("zone", ["Mars/Olympus", "UTC+1", "", "../etc/passwd"])
def test_a_zone_not_in_the_list_is_a_form_error(client: Client, world: World, zone: str) -> None:
    url = f"/admin/booking/partner/{world.a.pk}/change/"
    response = client.post(url, _profile(world, client, time_zone=zone))
    assert response.status_code == 200
    assert "errorlist" in response.content.decode()
    assert Partner.objects.get(pk=world.a.pk).time_zone == "Europe/Zurich"
