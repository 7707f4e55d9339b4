"""The week of free times reads exactly as before the slot labels were computed in Python: the
HTML of fixed weeks (a daylight-saving change, a customer zone with a half-hour offset, the
reschedule page with its current time) is compared with pages rendered by the template filters.

The expected fragments in tests/booking/expected/ were rendered by the earlier template (three
date filters per slot); they change only when the page is meant to change."""

from __future__ import annotations

import re
from datetime import UTC, datetime
from pathlib import Path

import pytest
import time_machine
from django.test import Client

from booking.models import Partner, Service
from tests.booking.conftest import zurich

pytestmark = pytest.mark.django_db

EXPECTED = Path(__file__).parent / "expected"
# Tuesday 25 March 2025: Europe moves its clocks on Sunday 30 March, New York did on 9 March.
NOW = datetime(2025, 3, 25, 7, 0, tzinfo=UTC)


def week_fragment(html: str) -> str:
    """From the week navigation to the end of the list of days: the part the labels are in."""
    match = re.search(r'<nav class="week-nav".*?</ol>', html, re.S)
    assert match, "no week on the page"
    return match.group(0)


def _service_page(client: Client, partner: Partner, service: Service, **query: str) -> str:
    with time_machine.travel(NOW, tick=False):
        response = client.get(f"/book/{partner.slug}/{service.slug}/", query)
    assert response.status_code == 200
    return week_fragment(response.content.decode())


def _reschedule_page(client: Client, service: Service, book, **query: str) -> str:
    with time_machine.travel(NOW, tick=False):
        _, token = book(service, zurich(2025, 3, 27, 10))
        response = client.get(f"/manage/{token}/reschedule/", query)
    assert response.status_code == 200
    # The manage link's token is new in every run.
    return week_fragment(response.content.decode()).replace(token, "TOKEN")


CASES = {
    "service_zurich_dst_week": lambda c, p, s, b: _service_page(c, p, s, week="2025-03-27"),
    "service_new_york_dst_week": lambda c, p, s, b: _service_page(
        c, p, s, week="2025-03-27", tz="America/New_York"
    ),
    # "+" in the zone's name: the links quote it as %2B.
    "service_etc_gmt_plus_5": lambda c, p, s, b: _service_page(c, p, s, tz="Etc/GMT+5"),
    "reschedule_kolkata": lambda c, p, s, b: _reschedule_page(c, s, b, tz="Asia/Kolkata"),
}


def render_case(name: str, client: Client, partner: Partner, service: Service, book) -> str:
    return CASES[name](client, partner, service, book)


@pytest.mark.parametrize("name", sorted(CASES))
def test_the_week_reads_exactly_as_before(
    name: str, client: Client, partner: Partner, service: Service, book
) -> None:
    html = render_case(name, client, partner, service, book)
    assert html.count('class="slot') > 20  # the fixture is a real week, not an empty one
    assert html == (EXPECTED / f"week_{name}.html").read_text(encoding="utf-8")
