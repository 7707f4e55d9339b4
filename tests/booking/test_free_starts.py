"""One selector answers "the free starts of each local day" for the booking page, the reschedule
page and the widget API: the three can no longer disagree about a day."""

from __future__ import annotations

import re
from collections.abc import Iterator
from datetime import UTC, date, datetime, timedelta
from zoneinfo import ZoneInfo

import pytest
import time_machine

from booking import selectors, slots
from booking.models import Service
from tests.booking.conftest import zurich

pytestmark = pytest.mark.django_db
NOW = zurich(2025, 3, 24, 7)  # Monday; Zurich moves its clocks on Sunday 30 March


@pytest.fixture(autouse=True)
def frozen() -> Iterator[None]:
    with time_machine.travel(NOW, tick=False):
        yield


def test_every_day_is_listed_in_order_even_without_slots(service: Service) -> None:
    first, last = date(2025, 3, 28), date(2025, 4, 1)  # Friday .. Tuesday, weekend closed
    days = selectors.free_starts_by_local_day(
        service=service, zone=ZoneInfo("Europe/Zurich"), first=first, last=last, now=NOW
    )
    assert list(days) == [first + timedelta(days=n) for n in range(5)]
    assert days[date(2025, 3, 29)] == [] and days[date(2025, 3, 30)] == []
    assert all(starts == sorted(starts) for starts in days.values())


def test_a_window_in_the_past_or_beyond_any_horizon_asks_nothing(service: Service) -> None:
    zone = ZoneInfo("Europe/Zurich")
    past = selectors.free_starts_by_local_day(
        service=service, zone=zone, first=date(2020, 1, 1), last=date(2020, 1, 3), now=NOW
    )
    far = selectors.free_starts_by_local_day(
        service=service, zone=zone, first=date(2999, 1, 1), last=date(2999, 1, 2), now=NOW
    )
    assert past == {date(2020, 1, d): [] for d in (1, 2, 3)}
    assert far == {date(2999, 1, 1): [], date(2999, 1, 2): []}


def test_the_page_and_the_api_show_the_same_times_for_the_same_days(client, service) -> None:
    first = date(2025, 3, 27)
    api = client.get(
        f"/api/v1/partners/salon-alpha/services/haircut/slots?start={first}"
        f"&end={first + timedelta(days=6)}&tz=America/New_York"
    ).json()
    page = client.get(f"/book/salon-alpha/haircut/?week={first}&tz=America/New_York")
    assert page.status_code == 200
    api_starts = [s for day in api["days"] for s in day["slots"]]
    # The page's slot links carry the UTC start of each free time.
    page_starts = re.findall(r"start=(\d{4}-\d{2}-\d{2}T\d{2}%3A\d{2}%3A\d{2}Z)", page.text)
    page_utc = [s.replace("%3A", ":") for s in page_starts]
    api_utc = [
        datetime.fromisoformat(s).astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%SZ") for s in api_starts
    ]
    assert page_utc and page_utc == api_utc


def test_local_midnight_is_the_first_instant_of_a_day_that_skips_midnight() -> None:
    # Santiago moved its clocks from 00:00 to 01:00 on 7 September 2025: the day starts at 01:00.
    santiago = ZoneInfo("America/Santiago")
    start = slots.local_midnight(santiago, date(2025, 9, 7))
    assert start.astimezone(santiago).strftime("%H:%M") == "01:00"
    assert slots.local_midnight(santiago, date(2025, 9, 8)) - start == timedelta(hours=23)
