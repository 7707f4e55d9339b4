"""The weekly hours editor: the whole week on one page (closed days named), saved at once with
clear errors, and, when the new hours leave bookings outside, those bookings shown before
anything is saved with the choice to cancel them (customers told) or keep them.

Time is frozen at Tuesday 1 December 2026, 08:00 in Zurich (07:00 UTC)."""

from __future__ import annotations

from datetime import UTC, date, datetime, time
from typing import Any

import pytest
from admin_world import World, build_world, make_booking
from django.core import mail
from django.test import Client

from booking import selectors
from booking.events import BookingEvent
from booking.models import Booking, DateOverride, OpeningHours, StaffHours
from security.models import SecurityEvent
from tests.otp_login import login_verified

pytestmark = [pytest.mark.django_db, pytest.mark.usefixtures("december_first")]

HOURS = "/admin/booking/partner/hours/"
NOW = datetime(2026, 12, 1, 7, 0, tzinfo=UTC)
THURSDAY = date(2026, 12, 24)  # weekday 3


@pytest.fixture
def world(client: Client) -> World:
    world = build_world()
    login_verified(client, world.owner)
    return world


def _week(world: World, **days: list[tuple[str, str]]) -> dict[str, str]:
    """A POST of the week: days given by d0..d6, the others closed."""
    data = {"partner": str(world.a.pk)}
    for day in range(7):
        for row, (start, end) in enumerate(days.get(f"d{day}", [])):
            data[f"d{day}_{row}_start"] = start
            data[f"d{day}_{row}_end"] = end
    return data


# Around the world's bookings of 3 December (11:00 and 12:00 in Zurich), with a lunch break.
WORKDAYS = {f"d{d}": [("08:00", "13:00"), ("14:00", "18:30")] for d in range(5)}


def _stored(world: World) -> dict[int, list[tuple[time, time]]]:
    week: dict[int, list[tuple[time, time]]] = {}
    for row in OpeningHours.objects.filter(partner=world.a).order_by("weekday", "start"):
        week.setdefault(row.weekday, []).append((row.start, row.end))
    return week


def _free(world: World, day: date) -> list[datetime]:
    return selectors.free_starts_by_local_day(
        service=world.a_service, zone=world.a.zone, first=day, last=day, now=NOW
    )[day]


def test_the_page_shows_the_whole_week_with_closed_days_named(client: Client, world: World) -> None:
    OpeningHours.objects.filter(partner=world.a, weekday=6).delete()
    page = client.get(HOURS).content.decode()
    for name in ("Monday", "Tuesday", "Wednesday", "Thursday", "Friday", "Saturday", "Sunday"):
        assert f"<legend>{name} " in page
    assert page.count(">Closed</span>") == 1  # Sunday
    assert 'value="08:00"' in page and 'value="20:00"' in page  # HH:MM, no seconds
    assert 'for="id_d6_0_start"' in page  # every field labelled
    assert "A day without any range is closed." in page


def test_the_week_is_saved_at_once_and_offered_at_once(client: Client, world: World) -> None:
    assert _free(world, date(2026, 12, 26))  # Saturday, cached now
    response = client.post(HOURS, _week(world, **WORKDAYS, d5=[("10:00", "00:00")]), follow=True)
    assert "The weekly hours were saved." in response.content.decode()
    week = _stored(world)
    assert week[0] == [(time(8), time(13)), (time(14), time(18, 30))]
    assert week[5] == [(time(10), time(0))]  # until midnight
    assert 6 not in week
    event = SecurityEvent.objects.get(event_type=BookingEvent.HOURS_CHANGED)
    assert event.actor == world.owner
    assert event.detail["week"]["0"] == ["08:00-13:00", "14:00-18:30"]
    saturday = [t.astimezone(world.a.zone).time() for t in _free(world, date(2026, 12, 26))]
    assert saturday[0] == time(10) and saturday[-1] == time(23)
    assert _free(world, date(2026, 12, 27)) == []  # Sunday now closed


@pytest.mark.parametrize(
    ("rows", "error"),
    [
        ([("09:00", "12:00"), ("11:00", "14:00")], "This range overlaps 09:00–12:00."),
        ([("12:00", "09:00")], "The end must be after the start (00:00 means midnight"),
        ([("09:00", "")], "Give both a start and an end, or neither."),
        ([("25:00", "26:00")], "Enter a valid time."),
        ([("09:00", "09:00")], "The end must be after the start"),
    ],
)
def test_a_bad_range_is_a_form_error_and_nothing_is_saved(
    client: Client, world: World, rows: list[tuple[str, str]], error: str
) -> None:
    before = _stored(world)
    response = client.post(HOURS, _week(world, **WORKDAYS, d6=rows))
    assert response.status_code == 200
    page = response.content.decode()
    assert error in page and "Please correct the errors below." in page
    assert _stored(world) == before
    assert not SecurityEvent.objects.filter(event_type=BookingEvent.HOURS_CHANGED).exists()


def test_bookings_left_outside_are_shown_first_and_kept_on_request(
    client: Client, world: World
) -> None:
    booking = make_booking(
        world.a_service, datetime(2026, 12, 24, 12, 0, tzinfo=UTC), customer_name="Late Lena"
    )  # Thursday 13:00-14:00 in Zurich: in the new lunch break
    before = _stored(world)
    page = client.post(HOURS, _week(world, **WORKDAYS)).content.decode()
    assert "The new hours leave 1 booking outside" in page
    assert "Late Lena" in page and "2026-12-24 13:00 (Europe/Zurich)" in page
    assert _stored(world) == before  # nothing saved yet
    response = client.post(
        HOURS, {**_week(world, **WORKDAYS), "choice": "keep", "shown": [str(booking.pk)]}
    )
    assert response.status_code == 302
    assert _stored(world)[3] == [(time(8), time(13)), (time(14), time(18, 30))]
    booking.refresh_from_db()
    assert booking.status == Booking.Status.CONFIRMED
    assert mail.outbox == []


def test_bookings_left_outside_can_be_cancelled_with_the_customer_told(
    client: Client, world: World, django_capture_on_commit_callbacks: Any
) -> None:
    booking = make_booking(
        world.a_service,
        datetime(2026, 12, 24, 12, 0, tzinfo=UTC),
        customer_email="lena@example.com",
        language="de",
    )
    inside = make_booking(world.a_service, datetime(2026, 12, 24, 9, 0, tzinfo=UTC))
    with django_capture_on_commit_callbacks(execute=True):
        client.post(
            HOURS, {**_week(world, **WORKDAYS), "choice": "cancel", "shown": [str(booking.pk)]}
        )
    booking.refresh_from_db()
    inside.refresh_from_db()
    assert booking.status == Booking.Status.CANCELLED
    assert inside.status == Booking.Status.CONFIRMED
    (to_lena,) = [m for m in mail.outbox if m.to == ["lena@example.com"]]
    assert to_lena.subject.startswith("Buchung storniert: ")


def test_a_day_with_its_own_hours_is_not_judged_by_the_week(client: Client, world: World) -> None:
    DateOverride.objects.create(partner=world.a, date=THURSDAY, note="Late opening")
    make_booking(world.a_service, datetime(2026, 12, 24, 12, 0, tzinfo=UTC))
    response = client.post(HOURS, _week(world, **WORKDAYS))
    assert response.status_code == 302  # saved at once: nothing left outside by the week


def test_a_persons_week_is_saved_for_that_person_only(client: Client, world: World) -> None:
    url = f"{HOURS}?staff={world.a_staff.pk}"
    assert world.a_staff.name in client.get(url).content.decode()
    # Her booking of Thursday 3 December (12:00 in Zurich) stays inside.
    week = _week(world, d0=[("10:00", "14:00")], d3=[("10:00", "14:00")])
    assert client.post(url, {**week, "staff": str(world.a_staff.pk)}).status_code == 302
    hers = StaffHours.objects.filter(staff=world.a_staff).order_by("weekday")
    assert [(h.weekday, h.start, h.end) for h in hers] == [
        (0, time(10), time(14)),
        (3, time(10), time(14)),
    ]
    assert _stored(world)[0] == [(time(8), time(20))]  # the business's hours as they were
    event = SecurityEvent.objects.get(event_type=BookingEvent.HOURS_CHANGED)
    assert event.detail["staff_id"] == world.a_staff.pk


def test_another_partners_person_or_business_is_a_404(client: Client, world: World) -> None:
    assert client.get(f"{HOURS}?staff={world.b_staff.pk}").status_code == 404
    assert client.get(f"{HOURS}?partner={world.b.pk}").status_code == 404
    data = {**_week(world, d0=[("10:00", "14:00")]), "staff": str(world.b_staff.pk)}
    before = list(StaffHours.objects.filter(staff=world.b_staff).values_list("weekday", "start"))
    assert client.post(HOURS, data).status_code == 404
    after = list(StaffHours.objects.filter(staff=world.b_staff).values_list("weekday", "start"))
    assert after == before


def test_a_stylist_cannot_change_the_business_hours(client: Client, world: World) -> None:
    client.logout()
    login_verified(client, world.stylist_a)
    before = _stored(world)
    assert client.get(HOURS).status_code == 403
    assert client.post(HOURS, _week(world, d0=[("10:00", "11:00")])).status_code == 403
    assert _stored(world) == before


def test_the_week_of_a_person_who_works_the_business_hours_leaves_no_booking_outside(
    client: Client, world: World
) -> None:
    world.a_staff.works_opening_hours = True
    world.a_staff.save()
    url = f"{HOURS}?staff={world.a_staff.pk}"
    page = client.get(url).content.decode()
    assert "This person works whenever the business is open" in page
    # Her booking of Thursday 3 December is outside this week, but her own week does not apply.
    week = {**_week(world, d0=[("10:00", "11:00")]), "staff": str(world.a_staff.pk)}
    assert client.post(url, week).status_code == 302
