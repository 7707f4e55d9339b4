"""The bookings list as an owner reads it: upcoming first, the filters "today", "this week",
"unpaid", "cancelled", "moved"; a state that tells a confirmed booking from an unpaid hold, a
cancellation and a moved booking ("moved to …", linked); amounts and payment states; the payments
list linking each row to its payment and its booking.

Time is frozen at Tuesday 1 December 2026, 08:00 in Zurich (07:00 UTC)."""

from __future__ import annotations

import re
from datetime import UTC, datetime, timedelta

import pytest
from admin_world import World, build_world, make_booking, make_hold, make_paid
from django.db import connection
from django.test import Client
from django.test.utils import CaptureQueriesContext

from booking import services
from booking.models import Booking
from security.actors import Actor
from tests.booking.conftest import WORKSPACE_NOW
from tests.otp_login import login_verified

pytestmark = [pytest.mark.django_db, pytest.mark.usefixtures("december_first")]

NOW = WORKSPACE_NOW
LIST = "/admin/booking/booking/"


@pytest.fixture
def world() -> World:
    return build_world()  # its bookings: Thursday 3 December


@pytest.fixture
def owner(client: Client, world: World) -> Client:
    login_verified(client, world.owner)
    return client


def _at(day: int, hour: int) -> datetime:
    return datetime(2026, 12, day, hour, 0, tzinfo=UTC)


def _rows(client: Client, query: str = "") -> list[int]:
    """The booking ids of the list, in its order."""
    page = client.get(LIST + query).content.decode()
    ids = re.findall(
        r'<th class="field-local_start"><a href="/admin/booking/booking/(\d+)/change/', page
    )
    return [int(i) for i in ids]


def test_upcoming_first_then_the_most_recent_past(owner: Client, world: World) -> None:
    Booking.objects.exclude(partner=world.a).delete()
    old = make_booking(world.a_service, _at(1, 5) - timedelta(days=30))
    yesterday = make_booking(world.a_service, _at(1, 5) - timedelta(days=1))
    today = make_booking(world.a_service, _at(1, 9))
    later = make_booking(world.a_service, _at(10, 9))
    assert _rows(owner) == [
        today.pk,
        world.a_booking.pk,
        world.a_own_booking.pk,
        later.pk,
        yesterday.pk,
        old.pk,
    ]


def test_filters_today_week_unpaid_cancelled_moved(owner: Client, world: World) -> None:
    today = make_booking(world.a_service, _at(1, 9))
    sunday = make_booking(world.a_service, _at(6, 9))
    next_week = make_booking(world.a_service, _at(8, 9))
    hold = make_booking(world.a_service, _at(9, 9))
    make_hold(hold, NOW + timedelta(minutes=15))
    cancelled = make_booking(world.a_service, _at(9, 11), status=Booking.Status.CANCELLED)
    moving = make_booking(world.a_service, _at(10, 9))
    moved_to = services.booking_reschedule(
        booking=moving, new_start=_at(10, 13), actor=Actor.user(world.owner)
    )
    assert _rows(owner, "?show=today") == [today.pk]
    week = set(_rows(owner, "?show=week"))
    assert {today.pk, sunday.pk, world.a_booking.pk} <= week and next_week.pk not in week
    assert _rows(owner, "?show=unpaid") == [hold.pk]
    assert _rows(owner, "?show=cancelled") == [cancelled.pk]
    assert _rows(owner, "?show=moved") == [moving.pk]

    page = owner.get(LIST + "?show=moved").content.decode()
    assert (
        f'Moved to <a href="/admin/booking/booking/{moved_to.pk}/change/">'
        "2026-12-10 14:00 (Europe/Zurich)</a>" in page
    )
    page = owner.get(LIST).content.decode()
    assert "Unpaid hold<br>until 2026-12-01 08:15 (Europe/Zurich)" in page
    assert "Confirmed" in page
    detail = owner.get(f"{LIST}{moving.pk}/change/").content.decode()
    assert f'href="/admin/booking/booking/{moved_to.pk}/change/"' in detail
    assert "Moved to" in detail and ">Cancelled<" not in detail


def test_a_paid_booking_shows_amount_and_payment_state(owner: Client, world: World) -> None:
    paid = make_booking(world.a_service, _at(4, 9))
    make_paid(paid, 8500)
    page = owner.get(LIST).content.decode()
    assert "CHF 85.00 · Paid" in page
    detail = owner.get(f"{LIST}{paid.pk}/change/").content.decode()
    assert "CHF 85.00 · Paid" in detail
    # Moved, the new booking shows the payment that paid for it.
    moved_to = services.booking_reschedule(
        booking=paid, new_start=_at(4, 12), actor=Actor.user(world.owner)
    )
    detail = owner.get(f"{LIST}{moved_to.pk}/change/").content.decode()
    assert "CHF 85.00 · Paid" in detail


def test_payments_list_links_each_row_to_its_payment_and_booking(
    owner: Client, world: World
) -> None:
    payment = make_paid(world.a_booking, 5000)
    page = owner.get("/admin/payments/payment/").content.decode()
    assert f'<a href="/admin/payments/payment/{payment.pk}/change/">CHF 50.00</a>' in page
    assert f'<a href="/admin/booking/booking/{world.a_booking.pk}/change/">' in page
    row = page.split(f"/admin/payments/payment/{payment.pk}/change/", 1)[1].split("</tr>", 1)[0]
    assert row.count("<a ") == 1  # the booking link, not inside the payment's


def test_list_query_count_does_not_grow_with_bookings(owner: Client, world: World) -> None:
    def queries() -> int:
        with CaptureQueriesContext(connection) as captured:
            assert owner.get(LIST).status_code == 200
        return len(captured)

    one = queries()
    for n in range(20):
        booking = make_booking(world.a_service, _at(2 + n % 5, 12 + n // 5))
        if n % 4 == 0:
            services.booking_reschedule(
                booking=booking,
                new_start=_at(20 + n % 5, 8 + n // 5),
                actor=Actor.user(world.owner),
            )
        if n % 4 == 1:
            make_paid(booking, 5000)
    assert queries() == one


def test_the_calendar_tells_moved_and_unpaid_from_cancelled(owner: Client, world: World) -> None:
    moving = make_booking(world.a_service, _at(3, 13))
    services.booking_reschedule(booking=moving, new_start=_at(3, 14), actor=Actor.user(world.owner))
    make_hold(make_booking(world.a_service, _at(4, 13)), NOW + timedelta(minutes=10))
    make_booking(world.a_service, _at(5, 13), status=Booking.Status.CANCELLED)
    for view in ("week", "day"):
        labels = []
        for day in ("2026-12-03", "2026-12-04", "2026-12-05"):
            page = owner.get(f"/admin/booking/booking/calendar/?{view}={day}").content.decode()
            labels += re.findall(r'<span class="cal-status">([^<]+)</span>', page)
        assert {"moved", "unpaid hold", "cancelled"} <= set(labels), (view, labels)
