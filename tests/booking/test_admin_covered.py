"""Never silently: a closed day or an absence that covers bookings says so on saving, naming and
linking each booking (in the partner's zone), which is kept until the owner moves or cancels it.

Time is frozen at Tuesday 1 December 2026, 08:00 in Zurich (07:00 UTC)."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest
from admin_world import World, build_world, make_booking
from django.test import Client

from booking.admin.covered import covered_by_absences
from booking.models import Booking, StaffAbsence
from tests.otp_login import login_verified

pytestmark = [pytest.mark.django_db, pytest.mark.usefixtures("december_first")]

ADD = "/admin/booking/dateoverride/add/"


@pytest.fixture
def world(client: Client) -> World:
    world = build_world()
    login_verified(client, world.owner)
    return world


def _close(client: Client, day: str, *ranges: tuple[str, str]) -> str:
    data = {
        "date": day,
        "note": "Holiday",
        "ranges-TOTAL_FORMS": str(len(ranges)),
        "ranges-INITIAL_FORMS": "0",
        "ranges-MIN_NUM_FORMS": "0",
        "ranges-MAX_NUM_FORMS": "1000",
    }
    for n, (start, end) in enumerate(ranges):
        data |= {f"ranges-{n}-start": start, f"ranges-{n}-end": end}
    response = client.post(ADD, data, follow=True)
    assert response.status_code == 200
    assert response.redirect_chain, response.content.decode()[:2000]
    return response.content.decode()


def test_closing_a_booked_day_names_the_bookings_it_covers(client: Client, world: World) -> None:
    booking = make_booking(world.a_service, datetime(2026, 12, 24, 9, 0, tzinfo=UTC))
    page = _close(client, "2026-12-24")
    assert "This covers 1 booking, which was kept:" in page
    assert (
        f'<a href="/admin/booking/booking/{booking.pk}/change/">'
        "Quillcraft Cut, 2026-12-24 10:00 (Europe/Zurich)</a>" in page
    )
    assert "cancelling emails the customer and refunds a payment" in page
    booking.refresh_from_db()
    assert booking.status == Booking.Status.CONFIRMED


def test_shorter_hours_name_only_the_bookings_outside_them(client: Client, world: World) -> None:
    morning = make_booking(world.a_service, datetime(2026, 12, 24, 8, 0, tzinfo=UTC))  # 09:00
    evening = make_booking(world.a_service, datetime(2026, 12, 24, 15, 0, tzinfo=UTC))  # 16:00
    page = _close(client, "2026-12-24", ("08:00", "12:00"))
    assert f"/admin/booking/booking/{evening.pk}/change/" in page
    assert f"/admin/booking/booking/{morning.pk}/change/" not in page


def test_closing_a_free_day_says_nothing(client: Client, world: World) -> None:
    page = _close(client, "2026-12-25")
    assert "This covers" not in page


def test_an_absence_covers_the_persons_overlapping_bookings_only(world: World) -> None:
    hers = world.a_own_booking
    absence = StaffAbsence(staff=world.a_staff, starts_at=hers.start, ends_at=hers.end)
    make_booking(world.a_service, hers.start)  # the team's, at the same time
    cancelled = make_booking(
        world.a_service, hers.end, staff=world.a_staff, status=Booking.Status.CANCELLED
    )
    found = list(covered_by_absences([absence]))
    assert found == [hers] and cancelled not in found
