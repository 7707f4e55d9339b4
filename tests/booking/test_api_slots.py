"""GET /api/v1/partners/<slug>/services/<service>/slots?start=&end=&tz=: free start times for the
widget, in the customer's zone and grouped by the customer's local date.

Time is frozen at Monday 24 March 2025, 07:00 in Zurich (06:00 UTC). The fixture partner is open
Mon-Fri 09:00-17:00 Europe/Zurich with a 60-minute "Haircut" (60 minutes' notice, 30 days ahead).
Zurich moves to summer time on Sunday 30 March, New York did on 9 March: in the week asked for
below, Zurich is UTC+2 and New York UTC-4, six hours apart.
"""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, date, datetime, time

import pytest
import time_machine
from django.test import Client

from booking.models import DateOverride, DateOverrideRange, Partner, Service
from tests import hostile_inputs as hostile
from tests.booking.conftest import zurich

pytestmark = pytest.mark.django_db

NOW = datetime(2025, 3, 24, 6, 0, tzinfo=UTC)


@pytest.fixture(autouse=True)
def frozen() -> Iterator[None]:
    with time_machine.travel(NOW, tick=False):
        yield


def url(partner: str = "salon-alpha", service: str = "haircut") -> str:
    return f"/api/v1/partners/{partner}/services/{service}/slots"


def ny_day(date: str, *hours: int) -> list[str]:
    return [f"{date}T{h:02d}:00:00-04:00" for h in hours]


@pytest.fixture
def late_monday(partner: Partner) -> None:
    """Monday 31 March opens 00:00-02:00 and 09:00-11:00 in Zurich: the early hours are still
    Sunday evening in New York."""
    override = DateOverride.objects.create(
        partner=partner, date=date(2025, 3, 31), note="Night shift"
    )
    DateOverrideRange.objects.create(override=override, start=time(0), end=time(2))
    DateOverrideRange.objects.create(override=override, start=time(9), end=time(11))


def test_a_week_in_zurich_asked_from_new_york_is_grouped_by_new_york_dates(
    client: Client, service: Service, late_monday: None, book
) -> None:
    book(service, zurich(2025, 4, 1, 10))  # Tuesday 10:00 in Zurich = 04:00 in New York: taken

    response = client.get(
        url(), {"start": "2025-03-30", "end": "2025-04-05", "tz": "America/New_York"}
    )

    assert response.status_code == 200
    assert response["Content-Type"] == "application/json"
    assert response.json() == {
        "time_zone": "America/New_York",
        "days": [
            {
                "date": "2025-03-30",
                "slots": ny_day("2025-03-30", 18, 19),
            },  # Zurich Monday 00:00, 01:00
            {
                "date": "2025-03-31",
                "slots": ny_day("2025-03-31", 3, 4),
            },  # Zurich Monday 09:00, 10:00
            {"date": "2025-04-01", "slots": ny_day("2025-04-01", 3, 5, 6, 7, 8, 9, 10)},
            {"date": "2025-04-02", "slots": ny_day("2025-04-02", 3, 4, 5, 6, 7, 8, 9, 10)},
            {"date": "2025-04-03", "slots": ny_day("2025-04-03", 3, 4, 5, 6, 7, 8, 9, 10)},
            {"date": "2025-04-04", "slots": ny_day("2025-04-04", 3, 4, 5, 6, 7, 8, 9, 10)},
            {"date": "2025-04-05", "slots": []},
        ],
    }


def test_without_tz_the_partners_zone_is_used(
    client: Client, service: Service, late_monday: None
) -> None:
    for params in (
        {"start": "2025-03-30", "end": "2025-03-31"},
        {"start": "2025-03-30", "end": "2025-03-31", "tz": ""},
    ):
        assert client.get(url(), params).json() == {
            "time_zone": "Europe/Zurich",
            "days": [
                {"date": "2025-03-30", "slots": []},
                {
                    "date": "2025-03-31",
                    "slots": [
                        "2025-03-31T00:00:00+02:00",
                        "2025-03-31T01:00:00+02:00",
                        "2025-03-31T09:00:00+02:00",
                        "2025-03-31T10:00:00+02:00",
                    ],
                },
            ],
        }


def test_offsets_follow_the_daylight_saving_change_within_one_answer(
    client: Client, service: Service
) -> None:
    days = client.get(
        url(), {"start": "2025-03-28", "end": "2025-03-31", "tz": "Europe/Zurich"}
    ).json()["days"]
    assert [d["date"] for d in days] == ["2025-03-28", "2025-03-29", "2025-03-30", "2025-03-31"]
    assert days[0]["slots"][0] == "2025-03-28T09:00:00+01:00"
    assert days[1]["slots"] == days[2]["slots"] == []
    assert days[3]["slots"][0] == "2025-03-31T09:00:00+02:00"
    assert len(days[0]["slots"]) == len(days[3]["slots"]) == 8


def test_today_starts_after_the_notice_and_nothing_past_the_horizon(
    client: Client, service: Service
) -> None:
    today = client.get(url(), {"start": "2025-03-24", "end": "2025-03-24"}).json()["days"][0]
    assert (
        today["slots"][0] == "2025-03-24T09:00:00+01:00"
    )  # 07:00 now + 60 minutes' notice -> 09:00 opening
    # The horizon is 30 days: Wednesday 23 April is the last bookable day.
    days = client.get(url(), {"start": "2025-04-23", "end": "2025-04-25"}).json()["days"]
    assert [len(d["slots"]) for d in days] == [8, 0, 0]


def test_a_past_or_far_future_window_is_empty_not_an_error(
    client: Client, service: Service
) -> None:
    for start, end in (
        ("2020-01-01", "2020-03-02"),
        ("2900-01-01", "2900-03-03"),
        ("1900-01-01", "1900-01-02"),
        ("2999-12-31", "2999-12-31"),
    ):
        response = client.get(url(), {"start": start, "end": end})
        assert response.status_code == 200, (start, response.content)
        assert all(d["slots"] == [] for d in response.json()["days"])


def test_62_days_are_allowed(client: Client, service: Service) -> None:
    response = client.get(url(), {"start": "2025-03-24", "end": "2025-05-24"})
    assert response.status_code == 200
    assert len(response.json()["days"]) == 62


def invalid(response, field: str) -> list[str]:
    assert response.status_code == 400, response.content
    assert response["Content-Type"] == "application/json"
    body = response.json()
    assert body["error"] == "invalid"
    assert body["message"]
    return body["fields"][field]


def test_a_range_over_62_days_is_refused(client: Client, service: Service) -> None:
    assert invalid(client.get(url(), {"start": "2025-03-24", "end": "2025-05-25"}), "end") == [
        "Ask for at most 62 days at a time."
    ]


def test_end_before_start_is_refused(client: Client, service: Service) -> None:
    assert invalid(client.get(url(), {"start": "2025-03-24", "end": "2025-03-23"}), "end") == [
        "The end date must not be before the start date."
    ]


@pytest.mark.parametrize(
    "value",
    [
        "",
        "2025-3-24",
        "2025-02-30",
        "20250324",
        "2025-W13-1",
        "24.03.2025",
        "2025-03-24T00:00",
        "２０２５-03-24",
        " 2025-03-24",
        "2025-03-24\x00",
        "-2025-03-24",
        "1e9",
    ],
)
def test_malformed_dates_are_refused(client: Client, service: Service, value: str) -> None:
    response = client.get(url(), {"start": value, "end": "2025-03-30"})
    assert invalid(response, "start")
    response = client.get(url(), {"start": "2025-03-24", "end": value})
    assert invalid(response, "end")


def test_missing_dates_are_refused(client: Client, service: Service) -> None:
    fields = client.get(url()).json()["fields"]
    assert fields == {"start": ["This field is required."], "end": ["This field is required."]}


@pytest.mark.parametrize(
    ("start", "end", "tz"),
    [
        ("9999-12-01", "9999-12-31", "Pacific/Kiritimati"),  # the day after the end does not exist
        ("0001-01-01", "0001-01-02", "Asia/Tokyo"),  # its midnight is before the first UTC instant
        ("1899-12-31", "1900-01-01", "Europe/Zurich"),
        ("2999-12-31", "3000-01-01", "Europe/Zurich"),
    ],
)
def test_dates_outside_1900_to_2999_are_refused_not_crashed_on(
    client: Client, service: Service, start: str, end: str, tz: str
) -> None:
    response = client.get(url(), {"start": start, "end": end, "tz": tz})
    assert response.status_code == 400
    assert "Enter a date between 1900 and 2999." in str(response.json()["fields"])


@pytest.mark.parametrize(
    "tz",
    [
        "Mars/Olympus_Mons",
        "europe/zurich",
        "Europe/Zurich ",
        "../../../etc/passwd",
        "/etc/localtime",
        "Europe/Zürich",
        "Europe/Zurich\x00",
        "+02:00",
        "CEST",
        "x" * 65,
    ],
)
def test_unknown_time_zones_are_refused(client: Client, service: Service, tz: str) -> None:
    messages = invalid(
        client.get(url(), {"start": "2025-03-24", "end": "2025-03-30", "tz": tz}), "tz"
    )
    assert messages


def test_unknown_partner_or_service_is_a_json_404(
    client: Client, service: Service, other_partner: Partner
) -> None:
    params = {"start": "2025-03-24", "end": "2025-03-30"}
    Service.objects.create(
        partner=service.partner, name="Old", slug="old", duration_minutes=30, is_active=False
    )
    assert client.get(url("nobody"), params).json() == {
        "error": "not_found",
        "message": "No such partner.",
    }
    for slug in ("nothing", "old", "check-up"):  # unknown, inactive, another partner's
        response = client.get(url(service=slug), params)
        assert response.status_code == 404
        assert response.json() == {"error": "not_found", "message": "No such service."}


def test_404_comes_before_parameter_errors(client: Client, service: Service) -> None:
    assert client.get(url("nobody"), {"start": "garbage"}).status_code == 404


def test_post_is_a_json_405(client: Client, service: Service) -> None:
    response = client.post(url(), {"start": "2025-03-24", "end": "2025-03-30"})
    assert response.status_code == 405
    assert response.json()["error"] == "method_not_allowed"


def test_answers_are_not_cached(client: Client, service: Service) -> None:
    response = client.get(url(), {"start": "2025-03-24", "end": "2025-03-24"})
    assert "no-store" in response["Cache-Control"]


def test_a_partner_zone_saved_around_validation_is_answered_in_json(
    client: Client, service: Service, caplog
) -> None:
    """No constraint guards Partner.time_zone in the database: a bad row must not produce a
    Python traceback page. Without tz the client is told; with one, the server's fault is a
    logged JSON 500 (the api_view fallback), never HTML."""
    Partner.objects.filter(pk=service.partner_id).update(time_zone="Not/AZone")
    assert invalid(client.get(url(), {"start": "2025-03-24", "end": "2025-03-24"}), "tz")
    response = client.get(url(), {"start": "2025-03-24", "end": "2025-03-24", "tz": "UTC"})
    assert response.status_code == 500
    assert response.json() == {
        "error": "internal_error",
        "message": "Something went wrong on our side. Please try again later.",
    }
    assert "widget api error" in caplog.text


# --- hostile input: a JSON 400, never a 500 -------------------------------------------------------


@pytest.mark.parametrize("value", hostile.DATES)
@pytest.mark.parametrize("name", ["start", "end"])
def test_hostile_dates_are_a_json_400(
    client: Client, service: Service, name: str, value: str
) -> None:
    query = {"start": "2025-03-24", "end": "2025-03-30", name: value}
    invalid(client.get(url(), query), name)


@pytest.mark.parametrize("tz", hostile.ZONES)
def test_hostile_zones_are_a_json_400(client: Client, service: Service, tz: str) -> None:
    query = {"start": "2025-03-24", "end": "2025-03-30", "tz": tz}
    invalid(client.get(url(), query), "tz")
