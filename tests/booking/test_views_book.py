"""/book/<partner>/<service>/book/?start=&tz=: the booking form, and booking by POST.

Time is frozen at Monday 6 January 2025, 08:00 in Zurich (07:00 UTC); the partner is open
Mon-Fri 09:00-17:00 Zurich, 60-minute slots, 60 minutes notice, 30 days ahead, 24 h cut-off.
"""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, datetime
from typing import Any

import pytest
import time_machine
from django.test import Client

from booking.models import Booking, Partner, Service
from tests import hostile_inputs as hostile
from tests.booking.conftest import zurich

pytestmark = pytest.mark.django_db

NOW = datetime(2025, 1, 6, 7, 0, tzinfo=UTC)
URL = "/book/salon-alpha/haircut/book/"
START = "2025-01-07T09:00:00Z"  # Tuesday 10:00 in Zurich, 04:00 in New York
XSS = "<script>alert(1)</script>"


@pytest.fixture(autouse=True)
def _frozen() -> Iterator[None]:
    with time_machine.travel(NOW, tick=False):
        yield


def _form(**overrides: str) -> dict[str, Any]:
    return {
        "start": START,
        "tz": "America/New_York",
        "customer_name": "Ada Lovelace",
        "customer_email": "ada@example.com",
        "customer_phone": "+41 79 000 00 00",
        "notes": "First visit",
        **overrides,
    }


# --- GET: the form ------------------------------------------------------------------------------


def test_form_shows_the_time_in_the_customers_and_the_partners_zone(
    client: Client, service: Service
) -> None:
    response = client.get(URL, {"start": START, "tz": "America/New_York"})

    assert response.status_code == 200
    text = response.content.decode()
    assert "Tuesday, 7 January 2025, 04:00–05:00" in text and "(America/New_York)" in text
    assert "Tuesday, 7 January 2025, 10:00–11:00" in text and "(Europe/Zurich)" in text
    assert 'name="csrfmiddlewaretoken"' in text
    for field in ("customer_name", "customer_email", "customer_phone", "notes"):
        assert f'name="{field}"' in text
    assert f'name="start" value="{START}"' in text
    assert 'type="email"' in text and 'maxlength="120"' in text


def test_form_without_tz_uses_the_partners_zone(client: Client, service: Service) -> None:
    text = client.get(URL, {"start": START}).content.decode()
    assert text.count("Tuesday, 7 January 2025, 10:00–11:00") == 2
    assert 'name="tz" value="Europe/Zurich"' in text


def test_form_for_a_time_just_taken_says_so_with_409(
    client: Client, service: Service, book
) -> None:
    book(service, zurich(2025, 1, 7, 10))
    response = client.get(URL, {"start": START})
    assert response.status_code == 409
    assert "just taken" in response.content.decode()


# --- POST: booking ------------------------------------------------------------------------------


def test_booking_redirects_to_the_private_manage_page(client: Client, service: Service) -> None:
    response = client.post(URL, _form())

    assert response.status_code == 302
    location = response["Location"]
    assert location.startswith("/manage/") and location.endswith(
        "/?created=1&tz=America%2FNew_York"
    )
    assert "no-store" in response["Cache-Control"]
    assert response["Referrer-Policy"] == "strict-origin"
    booking = Booking.objects.get()
    assert booking.service == service
    assert booking.start == datetime(2025, 1, 7, 9, 0, tzinfo=UTC)
    assert (
        booking.customer_name,
        booking.customer_email,
        booking.customer_phone,
        booking.notes,
    ) == ("Ada Lovelace", "ada@example.com", "+41 79 000 00 00", "First visit")
    assert booking.status == Booking.Status.CONFIRMED

    page = client.get(location).content.decode()
    token = location.split("/")[2]
    assert "You're booked!" in page
    assert f"http://testserver/manage/{token}/" in page
    assert "Tuesday, 7 January 2025, 04:00–05:00" in page


def test_fields_are_stripped(client: Client, service: Service) -> None:
    client.post(
        URL, _form(customer_name="  Ada  ", customer_email=" ada@example.com ", notes="  hi  ")
    )
    booking = Booking.objects.get()
    assert (booking.customer_name, booking.customer_email, booking.notes) == (
        "Ada",
        "ada@example.com",
        "hi",
    )


def test_html_typed_by_the_customer_is_escaped(client: Client, service: Service) -> None:
    response = client.post(URL, _form(customer_name=XSS, notes=f"line one\n{XSS}"), follow=True)

    text = response.content.decode()
    assert Booking.objects.get().customer_name == XSS  # stored as typed, escaped when shown
    assert XSS not in text
    assert "&lt;script&gt;alert(1)&lt;/script&gt;" in text


def test_invalid_form_is_re_rendered_escaped_with_400(client: Client, service: Service) -> None:
    response = client.post(URL, _form(customer_name=XSS, customer_email="not-an-email"))
    assert response.status_code == 400
    text = response.content.decode()
    assert "Enter a valid email address." in text
    assert XSS not in text and 'value="&lt;script&gt;alert(1)&lt;/script&gt;"' in text
    assert Booking.objects.count() == 0


@pytest.mark.parametrize(
    ("field", "value", "message"),
    [
        ("customer_name", "", "This field is required."),
        ("customer_name", "x" * 121, "at most 120 characters"),
        ("customer_name", "Ada\x00", "Null characters are not allowed."),
        ("customer_name", "Ada\nLovelace", "control characters"),
        ("customer_email", "", "This field is required."),
        ("customer_email", "ada@", "Enter a valid email address."),
        ("customer_email", "a" * 250 + "@example.com", "at most 254 characters"),
        ("customer_phone", "1" * 41, "at most 40 characters"),
        ("notes", "x" * 2001, "at most 2000 characters"),
    ],
)
def test_invalid_fields_are_400_and_nothing_is_stored(
    client: Client, service: Service, field: str, value: str, message: str
) -> None:
    response = client.post(URL, _form(**{field: value}))
    assert response.status_code == 400
    assert message in response.content.decode()
    assert Booking.objects.count() == 0


@pytest.mark.parametrize(
    ("start", "message"),
    [
        ("tomorrow", "not valid"),
        ("", "Choose a time first."),
        ("2025-01-07T09:00:00", "not valid"),  # no offset: ambiguous
        ("2025-01-07T25:00:00Z", "not a real date"),
        ("9999-12-31T23:59:59-23:59", "Enter a date between 1900 and 2999."),
        ("2025-01-07T09:00:00Z" + "0" * 40, "not valid"),
        ("2025-01-07T09:30:00Z", "not available"),  # misaligned
        ("2025-01-06T06:00:00Z", "not available"),  # in the past
        ("2025-01-06T07:30:00Z", "not available"),  # inside the notice period
        ("2025-01-11T09:00:00Z", "not available"),  # Saturday, closed
        ("2025-01-07T20:00:00Z", "not available"),  # after hours
        ("2025-02-10T09:00:00Z", "not available"),  # beyond the 30-day horizon
    ],
)
@pytest.mark.parametrize("method", ["get", "post"])
def test_bad_start_is_400_with_message(
    client: Client, service: Service, start: str, message: str, method: str
) -> None:
    if method == "get":
        response = client.get(URL, {"start": start, "tz": "America/New_York"})
    else:
        response = client.post(URL, _form(start=start))
    assert response.status_code == 400
    text = response.content.decode()
    assert message in text
    assert 'href="/book/salon-alpha/haircut/"' in text  # a way back to the times
    assert Booking.objects.count() == 0


@pytest.mark.parametrize("tz", ["Nowhere/Town", "<script>alert(1)</script>", "x" * 100])
@pytest.mark.parametrize("method", ["get", "post"])
def test_garbage_zone_is_400(client: Client, service: Service, tz: str, method: str) -> None:
    if method == "get":
        response = client.get(URL, {"start": START, "tz": tz})
    else:
        response = client.post(URL, _form(tz=tz))
    assert response.status_code == 400
    text = response.content.decode()
    assert "time zone" in text.lower()
    assert "<script>alert(1)" not in text
    assert Booking.objects.count() == 0


def test_second_booking_of_the_same_slot_gets_409_just_taken(
    client: Client, service: Service
) -> None:
    assert client.post(URL, _form()).status_code == 302

    response = Client().post(
        URL, _form(customer_name="Grace Hopper", customer_email="grace@example.com")
    )

    assert response.status_code == 409
    text = response.content.decode()
    assert "Sorry, this time was just taken. Please choose another one." in text
    assert 'href="/book/salon-alpha/haircut/?week=2025-01-07&amp;tz=America%2FNew_York"' in text
    assert 'value="Grace Hopper"' in text  # the form is kept
    assert Booking.objects.get().customer_name == "Ada Lovelace"


def test_csrf_is_enforced(service: Service) -> None:
    client = Client(enforce_csrf_checks=True)
    response = client.post(URL, _form())
    assert response.status_code == 403
    assert Booking.objects.count() == 0


def test_another_partners_service_under_this_partner_is_404(
    client: Client, service: Service, other_partner: Partner
) -> None:
    assert client.get("/book/salon-alpha/check-up/book/", {"start": START}).status_code == 404
    assert client.post("/book/salon-alpha/check-up/book/", _form()).status_code == 404
    assert client.post("/book/clinic-beta/haircut/book/", _form()).status_code == 404
    assert Booking.objects.count() == 0


def test_inactive_service_is_404(client: Client, service: Service) -> None:
    service.is_active = False
    service.save()
    assert client.get(URL, {"start": START}).status_code == 404
    assert client.post(URL, _form()).status_code == 404
    assert Booking.objects.count() == 0


@pytest.mark.parametrize("method", ["put", "patch", "delete"])
def test_wrong_method_is_405(client: Client, service: Service, method: str) -> None:
    assert getattr(client, method)(URL).status_code == 405


# --- hostile input: a 4xx with a message, never a 500 -------------------------------------------


@pytest.mark.parametrize(
    "start", ["9999-12-31T23:59:59Z", "0001-01-01T00:00:00Z", "0001-01-01T00:00:00+14:00"]
)
@pytest.mark.parametrize("method", ["get", "post"])
def test_a_start_at_the_ends_of_the_calendar_is_400_with_message(
    client: Client, service: Service, start: str, method: str
) -> None:
    if method == "get":
        response = client.get(URL, {"start": start, "tz": "America/New_York"})
    else:
        response = client.post(URL, _form(start=start))
    assert response.status_code == 400
    assert "Enter a date between 1900 and 2999." in response.content.decode()
    assert Booking.objects.count() == 0


@pytest.mark.parametrize("start", hostile.DATETIMES)
@pytest.mark.parametrize("method", ["get", "post"])
def test_hostile_starts_are_refused_with_400(
    client: Client, service: Service, start: str, method: str
) -> None:
    if method == "get":
        response = client.get(URL, {"start": start})
    else:
        response = client.post(URL, _form(start=start))
    assert response.status_code == 400
    assert Booking.objects.count() == 0


@pytest.mark.parametrize("tz", hostile.ZONES)
@pytest.mark.parametrize("method", ["get", "post"])
def test_hostile_zones_are_refused_with_400(
    client: Client, service: Service, tz: str, method: str
) -> None:
    if method == "get":
        response = client.get(URL, {"start": START, "tz": tz})
    else:
        response = client.post(URL, _form(tz=tz))
    assert response.status_code == 400
    assert Booking.objects.count() == 0


def test_after_just_taken_the_page_no_longer_offers_the_taken_time(
    client: Client, service: Service
) -> None:
    assert client.post(URL, _form()).status_code == 302
    other = Client()
    response = other.post(URL, _form(customer_name="Grace Hopper", customer_email="grace@x.ch"))

    assert response.status_code == 409
    text = response.content.decode()
    # Neither a hidden field, a button nor a link offers 10:00 Zurich again...
    assert START not in text and START.replace(":", "%3A") not in text
    assert "Book Tuesday, 7 January, 04:00" not in text
    # ...the day's other free times take its place (09:00 and 11:00-16:00 Zurich).
    offered = [m.split('"')[0] for m in text.split('type="radio" name="start" value="')[1:]]
    assert offered == [f"2025-01-07T{h:02d}:00:00Z" for h in (8, 10, 11, 12, 13, 14, 15)]
    assert "Other free times on Tuesday, 7 January 2025" in text

    # Picking one of them books it, with the details typed before.
    answer = other.post(
        URL, _form(customer_name="Grace Hopper", customer_email="grace@x.ch", start=offered[0])
    )
    assert answer.status_code == 302
    grace = Booking.objects.exclude(start=datetime(2025, 1, 7, 9, 0, tzinfo=UTC)).get()
    assert grace.customer_name == "Grace Hopper"
    assert grace.start == datetime(2025, 1, 7, 8, 0, tzinfo=UTC)


def test_after_just_taken_on_a_full_day_nothing_is_offered(
    client: Client, service: Service, book
) -> None:
    for hour in (9, 11, 12, 13, 14, 15, 16):
        book(service, zurich(2025, 1, 7, hour), customer_email=f"h{hour}@example.com")
    assert client.post(URL, _form()).status_code == 302
    response = Client().post(URL, _form(customer_email="grace@example.com"))
    text = response.content.decode()
    assert response.status_code == 409
    assert "No other free times on this day." in text
    assert START not in text and 'type="submit" class="button"' not in text
