"""POST /api/v1/partners/<slug>/bookings: the widget books a slot.

Time is frozen at Monday 24 March 2025, 07:00 in Zurich (06:00 UTC). The fixture partner is open
Mon-Fri 09:00-17:00 Europe/Zurich with a 60-minute "Haircut" (60 minutes' notice, 30 days ahead).
Monday 31 March 09:00 in Zurich (summer time, UTC+2) is 03:00 in New York (UTC-4).
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from datetime import UTC, datetime
from typing import Any

import pytest
import time_machine
from django.test import Client

from booking.links import manage_token_for
from booking.models import Booking, Partner, Service
from tests import hostile_inputs as hostile
from tests.booking.conftest import zurich

pytestmark = pytest.mark.django_db

NOW = datetime(2025, 3, 24, 6, 0, tzinfo=UTC)
MONDAY_9 = "2025-03-31T09:00:00+02:00"
URL = "/api/v1/partners/salon-alpha/bookings"


@pytest.fixture(autouse=True)
def frozen() -> Iterator[None]:
    with time_machine.travel(NOW, tick=False):
        yield


def body(**changes: Any) -> dict[str, Any]:
    data: dict[str, Any] = {
        "service": "haircut",
        "start": MONDAY_9,
        "customer_name": "Ada Lovelace",
        "customer_email": "ada@example.com",
    }
    data.update(changes)
    return {k: v for k, v in data.items() if v is not ...}


def post(client: Client, data: Any, url: str = URL, **extra: Any):
    return client.post(url, data=json.dumps(data), content_type="application/json", **extra)


def fields(response) -> dict[str, list[str]]:
    assert response.status_code == 400, response.content
    assert response["Content-Type"] == "application/json"
    payload = response.json()
    assert payload["error"] == "invalid"
    assert payload["message"] == "Some fields are not valid; see `fields`."
    return payload["fields"]


def assert_error(response, status: int, code: str) -> str:
    assert response.status_code == status, response.content
    assert response["Content-Type"] == "application/json"
    payload = json.loads(response.content)
    assert set(payload) == {"error", "message"}
    assert payload["error"] == code
    assert payload["message"]
    return payload["message"]


# --- success and "just taken" -----------------------------------------------------------------


def test_a_free_slot_is_booked_and_the_same_slot_then_answers_409(service: Service) -> None:
    client = Client(enforce_csrf_checks=True)  # no CSRF token, no cookie: the widget has neither

    response = post(client, body(customer_phone="+41 44 000 00 00", notes="First visit.\nThanks!"))

    assert response.status_code == 201, response.content
    payload = response.json()
    token = payload["manage_url"].removeprefix("http://testserver/manage/").removesuffix("/")
    assert payload == {
        "booking": {
            "service": "haircut",
            "start": MONDAY_9,
            "end": "2025-03-31T10:00:00+02:00",
            "status": "confirmed",
            # A client that sends no staff gets anyone: here the partner's only person.
            "staff": {"id": service.staff.get().pk, "name": "Team"},
            "resource": None,
        },
        "manage_url": f"http://testserver/manage/{token}/",
    }
    booking = Booking.objects.get()
    # Derived from the booking and a server key: nothing usable stored.
    assert booking.manage_token_hash is None and token == manage_token_for(booking)
    assert (booking.start, booking.partner, booking.service) == (
        zurich(2025, 3, 31, 9),
        service.partner,
        service,
    )
    assert (booking.customer_name, booking.customer_email) == ("Ada Lovelace", "ada@example.com")
    assert (booking.customer_phone, booking.notes) == ("+41 44 000 00 00", "First visit.\nThanks!")
    assert "no-store" in response["Cache-Control"]  # the answer holds the private manage link
    assert not response.cookies

    again = post(client, body(customer_name="Grace Hopper", customer_email="grace@example.com"))
    assert (
        assert_error(again, 409, "slot_taken")
        == "Sorry, this time was just taken. Please choose another one."
    )
    # The same instant written in New York's offset is the same slot.
    assert_error(post(client, body(start="2025-03-31T03:00:00-04:00")), 409, "slot_taken")
    assert Booking.objects.count() == 1


def test_the_answer_uses_the_offset_the_customer_sent(client: Client, service: Service) -> None:
    response = post(client, body(start="2025-03-31T03:00:00-04:00"))
    assert response.json()["booking"] | {} == {
        "service": "haircut",
        "start": "2025-03-31T03:00:00-04:00",
        "end": "2025-03-31T04:00:00-04:00",
        "status": "confirmed",
        "staff": {"id": service.staff.get().pk, "name": "Team"},
        "resource": None,
    }
    assert Booking.objects.get().start == zurich(2025, 3, 31, 9)


@pytest.mark.parametrize(
    "start",
    [
        "2025-03-31T07:00:00Z",
        "2025-03-31T07:00Z",
        "2025-03-31t07:00:00z",
        "2025-03-31T07:00:00.000000+00:00",
    ],
)
def test_utc_spellings_are_accepted(client: Client, service: Service, start: str) -> None:
    response = post(client, body(start=start))
    assert response.status_code == 201, response.content
    assert response.json()["booking"]["start"] == "2025-03-31T07:00:00+00:00"


def test_html_in_the_fields_is_stored_and_returned_exactly(
    client: Client, service: Service
) -> None:
    name = "<script>alert('x')</script> & \"Ünïcödé\" 🙂"
    notes = "<img src=x onerror=alert(1)>\n</textarea>"
    response = post(client, body(customer_name=name, notes=notes))
    assert response.status_code == 201
    assert response["Content-Type"] == "application/json"
    assert response["X-Content-Type-Options"] == "nosniff"
    booking = Booking.objects.get()
    assert (booking.customer_name, booking.notes) == (name, notes)


def test_surrounding_spaces_are_trimmed(client: Client, service: Service) -> None:
    assert (
        post(client, body(customer_name="  Ada  ", customer_email=" ada@example.com ")).status_code
        == 201
    )
    assert Booking.objects.values_list("customer_name", "customer_email").get() == (
        "Ada",
        "ada@example.com",
    )


# --- field errors -------------------------------------------------------------------------------


def test_an_empty_object_lists_every_required_field(client: Client, service: Service) -> None:
    required = ["This field is required."]
    assert fields(post(client, {})) == {
        "service": required,
        "start": required,
        "customer_name": required,
        "customer_email": required,
    }


@pytest.mark.parametrize(
    ("field", "value", "message"),
    [
        ("customer_name", "x" * 121, "Ensure this value has at most 120 characters (it has 121)."),
        ("customer_name", "   ", "This field is required."),
        (
            "customer_name",
            "Ada\nLovelace",
            "Remove the control characters (line breaks, tabs) from this field.",
        ),
        ("customer_email", "not-an-email", "Enter a valid email address."),
        (
            "customer_email",
            "ada@example.com\r\nBcc: all@example.com",
            "Enter a valid email address.",
        ),
        (
            "customer_email",
            "a" * 250 + "@example.com",
            "Ensure this value has at most 254 characters (it has 262).",
        ),
        ("customer_phone", "1" * 41, "Ensure this value has at most 40 characters (it has 41)."),
        ("notes", "n" * 2001, "Ensure this value has at most 2000 characters (it has 2001)."),
        ("notes", "bell\x07", "Remove the control characters from this field."),
        (
            "service",
            "Hair cut!",
            "Enter a valid “slug” consisting of letters, numbers, underscores or hyphens.",
        ),
        ("customer_name", "Ada\x00", "Null characters are not allowed."),
    ],
)
def test_invalid_fields_are_refused_and_nothing_is_stored(
    client: Client, service: Service, field: str, value: str, message: str
) -> None:
    assert message in fields(post(client, body(**{field: value})))[field]
    assert not Booking.objects.exists()


def test_a_naive_start_is_refused(client: Client, service: Service) -> None:
    assert fields(post(client, body(start="2025-03-31T09:00:00"))) == {
        "start": [
            "The start needs a UTC offset (e.g. +02:00 or Z): a time without one is ambiguous."
        ]
    }
    assert not Booking.objects.exists()


@pytest.mark.parametrize(
    "start",
    [
        "",
        "tomorrow",
        "2025-03-31",
        "2025-03-31 09:00:00+0200",
        "2025-03-31T09:00:00+02",
        "2025-02-30T09:00:00+01:00",
        "2025-03-31T24:00:00+02:00",
        "2025-03-31T09:00:00+24:00",
        "1743404400",
        "2025-03-31T09:00:00+02:00[Europe/Zurich]",
        "０2025-03-31T09:00:00+02:00",
        "0001-01-01T00:00:00+14:00",
        "9999-12-31T23:59:59-14:00",
        "1899-12-31T09:00:00+00:00",
    ],
)
def test_malformed_starts_are_refused(client: Client, service: Service, start: str) -> None:
    assert "start" in fields(post(client, body(start=start)))


@pytest.mark.parametrize("value", [None, 1, 1.5, True, [], {}, ["haircut"]])
def test_values_that_are_not_strings_are_refused(
    client: Client, service: Service, value: Any
) -> None:
    for field in ("service", "start", "customer_name", "customer_phone"):
        assert fields(post(client, body(**{field: value}))) == {field: ["Must be a string."]}
    assert not Booking.objects.exists()


def test_unknown_fields_are_refused(client: Client, service: Service) -> None:
    assert fields(post(client, body(status="cancelled", partner="clinic-beta"))) == {
        "status": ["Unknown field."],
        "partner": ["Unknown field."],
    }


def test_lone_surrogates_are_refused_not_crashed_on(client: Client, service: Service) -> None:
    raw = json.dumps(body(customer_name="Ada \ud800"))  # json.dumps writes it as the escape \\ud800
    assert "\\ud800" in raw
    response = client.post(URL, data=raw, content_type="application/json")
    assert fields(response) == {"customer_name": ["Contains characters that are not valid text."]}


# --- not a slot ---------------------------------------------------------------------------------


@pytest.mark.parametrize(
    "start",
    [
        "2025-03-31T09:30:00+02:00",  # misaligned
        "2025-03-31T09:00:01+02:00",  # misaligned by a second
        "2025-03-31T17:00:00+02:00",  # closing time
        "2025-03-29T10:00:00+01:00",  # Saturday: closed
        "2025-03-21T10:00:00+01:00",  # past
        "2025-03-24T07:00:00+01:00",  # now, inside the notice (and before opening)
        "2025-04-24T09:00:00+02:00",  # beyond the 30-day horizon
        "2999-01-07T09:00:00+01:00",  # far beyond
        "2025-03-31T09:00:00+02:30",  # a real slot's wall time with the wrong offset: 08:30 in Zurich
    ],
)
def test_a_start_that_is_not_a_slot_is_refused(
    client: Client, service: Service, start: str
) -> None:
    message = assert_error(post(client, body(start=start)), 400, "slot_not_offered")
    assert (
        message == "This time is not available for booking. Please choose one of the offered times."
    )
    assert not Booking.objects.exists()


# --- whose service ------------------------------------------------------------------------------


def test_another_partners_service_is_a_404_and_nothing_is_stored(
    client: Client, service: Service, other_partner: Partner
) -> None:
    response = post(client, body(service="check-up", start="2025-03-31T09:00:00-04:00"))
    assert response.json() == {"error": "not_found", "message": "No such service."}
    assert response.status_code == 404
    assert not Booking.objects.exists()


def test_an_inactive_or_unknown_service_is_a_404(client: Client, service: Service) -> None:
    Service.objects.filter(pk=service.pk).update(is_active=False)
    assert_error(post(client, body()), 404, "not_found")
    assert_error(post(client, body(service="nothing")), 404, "not_found")
    assert not Booking.objects.exists()


def test_an_unknown_partner_is_a_404(client: Client, service: Service) -> None:
    response = post(client, body(), url="/api/v1/partners/nobody/bookings")
    assert response.json() == {"error": "not_found", "message": "No such partner."}


# --- the envelope: method, media type, size, JSON ----------------------------------------------


@pytest.mark.parametrize("method", ["get", "put", "patch", "delete", "options"])
def test_other_methods_are_a_json_405(client: Client, service: Service, method: str) -> None:
    response = getattr(client, method)(URL)
    assert assert_error(response, 405, "method_not_allowed") == "Use POST here."
    assert response["Allow"] == "POST"


@pytest.mark.parametrize(
    "content_type",
    [
        "text/plain",
        "application/x-www-form-urlencoded",
        "multipart/form-data; boundary=x",
        "application/json-patch+json",
        "application/json; charset=latin-1",
        "",
    ],
)
def test_anything_but_json_is_a_415(client: Client, service: Service, content_type: str) -> None:
    response = client.post(URL, data=json.dumps(body()), content_type=content_type)
    assert_error(response, 415, "unsupported_media_type")
    assert not Booking.objects.exists()


def test_json_with_an_explicit_utf8_charset_is_accepted(client: Client, service: Service) -> None:
    response = client.post(
        URL, data=json.dumps(body()), content_type="application/json; charset=UTF-8"
    )
    assert response.status_code == 201


def test_a_body_over_16_kib_is_a_413(client: Client, service: Service) -> None:
    big = json.dumps(body(notes="n" * 16 * 1024))
    assert_error(client.post(URL, data=big, content_type="application/json"), 413, "too_large")
    # Exactly 16 KiB (padded with insignificant white space) is read and booked.
    raw = json.dumps(body())
    padded = raw[:-1] + " " * (16 * 1024 - len(raw)) + "}"
    assert len(padded) == 16 * 1024
    assert client.post(URL, data=padded, content_type="application/json").status_code == 201
    assert client.post(URL, data=padded + " ", content_type="application/json").status_code == 413


def test_a_content_length_that_lies_is_not_trusted(client: Client, service: Service) -> None:
    big = json.dumps(body(notes="n" * 20_000))
    # Claims 100 bytes: only those are read, which are not a whole JSON document.
    assert_error(
        client.post(URL, data=big, content_type="application/json", CONTENT_LENGTH="100"),
        400,
        "malformed_json",
    )
    assert_error(
        client.post(URL, data=big, content_type="application/json", CONTENT_LENGTH="-1"),
        400,
        "bad_request",
    )
    assert_error(
        client.post(URL, data=big, content_type="application/json", CONTENT_LENGTH="1e9"),
        400,
        "bad_request",
    )
    assert_error(
        client.post(
            URL, data=big, content_type="application/json", CONTENT_LENGTH="99999999999999999999"
        ),
        413,
        "too_large",
    )
    assert not Booking.objects.exists()


def test_the_read_itself_is_capped_when_no_length_is_announced(rf, service: Service) -> None:
    """A server that streams a chunked body may hand the view a stream with no Content-Length:
    the view reads at most 16 KiB + 1 and refuses the rest."""
    import io

    from booking.api import views

    raw = json.dumps(body(notes="n" * 20_000)).encode()
    request = rf.post(URL, data=raw, content_type="application/json")
    request.META.pop("CONTENT_LENGTH")
    request._stream = io.BytesIO(raw)  # what a chunked-capable server passes on
    response = views.booking_create(request, slug="salon-alpha")
    assert_error(response, 413, "too_large")


@pytest.mark.parametrize(
    ("raw", "code"),
    [
        (b"", "malformed_json"),
        (b"{", "malformed_json"),
        (b"{'service': 'haircut'}", "malformed_json"),
        (b'{"a": NaN', "malformed_json"),
        (b"\xff\xfe{}", "malformed_json"),
        (
            b"[" * 5000 + b"]" * 5000,
            "malformed_json",
        ),  # too deep for the parser: refused, not crashed on
        (b"[]", "not_an_object"),
        (b'"haircut"', "not_an_object"),
        (b"null", "not_an_object"),
        (b"42", "not_an_object"),
    ],
)
def test_bodies_that_are_not_a_json_object_are_refused(
    client: Client, service: Service, raw: bytes, code: str
) -> None:
    # CONTENT_TYPE again because the test client drops the content type of an empty body.
    response = client.post(
        URL, data=raw, content_type="application/json", CONTENT_TYPE="application/json"
    )
    assert_error(response, 400, code)


def test_a_duplicate_key_counts_once_with_its_last_value(client: Client, service: Service) -> None:
    raw = json.dumps(body())[:-1] + ', "customer_name": "Grace Hopper"}'
    assert client.post(URL, data=raw, content_type="application/json").status_code == 201
    assert Booking.objects.get().customer_name == "Grace Hopper"


# --- hostile input: a JSON 4xx, never a 500 ------------------------------------------------------


@pytest.mark.parametrize("start", ["9999-12-31T23:59:59Z", "0001-01-01T00:00:00Z"])
def test_a_start_at_the_ends_of_the_calendar_names_the_allowed_years(
    client: Client, service: Service, start: str
) -> None:
    assert fields(post(client, body(start=start))) == {
        "start": ["Enter a date between 1900 and 2999."]
    }


@pytest.mark.parametrize("start", hostile.DATETIMES)
def test_hostile_starts_are_a_json_400(client: Client, service: Service, start: str) -> None:
    assert "start" in fields(post(client, body(start=start)))
    assert not Booking.objects.exists()


@pytest.mark.parametrize("value", ["1e308", "1e999", "Infinity", "NaN", "-1", "9" * 5000, "null"])
def test_numbers_as_starts_are_a_json_400(client: Client, service: Service, value: str) -> None:
    data = json.dumps(body(start="?")).replace('"?"', value)
    response = client.post(URL, data=data, content_type="application/json")
    assert response.status_code == 400 and response["Content-Type"] == "application/json"
    assert not Booking.objects.exists()


@pytest.mark.parametrize("length", [*hostile.NUMBERS[:-1], "9" * 5000, "١٢", " 12"])
def test_hostile_content_lengths_are_a_json_4xx(
    client: Client, service: Service, length: str
) -> None:
    response = client.post(
        URL, data=json.dumps(body()), content_type="application/json", CONTENT_LENGTH=length
    )
    assert response.status_code in (400, 413), response.content
    assert response["Content-Type"] == "application/json"


# --- the customer's zone ------------------------------------------------------------------------


def test_the_zone_the_widget_showed_is_stored_on_the_booking(
    client: Client, service: Service
) -> None:
    assert post(client, body(tz="America/New_York")).status_code == 201
    assert Booking.objects.get().time_zone == "America/New_York"


def test_without_a_zone_the_booking_follows_the_partners(client: Client, service: Service) -> None:
    assert post(client, body()).status_code == 201
    booking = Booking.objects.get()
    assert booking.time_zone == "" and booking.customer_zone.key == "Europe/Zurich"


@pytest.mark.parametrize("tz", ["Mars/Olympus", "../etc/passwd", "x" * 65, "Europe/Zurich\n"])
def test_an_unknown_zone_is_a_field_error_and_nothing_is_booked(
    client: Client, service: Service, tz: str
) -> None:
    assert "tz" in fields(post(client, body(tz=tz)))
    assert not Booking.objects.exists()
