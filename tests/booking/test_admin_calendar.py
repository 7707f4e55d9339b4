"""The admin week calendar: content, navigation in the partner's zone (across a clock change),
scoping, and a query count that does not grow with the number of bookings."""

from __future__ import annotations

import re
from datetime import datetime, timedelta
from zoneinfo import ZoneInfo

import pytest
from admin_world import B_CUSTOMER, B_SERVICE, build_world, make_booking
from django.db import connection
from django.test.utils import CaptureQueriesContext

from booking.models import Booking, DateOverride, DateOverrideRange, Service
from tests import hostile_inputs as hostile
from tests.otp_login import login_verified

pytestmark = pytest.mark.django_db
ZURICH = ZoneInfo("Europe/Zurich")
URL = "/admin/booking/booking/calendar/"


@pytest.fixture
def world(client):
    world = build_world()
    login_verified(client, world.owner)
    return world


def _days(body: str) -> dict[str, str]:
    """The HTML of each day's row (its hours and every person's column), by its date."""
    return dict(
        re.findall(r'<tr class="cal-day[^"]*" data-date="([\d-]+)">(.*?)</tr>', body, re.DOTALL)
    )


def test_week_shows_bookings_hours_and_links(client, world) -> None:
    start = datetime(2030, 6, 4, 10, 0, tzinfo=ZURICH)  # a Tuesday
    booking = make_booking(world.a_service, start, customer_name="Cal Customer")
    make_booking(
        world.a_service,
        start + timedelta(hours=2),
        customer_name="Gone Customer",
        status=Booking.Status.CANCELLED,
    )
    override = DateOverride.objects.create(
        partner=world.a, date=start.date() + timedelta(days=1), note="Short day"
    )
    DateOverrideRange.objects.create(override=override, start="10:00", end="12:00")
    DateOverride.objects.create(
        partner=world.a, date=start.date() + timedelta(days=2), note="Closed"
    )
    body = client.get(URL, {"week": "2030-06-05"}).content.decode()
    assert "3 Jun 2030 – 9 Jun 2030" in body and "Europe/Zurich" in body
    days = _days(body)
    assert list(days) == [f"2030-06-{d:02d}" for d in range(3, 10)]
    tuesday = days["2030-06-04"]
    assert (
        "10:00–11:00" in tuesday and "Cal Customer" in tuesday and world.a_service.name in tuesday
    )
    assert f"/admin/booking/booking/{booking.pk}/change/" in tuesday
    assert "cal-cancelled" in tuesday
    assert "08:00–20:00" in days["2030-06-03"]
    assert "10:00–12:00" in days["2030-06-05"] and "special" in days["2030-06-05"]
    assert "Closed" in days["2030-06-06"]
    assert 'href="?week=2030-05-27"' in body.replace(
        URL, ""
    ) and 'href="?week=2030-06-10"' in body.replace(URL, "")


def test_week_navigation_across_the_spring_clock_change(client, world) -> None:
    # Europe/Zurich moves to summer time on Sunday 2026-03-29 at 02:00.
    sunday_late = make_booking(
        world.a_service, datetime(2026, 3, 29, 23, 0, tzinfo=ZURICH), customer_name="Sunday Late"
    )
    monday_early = make_booking(
        world.a_service, datetime(2026, 3, 30, 0, 30, tzinfo=ZURICH), customer_name="Monday Early"
    )
    assert monday_early.start.astimezone(ZoneInfo("UTC")).day == 29  # the previous day in UTC
    before = client.get(URL, {"week": "2026-03-26"}).content.decode()
    days = _days(before)
    assert "Sunday Late" in days["2026-03-29"] and "Monday Early" not in before
    assert "week=2026-03-30" in before
    after = client.get(URL, {"week": "2026-03-30"}).content.decode()
    assert "Monday Early" in _days(after)["2026-03-30"] and "Sunday Late" not in after
    assert "00:30–01:30" in after and "23:00–00:00" in before
    assert sunday_late.pk != monday_early.pk


def test_week_across_the_autumn_clock_change_keeps_local_times(client, world) -> None:
    # 2026-10-25 03:00 summer time becomes 02:00 winter time.
    make_booking(
        world.a_service, datetime(2026, 10, 25, 9, 0, tzinfo=ZURICH), customer_name="After Change"
    )
    body = client.get(URL, {"week": "2026-10-25"}).content.decode()
    assert "19 Oct 2026 – 25 Oct 2026" in body
    assert "09:00–10:00" in _days(body)["2026-10-25"]


def test_partner_users_always_see_their_own_partner(client, world) -> None:
    make_booking(
        world.b_service, datetime(2030, 6, 4, 10, 0, tzinfo=ZURICH), customer_name=B_CUSTOMER
    )
    body = client.get(URL, {"week": "2030-06-04", "partner": world.b.pk}).content.decode()
    assert world.a.name in body and B_CUSTOMER not in body and B_SERVICE not in body


def test_staff_pick_a_partner_first(client, world) -> None:
    login_verified(client, world.superuser)
    body = client.get(URL).content.decode()
    assert f"?partner={world.a.pk}" in body and f"?partner={world.b.pk}" in body
    body = client.get(URL, {"partner": world.b.pk, "week": "2030-06-04"}).content.decode()
    assert "America/New_York" in body


@pytest.mark.parametrize("week", ["9999-12-31", "0001-01-01", "1899-12-31", "3000-01-01"])
def test_a_week_at_the_ends_of_the_calendar_is_400_with_message(client, world, week: str) -> None:
    response = client.get(URL, {"week": week})
    assert response.status_code == 400
    body = response.content.decode()
    assert "Enter a date between 1900 and 2999." in body
    assert f'href="{URL}"' in body  # a way back to this week


@pytest.mark.parametrize("week", ["not-a-date", *hostile.DATES])
def test_a_malformed_week_is_400_with_message(client, world, week: str) -> None:
    response = client.get(URL, {"week": week})
    assert response.status_code == 400
    assert "YYYY-MM-DD" in response.content.decode() or "1900" in response.content.decode()


def test_an_empty_week_is_this_week(client, world) -> None:
    assert client.get(URL, {"week": ""}).status_code == 200


@pytest.mark.parametrize("wanted", hostile.NUMBERS[:-1])
def test_staff_asking_for_a_malformed_partner_get_400(client, world, wanted: str) -> None:
    login_verified(client, world.superuser)
    response = client.get(URL, {"partner": wanted})
    assert response.status_code == 400
    assert "Choose a partner from the list." in response.content.decode()


def test_staff_asking_for_an_unknown_partner_get_404(client, world) -> None:
    login_verified(client, world.superuser)
    assert client.get(URL, {"partner": "999999"}).status_code == 404
    assert client.get(URL, {"partner": ""}).status_code == 200  # the list to choose from


@pytest.mark.parametrize("wanted", hostile.NUMBERS)
def test_partner_users_ignore_any_partner_parameter(client, world, wanted: str) -> None:
    response = client.get(URL, {"partner": wanted})
    assert response.status_code == 200 and world.a.name in response.content.decode()


def _count(client, n: int, world) -> int:
    Booking.objects.filter(partner=world.a).delete()
    quick, _ = Service.objects.get_or_create(
        partner=world.a, slug="quick", defaults={"name": "Quick", "duration_minutes": 5}
    )
    base = datetime(2030, 6, 3, 8, 0, tzinfo=ZURICH)
    for i in range(n):  # back to back, never overlapping (PostgreSQL's constraint would refuse)
        make_booking(quick, base + timedelta(days=i % 7, minutes=5 * (i // 7)))
    with CaptureQueriesContext(connection) as queries:
        response = client.get(URL, {"week": "2030-06-03"})
    assert response.status_code == 200
    assert len(re.findall(r"class=\"cal-booking[ \"]", response.content.decode())) == n
    return len(queries)


def test_query_count_does_not_grow_with_bookings(client, world) -> None:
    assert _count(client, 10, world) == _count(client, 100, world)


def _changelist_count(client, n: int, world) -> int:
    Booking.objects.filter(partner=world.a).delete()
    base = datetime(2030, 6, 3, 8, 0, tzinfo=ZURICH)
    for i in range(n):
        make_booking(world.a_service, base + timedelta(hours=i))
    with CaptureQueriesContext(connection) as queries:
        response = client.get("/admin/booking/booking/")
    assert response.status_code == 200
    return len(queries)


@pytest.mark.parametrize("role", ["owner", "support_granted", "superuser"])
def test_bookings_changelist_query_count_is_bounded(client, world, role: str) -> None:
    login_verified(client, getattr(world, role))
    few, many = _changelist_count(client, 5, world), _changelist_count(client, 50, world)
    assert few == many
    assert many <= 20
