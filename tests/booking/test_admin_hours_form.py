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
    page = client.get(f"/admin/booking/partner/{world.a.pk}/change/").content.decode()
    assert 'type="time"' in page and 'value="08:00"' in page
    assert "08:00:00" not in page and "vTimeField" not in page


def test_time_zone_is_chosen_from_the_list(client: Client, world: World) -> None:
    page = client.get(f"/admin/booking/partner/{world.a.pk}/change/").content.decode()
    assert '<select name="time_zone"' in page
    assert '<option value="Asia/Kolkata">' in page
    assert '<option value="Europe/Zurich" selected>' in page


def test_hours_and_zone_are_saved(client: Client, world: World) -> None:
    url = f"/admin/booking/partner/{world.a.pk}/change/"
    response = client.post(
        url, _profile(world, client, time_zone="Asia/Kolkata", **{"opening_hours-0-start": "09:30"})
    )
    assert response.status_code == 302, re.findall(r"errorlist.{0,300}", response.content.decode())
    world.a.refresh_from_db()
    assert world.a.time_zone == "Asia/Kolkata"
    assert f"{OpeningHours.objects.filter(partner=world.a).order_by('pk')[0].start:%H:%M}" == (
        "09:30"
    )


@pytest.mark.parametrize("zone", ["Mars/Olympus", "UTC+1", "", "../etc/passwd"])
def test_a_zone_not_in_the_list_is_a_form_error(client: Client, world: World, zone: str) -> None:
    url = f"/admin/booking/partner/{world.a.pk}/change/"
    response = client.post(url, _profile(world, client, time_zone=zone))
    assert response.status_code == 200
    assert "errorlist" in response.content.decode()
    assert Partner.objects.get(pk=world.a.pk).time_zone == "Europe/Zurich"
