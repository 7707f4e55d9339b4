"""The partner's admin home: today and tomorrow per staff member, unpaid holds with their expiry,
recent cancellations, the way to the calendar and to booking by hand; in the partner's zone;
scoped like every other page; a fixed number of queries.

Time is frozen at Tuesday 1 December 2026, 08:00 in Zurich (07:00 UTC)."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest
from admin_world import (
    A_CUSTOMER,
    A_OWN_CUSTOMER,
    A_SERVICE,
    A_STYLIST,
    B_ALL,
    B_CUSTOMER,
    World,
    build_world,
    make_booking,
    make_hold,
)
from django.db import connection
from django.test import Client
from django.test.utils import CaptureQueriesContext

from booking.models import Booking
from tests.booking.conftest import WORKSPACE_NOW
from tests.otp_login import login_verified
from tests.staffing import TEAM

pytestmark = [pytest.mark.django_db, pytest.mark.usefixtures("december_first")]

NOW = WORKSPACE_NOW


@pytest.fixture
def world() -> World:
    return build_world()


def _home(client: Client, user: object) -> str:
    login_verified(client, user)
    response = client.get("/admin/")
    assert response.status_code == 200
    return response.content.decode()


def test_owner_home_shows_today_and_tomorrow_per_person(client: Client, world: World) -> None:
    today = make_booking(world.a_service, datetime(2026, 12, 1, 9, 15, tzinfo=UTC))  # 10:15
    tomorrow = make_booking(
        world.a_service, datetime(2026, 12, 2, 13, 0, tzinfo=UTC), staff=world.a_staff
    )  # 14:00
    make_booking(world.a_service, datetime(2026, 12, 4, 9, 0, tzinfo=UTC))  # later: not shown
    page = _home(client, world.owner)
    assert "Today at Zephyrine Atelier" in page
    assert "Times in Europe/Zurich." in page
    today_part, tomorrow_part = page.split("Tomorrow, ", 1)
    assert "Today, Tuesday 1 December 2026" in today_part
    assert f'href="/admin/booking/booking/{today.pk}/change/"><time>10:15–11:15</time>' in (
        today_part
    )
    assert TEAM in today_part
    assert "Wednesday 2 December 2026" in tomorrow_part
    assert f'href="/admin/booking/booking/{tomorrow.pk}/change/"><time>14:00–15:00</time>' in (
        tomorrow_part
    )
    assert A_STYLIST in tomorrow_part
    assert "Thursday" not in page.split("Unpaid holds")[0]
    assert B_CUSTOMER not in page and all(text not in page for text in B_ALL)
    # The way on: calendars, booking by hand, the list; the admin's own menu stays.
    for url in (
        "/admin/booking/booking/calendar/?day=2026-12-01",
        "/admin/booking/booking/calendar/",
        "/admin/booking/booking/add/",
        "/admin/booking/booking/",
    ):
        assert f'href="{url}"' in page
    assert 'href="/admin/booking/service/"' in page


def test_unpaid_holds_show_their_expiry_and_cancellations_their_time(
    client: Client, world: World
) -> None:
    hold = make_booking(world.a_service, datetime(2026, 12, 1, 12, 0, tzinfo=UTC))
    make_hold(hold, NOW + timedelta(minutes=20))
    make_booking(
        world.a_service,
        datetime(2026, 12, 3, 9, 0, tzinfo=UTC),
        status=Booking.Status.CANCELLED,
        customer_name="Carla Cancelled",
    )
    page = _home(client, world.owner)
    holds = page.split("Unpaid holds", 1)[1].split("Recent cancellations", 1)
    assert "Released unless paid by 2026-12-01 08:20 (Europe/Zurich)" in holds[0]
    assert f"{A_SERVICE}, 2026-12-01 13:00 (Europe/Zurich)" in holds[0]
    assert "Unpaid hold" in page.split("Tomorrow, ")[0]  # marked in today's list too
    assert "Carla Cancelled" in holds[1]
    assert "Cancelled by the business, 2026-12-01 08:00 (Europe/Zurich)" in holds[1]


def test_a_stylist_sees_her_own_day_only(client: Client, world: World) -> None:
    make_booking(world.a_service, datetime(2026, 12, 1, 9, 0, tzinfo=UTC), customer_name="Tina T")
    make_booking(
        world.a_service,
        datetime(2026, 12, 1, 10, 0, tzinfo=UTC),
        staff=world.a_staff,
        customer_name=A_OWN_CUSTOMER,
    )
    page = _home(client, world.stylist_a)
    assert A_OWN_CUSTOMER in page
    assert "Tina T" not in page and A_CUSTOMER not in page


def test_other_partner_sees_its_own_home(client: Client, world: World) -> None:
    make_booking(world.a_service, datetime(2026, 12, 1, 9, 0, tzinfo=UTC), customer_name="Ann A")
    page = _home(client, world.member_b)
    assert "Today at Yodelmark Clinic" in page and "Times in America/New_York." in page
    assert "Ann A" not in page and "Zephyrine" not in page


@pytest.mark.parametrize("role", ["superuser", "support"])
def test_operators_keep_the_admin_index(client: Client, world: World, role: str) -> None:
    page = _home(client, world.user(role))
    assert 'id="dashboard"' not in page
    assert "Workspace" in page


def test_query_count_does_not_grow_with_bookings(client: Client, world: World) -> None:
    login_verified(client, world.owner)

    def queries() -> int:
        with CaptureQueriesContext(connection) as captured:
            assert client.get("/admin/").status_code == 200
        return len(captured)

    start = datetime(2026, 12, 1, 8, 0, tzinfo=UTC)
    make_booking(world.a_service, start)
    one = queries()
    for n in range(1, 20):
        booking = make_booking(
            world.a_service,
            start + timedelta(hours=n % 10, days=n // 10),
            staff=world.a_staff if n % 2 else None,
        )
        if n % 5 == 0:
            make_hold(booking, NOW + timedelta(minutes=n))
    for n in range(3):
        make_booking(
            world.a_service,
            start + timedelta(days=3, hours=n),
            status=Booking.Status.CANCELLED,
        )
    assert Booking.objects.filter(partner=world.a).count() > 20
    assert queries() == one
