"""The admin day view as a time grid: a row per quarter hour of the day as it passes in the
partner's zone (23 or 25 hours on a clock-change day), a column per person; bookings as blocks
with their status and payment, closed hours shaded, absences shown, and each free quarter hour
a link (with an accessible name) to book by hand with that person at that time. Partner A is in
Europe/Zurich, open every day 08:00-20:00."""

from __future__ import annotations

import html
import re
from datetime import UTC, date, datetime, timedelta
from pathlib import Path
from urllib.parse import unquote
from zoneinfo import ZoneInfo

import pytest
from admin_world import A_STYLIST, build_world, make_booking, make_hold, make_paid
from django.db import connection
from django.test.utils import CaptureQueriesContext

from booking.admin.day_grid import grid_stylesheet
from booking.models import Booking, CancelledBecause, DateOverride, StaffAbsence, StaffMember
from tests.otp_login import login_verified
from tests.staffing import TEAM

pytestmark = pytest.mark.django_db
ZURICH = ZoneInfo("Europe/Zurich")
URL = "/admin/booking/booking/calendar/"
ADD = "/admin/booking/booking/add/"
STYLESHEET = Path(__file__).parents[2] / "booking/static/booking/admin/calendar-grid.css"


@pytest.fixture
def world(client):
    world = build_world()
    login_verified(client, world.owner)
    return world


def _day(client, day: str) -> str:
    response = client.get(URL, {"day": day})
    assert response.status_code == 200
    body = response.content.decode()
    assert "style=" not in body
    return body


def _free(body: str, name: str) -> dict[str, tuple[str, int]]:
    """The free-cell links of `name`'s column: time -> (href, grid row)."""
    found = re.findall(
        r'<li class="g-item g-c\d+ g-r(\d+) g-s1"><a class="g-free" href="([^"]+)" '
        rf'aria-label="Book (\d\d:\d\d) with {re.escape(name)}">',
        body,
    )
    return {t: (unquote(html.unescape(href)), int(row)) for row, href, t in found}


def _rows(body: str) -> list[str]:
    return re.findall(
        r'<div class="g-time g-c1 g-r\d+ g-s\d+" aria-hidden="true">([^<]+)</div>', body
    )


def test_free_quarter_hours_are_links_to_book_by_hand_with_that_person(client, world) -> None:
    make_booking(world.a_service, datetime(2030, 6, 4, 10, 30, tzinfo=ZURICH), staff=world.a_staff)
    body = _day(client, "2030-06-04")
    free = _free(body, A_STYLIST)
    assert "10:15" in free and "11:30" in free
    # Booked, and before opening: no link.
    assert not {"10:30", "10:45", "11:00", "11:15", "07:45"} & set(free)
    href, _row = free["10:15"]
    assert href == f"{ADD}?staff={world.a_staff.pk}&day=2030-06-04&start=2030-06-04T10:15"
    # Following it: the hand-booking page with the person, the day and the time filled in.
    page = client.get(href).content.decode()
    assert f'<option value="{world.a_staff.pk}" selected>' in page
    # Her one service is chosen too: the owner types the name and books.
    assert f'<option value="{world.a_service.pk}" selected>' in page
    # ... and her free times that day beside it, should the service start on other marks.
    assert f"Free times of {A_STYLIST} on Tue 4 Jun 2030 (Europe/Zurich)" in page
    assert 'value="2030-06-04T10:15"' in page and 'value="2030-06-04"' in page


def test_blocks_say_their_status_and_payment(client, world) -> None:
    ten = datetime(2030, 6, 4, 10, 0, tzinfo=ZURICH)
    paid = make_booking(world.a_service, ten, staff=world.a_staff, customer_name="Paid Person")
    make_paid(paid, 15000)
    make_hold(
        make_booking(world.a_service, ten + timedelta(hours=2), staff=world.a_staff),
        datetime(2030, 6, 4, 9, 0, tzinfo=ZURICH),
    )
    gone = make_booking(
        world.a_service, ten + timedelta(hours=4), staff=world.a_staff, status="cancelled"
    )
    moved = make_booking(
        world.a_service, ten + timedelta(hours=6), staff=world.a_staff, status="cancelled"
    )
    Booking.objects.filter(pk=moved.pk).update(cancelled_because=CancelledBecause.RESCHEDULED)
    body = _day(client, "2030-06-04")
    assert re.search(
        r"Paid Person</span> <span class=\"cal-status\">confirmed</span> "
        r"<span class=\"cal-payment\">CHF 150.00 · Paid</span>",
        body,
    )
    assert body.count('class="cal-status">unpaid hold<') == 1
    assert body.count('class="cal-status">cancelled<') == 1
    assert body.count('class="cal-status">moved<') == 1
    assert f'href="/admin/booking/booking/{gone.pk}/change/"' in body
    week = client.get(URL, {"week": "2030-06-04"}).content.decode()
    assert '<span class="cal-payment">CHF 150.00 · Paid</span>' in week  # the week's table too
    # A cancelled booking's time is free again.
    assert "14:00" in _free(body, A_STYLIST)


def test_an_absence_is_shown_and_its_time_is_not_offered(client, world) -> None:
    StaffAbsence.objects.create(
        staff=world.a_staff,
        starts_at=datetime(2030, 6, 4, 12, 0, tzinfo=ZURICH),
        ends_at=datetime(2030, 6, 4, 14, 0, tzinfo=ZURICH),
    )
    body = _day(client, "2030-06-04")
    assert "Away 12:00–14:00" in body
    free = _free(body, A_STYLIST)
    assert "11:45" in free and "14:00" in free
    assert not {"12:00", "13:00", "13:45"} & set(free)


def test_a_closed_day_is_shaded_with_no_free_times(client, world) -> None:
    DateOverride.objects.create(partner=world.a, date=date(2030, 6, 5))
    body = _day(client, "2030-06-05")
    assert _free(body, A_STYLIST) == {}
    assert 'class="cal-closed">Closed<' in body


def test_a_person_not_working_that_day_is_shaded_and_says_so(client, world) -> None:
    body = _day(client, "2030-06-08")  # a Saturday: the stylist does not work, the team does
    assert _free(body, A_STYLIST) == {} and "10:00" in _free(body, TEAM)
    assert 'class="cal-closed">Not working<' in body


def test_past_quarter_hours_are_not_offered(client, world) -> None:
    yesterday = (datetime.now(ZURICH) - timedelta(days=1)).date().isoformat()
    assert _free(_day(client, yesterday), A_STYLIST) == {}


def test_the_spring_clock_change_day_has_23_hours(client, world) -> None:
    # 2027-03-28 in Zurich: 02:00 winter time becomes 03:00 summer time. A booking by hand from
    # 01:30 to 03:30 local time lasts one hour.
    make_booking(world.a_service, datetime(2027, 3, 28, 0, 30, tzinfo=UTC), staff=world.a_staff)
    body = _day(client, "2027-03-28")
    assert "this day has 23 hours" in body
    rows = _rows(body)
    # The grid starts at the booking's hour, 01:00; 02:00-03:00 does not exist that day.
    assert rows[:3] == ["01:00", "03:00", "04:00"]
    block = re.search(r'<li class="g-item g-c\d+ g-r(\d+) g-s(\d+)"><a class="g-booking', body)
    assert block is not None and block.groups() == (str(2 + 2), "4")  # 01:30, an hour long
    assert "01:30–03:30" in body
    # 08:00 is six real hours after 01:00 that day: row 2 + 6 * 4 (not 7 * 4 by the clock).
    assert _free(body, TEAM)["08:00"][1] == 2 + 24  # the team works Sundays


def test_the_autumn_clock_change_day_has_25_hours(client, world) -> None:
    # 2027-10-31 in Zurich: 03:00 summer time becomes 02:00 winter time; 02:00-03:00 runs twice.
    make_booking(world.a_service, datetime(2027, 10, 31, 0, 30, tzinfo=UTC), staff=world.a_staff)
    body = _day(client, "2027-10-31")
    assert "this day has 25 hours" in body
    # From the booking's hour, 02:00 summer time, which comes again in winter time.
    assert _rows(body)[:4] == ["02:00", "02:00 (again)", "03:00", "04:00"]
    block = re.search(r'<li class="g-item g-c\d+ g-r(\d+) g-s(\d+)"><a class="g-booking', body)
    assert block is not None and block.groups() == (str(2 + 2), "4")  # 02:30 summer time
    assert "02:30–02:30" in body
    # 08:00 is seven real hours after the first 02:00: row 2 + 7 * 4 (not 6 * 4 by the clock).
    assert _free(body, TEAM)["08:00"][1] == 2 + 28


def test_the_stylesheet_has_a_class_for_every_row_of_a_25_hour_day() -> None:
    assert STYLESHEET.read_text() == grid_stylesheet()
    css = grid_stylesheet()
    assert ".g-r101 {" in css and ".g-s100 {" in css


def test_the_title_names_the_day(client, world) -> None:
    body = _day(client, "2030-06-04")
    assert "<title>Calendar of Tuesday 4 June 2030" in body


def _count(client, world, n: int) -> int:
    Booking.objects.filter(partner=world.a).delete()
    base = datetime(2030, 6, 4, 8, 0, tzinfo=ZURICH)
    for i in range(n):
        make_booking(world.a_service, base + timedelta(minutes=60 * i), staff=world.a_staff)
    with CaptureQueriesContext(connection) as queries:
        body = _day(client, "2030-06-04")
    assert body.count('class="g-booking') == n
    return len(queries)


def test_the_day_views_query_count_does_not_grow_with_bookings(client, world) -> None:
    few = _count(client, world, 1)
    assert _count(client, world, 8) == few


def test_a_hostile_staff_name_stays_text_in_the_free_cells(client, world) -> None:
    world.a_staff.name = '"><img src=x onerror=alert(1)>'
    world.a_staff.save()
    body = _day(client, "2030-06-04")
    assert "<img src=x" not in body
    assert 'aria-label="Book 09:00 with &quot;&gt;&lt;img src=x onerror=alert(1)&gt;"' in body


def _week(client, week: str, staff: int) -> str:
    response = client.get(URL, {"week": week, "staff": staff})
    assert response.status_code == 200
    body = response.content.decode()
    assert "style=" not in body
    return body


def test_one_persons_week_on_a_time_grid(client, world) -> None:
    make_booking(
        world.a_service,
        datetime(2030, 6, 4, 10, 30, tzinfo=ZURICH),
        staff=world.a_staff,
        customer_name="Weekly Person",
    )
    table = client.get(URL, {"week": "2030-06-04"}).content.decode()
    grid_url = f"{URL}?week=2030-06-03&amp;staff={world.a_staff.pk}"
    assert f'href="{grid_url}"' in table  # the week's table links each person's grid
    body = _week(client, "2030-06-04", world.a_staff.pk)
    assert "Weekly Person" in body and "10:30–11:30" in body
    links = re.findall(r'aria-label="(Book [^"]+)"', body)
    assert f"Book Tue 4 Jun 10:15 with {A_STYLIST}" in links
    assert f"Book Tue 4 Jun 10:30 with {A_STYLIST}" not in links  # booked
    assert not [link for link in links if "Sat 8 Jun" in link]  # she does not work Saturdays
    assert 'class="cal-closed">Not working<' in body
    # The grid's rows: 08:00 is row 2 (the opening hour starts the grid), 10:30 is row 12.
    assert re.search(r'<li class="g-item g-c3 g-r12 g-s4"><a class="g-booking', body)


def test_a_week_grid_of_someone_not_shown_is_404_and_a_malformed_one_400(client, world) -> None:
    assert client.get(URL, {"week": "2030-06-04", "staff": world.b_staff.pk}).status_code == 404
    assert client.get(URL, {"week": "2030-06-04", "staff": "x"}).status_code == 400
    login_verified(client, world.stylist_a)
    team = StaffMember.objects.get(partner=world.a, name=TEAM)
    assert client.get(URL, {"week": "2030-06-04", "staff": team.pk}).status_code == 404
    assert client.get(URL, {"week": "2030-06-04", "staff": world.a_staff.pk}).status_code == 200


def test_a_week_grid_across_the_spring_clock_change_renders(client, world) -> None:
    make_booking(world.a_service, datetime(2027, 3, 28, 0, 30, tzinfo=UTC))
    team = StaffMember.objects.get(partner=world.a, name=TEAM)
    body = _week(client, "2027-03-28", team.pk)
    assert "01:30–03:30" in body
    # By the clock: from 01:30 to 03:30 is eight rows here (the day view shows its one hour).
    assert re.search(r'<li class="g-item g-c8 g-r4 g-s8"><a class="g-booking', body)


def _week_count(client, world, n: int) -> int:
    Booking.objects.filter(partner=world.a).delete()
    base = datetime(2030, 6, 3, 8, 0, tzinfo=ZURICH)
    for i in range(n):
        make_booking(
            world.a_service, base + timedelta(days=i % 5, hours=i // 5), staff=world.a_staff
        )
    with CaptureQueriesContext(connection) as queries:
        body = _week(client, "2030-06-03", world.a_staff.pk)
    assert body.count('class="g-booking') == n
    return len(queries)


def test_the_week_grids_query_count_does_not_grow_with_bookings(client, world) -> None:
    assert _week_count(client, world, 2) == _week_count(client, world, 10)


def test_the_title_and_free_cells_speak_the_admins_language(client, world) -> None:
    body = client.get(URL, {"day": "2030-06-04"}, HTTP_ACCEPT_LANGUAGE="de").content.decode()
    assert "<title>Kalender für Dienstag 4 Juni 2030" in body
    assert f'aria-label="10:15 bei {A_STYLIST} buchen"' in body
