"""/book/<partner>/<service>/?week=&tz=: one week of free times in the customer's zone.

Time is frozen at Monday 6 January 2025, 08:00 in Zurich (07:00 UTC). The partner is open
Mon-Fri 09:00-17:00 Zurich, the service takes 60 minutes, 60 minutes notice, 30 days ahead.
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from datetime import UTC, datetime

import pytest
import time_machine
from django.test import Client

from booking.models import Partner, Service
from tests import hostile_inputs as hostile
from tests.booking.conftest import zurich

pytestmark = pytest.mark.django_db

NOW = datetime(2025, 1, 6, 7, 0, tzinfo=UTC)
URL = "/book/salon-alpha/haircut/"


@pytest.fixture(autouse=True)
def _frozen() -> Iterator[None]:
    with time_machine.travel(NOW, tick=False):
        yield


def _day_headings(text: str) -> list[str]:
    return re.findall(r'<h2 class="day-label">([^<]+)</h2>', text)


def _slot_links(text: str) -> list[str]:
    return re.findall(r'<a class="slot" href="([^"]+)"', text)


def test_week_of_free_times_in_the_partners_zone_by_default(
    client: Client, service: Service
) -> None:
    response = client.get(URL)

    assert response.status_code == 200
    text = response.content.decode()
    assert _day_headings(text) == [
        "Monday, 6 January",
        "Tuesday, 7 January",
        "Wednesday, 8 January",
        "Thursday, 9 January",
        "Friday, 10 January",
        "Saturday, 11 January",
        "Sunday, 12 January",
    ]
    assert "Times in Europe/Zurich" in text
    links = _slot_links(text)
    assert len(links) == 5 * 8  # 09:00 .. 16:00 on five weekdays
    assert (
        links[0]
        == "/book/salon-alpha/haircut/book/?start=2025-01-06T08%3A00%3A00Z&amp;tz=Europe%2FZurich"
    )
    assert text.count("No free times on this day.") == 2  # the weekend
    assert ">09:00</a>" in text and ">16:00</a>" in text and ">17:00</a>" not in text


def test_times_are_shown_in_the_chosen_zone(client: Client, service: Service) -> None:
    text = client.get(URL, {"tz": "America/New_York"}).content.decode()
    assert "Times in America/New_York" in text
    assert '<option value="America/New_York" selected>' in text
    # 09:00 in Zurich is 03:00 in New York; the link still carries UTC and the zone.
    assert 'aria-label="Monday, 6 January 03:00">03:00</a>' in text
    assert _slot_links(text)[0].endswith("start=2025-01-06T08%3A00%3A00Z&amp;tz=America%2FNew_York")


def test_days_are_the_customers_local_days(client: Client, service: Service) -> None:
    # In Tokyo (UTC+9) 16:00 Zurich on Friday is already 00:00 Saturday.
    text = client.get(URL, {"tz": "Asia/Tokyo"}).content.decode()
    saturday = text.split('<h2 class="day-label">Saturday, 11 January</h2>')[1].split(
        '<li class="day">'
    )[0]
    assert ">00:00</a>" in saturday


def test_zone_menu_offers_the_partners_zone(client: Client, service: Service) -> None:
    text = client.get(URL).content.decode()
    assert (
        '<option value="Europe/Zurich" selected>Europe/Zurich (local time at Salon Alpha)</option>'
        in text
    )
    assert '<option value="America/New_York">' in text


def test_booked_time_is_not_offered(client: Client, service: Service, book) -> None:
    book(service, zurich(2025, 1, 7, 10))
    links = _slot_links(client.get(URL).content.decode())
    assert not any("2025-01-07T09%3A00%3A00Z" in link for link in links)
    assert any("2025-01-07T08%3A00%3A00Z" in link for link in links)


def test_first_week_has_no_link_into_the_past_and_a_next_link(
    client: Client, service: Service
) -> None:
    text = client.get(URL).content.decode()
    assert 'rel="prev"' not in text
    assert (
        'href="/book/salon-alpha/haircut/?week=2025-01-13&amp;tz=Europe%2FZurich" rel="next"'
        in text
    )


def test_later_week_links_back_but_never_before_today(client: Client, service: Service) -> None:
    text = client.get(URL, {"week": "2025-01-09"}).content.decode()
    assert _day_headings(text)[0] == "Thursday, 9 January"
    assert (
        'href="/book/salon-alpha/haircut/?week=2025-01-06&amp;tz=Europe%2FZurich" rel="prev"'
        in text
    )


def test_week_in_the_past_starts_today(client: Client, service: Service) -> None:
    text = client.get(URL, {"week": "2024-12-01"}).content.decode()
    assert _day_headings(text)[0] == "Monday, 6 January"
    assert 'rel="prev"' not in text


def test_no_next_link_beyond_the_horizon(client: Client, service: Service) -> None:
    # 30 days ahead: the last bookable day is Wednesday 5 February.
    text = client.get(URL, {"week": "2025-02-01"}).content.decode()
    assert 'rel="next"' not in text
    assert "2025-02-05T15%3A00%3A00Z" in text  # 16:00 on the last day
    assert "2025-02-06" not in text.split("<ol")[1]


@pytest.mark.parametrize("week", ["2025-02-06", "2030-01-01", "2999-12-31"])
def test_week_beyond_the_horizon_says_so(client: Client, service: Service, week: str) -> None:
    response = client.get(URL, {"week": week})
    assert response.status_code == 200
    text = response.content.decode()
    assert "Bookings open at most 30 days ahead" in text
    assert "Wednesday, 5 February 2025" in text
    assert _slot_links(text) == []


@pytest.mark.parametrize(
    "tz", ["Mars/Olympus", "../../etc/passwd", "x" * 300, "<script>alert(1)</script>", "utc "]
)
def test_unknown_zone_is_400_with_message(client: Client, service: Service, tz: str) -> None:
    response = client.get(URL, {"tz": tz})
    assert response.status_code == 400
    text = response.content.decode()
    assert "time zone" in text.lower()
    assert "<script>alert(1)" not in text
    assert 'href="/book/salon-alpha/haircut/"' in text  # a way back


@pytest.mark.parametrize(
    "week",
    [
        "2025-13-01",
        "2025-02-30",
        "monday",
        "2025-1-6",
        "06.01.2025",
        "0000-01-01",
        "2025-01-06T00:00",
    ],
)
def test_malformed_week_is_400_with_message(client: Client, service: Service, week: str) -> None:
    response = client.get(URL, {"week": week})
    assert response.status_code == 400
    assert "YYYY-MM-DD" in response.content.decode()


def test_another_partners_service_under_this_partner_is_404(
    client: Client, service: Service, other_partner: Partner
) -> None:
    assert client.get("/book/salon-alpha/check-up/").status_code == 404
    assert client.get("/book/clinic-beta/haircut/").status_code == 404


def test_inactive_service_is_404(client: Client, service: Service) -> None:
    service.is_active = False
    service.save()
    assert client.get(URL).status_code == 404


def test_unknown_partner_is_404(client: Client, service: Service) -> None:
    assert client.get("/book/nobody/haircut/").status_code == 404


@pytest.mark.parametrize("method", ["post", "put", "delete"])
def test_wrong_method_is_405(client: Client, service: Service, method: str) -> None:
    assert getattr(client, method)(URL).status_code == 405


def test_query_count_is_bounded(
    client: Client, service: Service, book, django_assert_max_num_queries
) -> None:
    for day in (7, 8, 9):
        book(service, zurich(2025, 1, day, 10))
    # A fixed number whatever the bookings: partner, service, hours, overrides and closures, and
    # for the staff who perform the service their links, hours, absences and bookings.
    with django_assert_max_num_queries(11):
        response = client.get(URL, {"tz": "America/New_York"})
    assert response.status_code == 200


def test_zone_menu_includes_an_uncommon_partner_zone(
    client: Client, partner: Partner, service: Service
) -> None:
    partner.time_zone = "Pacific/Auckland"
    partner.save()
    text = client.get(URL).content.decode()
    assert (
        '<option value="Pacific/Auckland" selected>Pacific/Auckland (local time at Salon Alpha)</option>'
        in text
    )


# --- hostile input: a 4xx with a message, never a 500 -------------------------------------------


@pytest.mark.parametrize("week", ["9999-12-31", "0001-01-01", "1899-12-31", "3000-01-01"])
def test_a_week_outside_1900_to_2999_is_400_with_message(
    client: Client, service: Service, week: str
) -> None:
    response = client.get(URL, {"week": week})
    assert response.status_code == 400
    assert "Enter a date between 1900 and 2999." in response.content.decode()


@pytest.mark.parametrize("week", hostile.DATES)
def test_hostile_weeks_are_refused_with_400(client: Client, service: Service, week: str) -> None:
    assert client.get(URL, {"week": week}).status_code == 400


@pytest.mark.parametrize("tz", hostile.ZONES)
def test_hostile_zones_are_refused_with_400(client: Client, service: Service, tz: str) -> None:
    assert client.get(URL, {"tz": tz}).status_code == 400


# --- the zone menu: every IANA zone, grouped; the browser's zone by default ---------------------


def test_zone_menu_offers_every_zone_grouped_by_region(client: Client, service: Service) -> None:
    import zoneinfo

    text = client.get(URL).content.decode()
    menu = text.split('<select id="tz" name="tz">')[1].split("</select>")[0]
    offered = re.findall(r'<option value="([^"]+)"', menu)
    assert sorted(offered) == sorted(zoneinfo.available_timezones())
    groups = re.findall(r'<optgroup label="([^"]+)">', menu)
    assert groups[:3] == ["Africa", "America", "Antarctica"] and groups[-1] == "Other"
    america = menu.split('<optgroup label="America">')[1].split("</optgroup>")[0]
    assert '<option value="America/Argentina/Ushuaia">' in america
    other = menu.split('<optgroup label="Other">')[1].split("</optgroup>")[0]
    assert '<option value="UTC">' in other and '<option value="Etc/GMT+5">' in other


def _zone_menu(text: str) -> str:
    return text.split('<select id="tz" name="tz">')[1].split("</select>")[0]


# What each language calls the zones outside the regions and the partner's local time, and how it
# writes the first day of the week.
_IN_LANGUAGE = {
    "en": ("Other", "(local time at Salon Alpha)", "Monday, 6 January"),
    "de": ("Weitere", "(Ortszeit bei Salon Alpha)", "Montag, 6. Januar"),
    "fr": ("Autres", "(heure locale chez Salon Alpha)", "lundi 6 janvier"),
    "it": ("Altri", "(ora locale presso Salon Alpha)", "Lunedì 6 Gennaio"),
}


def test_pages_in_a_row_each_mark_their_own_zone_in_their_own_language(
    client: Client, service: Service
) -> None:
    # The zone menu and the language picker are built once per language and reused: each page
    # must still mark its visitor's zone and language (and only those) and speak that language.
    visits = [
        ("de", "America/New_York"),
        ("fr", "Asia/Tokyo"),
        ("de", "Europe/Zurich"),
        ("it", "Etc/GMT+5"),
        ("en", "UTC"),
        ("fr", "America/New_York"),
    ]
    for language, tz in visits:
        text = client.get(URL, {"tz": tz}, headers={"accept-language": language}).content.decode()
        other, local_time, monday = _IN_LANGUAGE[language]
        menu = _zone_menu(text)
        assert re.findall(r'<option value="([^"]+)" selected>', menu) == [tz]
        assert f'<optgroup label="{other}">' in menu
        mark = " selected" if tz == "Europe/Zurich" else ""
        assert f'<option value="Europe/Zurich"{mark}>Europe/Zurich {local_time}</option>' in menu
        assert menu.count("Salon Alpha") == 1
        assert f'<html lang="{language}">' in text
        assert _day_headings(text)[0] == monday
        # The language picker, built once per language too, marks the page's language.
        picker = text.split('<select id="language" name="language">')[1].split("</select>")[0]
        assert re.findall(r'<option value="(\w+)" lang="\w+" selected>', picker) == [language]
        assert '<option value="de" lang="de"' in picker and ">Deutsch</option>" in picker


def test_the_zone_menu_names_the_partner_as_it_is_now(
    client: Client, partner: Partner, service: Service
) -> None:
    client.get(URL)
    partner.name = "Salon <Beta> & Co"
    partner.time_zone = "Europe/Vienna"
    partner.save()
    menu = _zone_menu(client.get(URL, {"tz": "Europe/Zurich"}).content.decode())
    assert (
        '<option value="Europe/Vienna">Europe/Vienna (local time at Salon &lt;Beta&gt; &amp; Co)'
        "</option>" in menu
    )
    assert '<option value="Europe/Zurich" selected>Europe/Zurich</option>' in menu
    assert "Salon Alpha" not in menu


def test_any_zone_of_the_menu_is_accepted_and_shown(client: Client, service: Service) -> None:
    response = client.get(URL, {"tz": "America/Argentina/Ushuaia"})
    assert response.status_code == 200
    text = response.content.decode()
    assert "Times in America/Argentina/Ushuaia" in text
    assert '<option value="America/Argentina/Ushuaia" selected>' in text


def test_without_a_zone_the_page_loads_the_browser_zone_script(
    client: Client, service: Service
) -> None:
    text = client.get(URL).content.decode()
    assert 'class="tz-form" data-auto-zone>' in text
    assert re.search(r'<script src="/static/booking/tz[^"]*\.js" defer></script>', text)
    # A zone chosen (or set by the script) is kept: no script, no second redirect.
    chosen = client.get(URL, {"tz": "Europe/London"}).content.decode()
    assert "data-auto-zone" not in chosen and "tz.js" not in chosen
