"""/manage/<token>/reschedule/: GET lists free times of the same service, POST moves the booking.

Time is frozen at Monday 6 January 2025, 08:00 in Zurich (07:00 UTC); the booking is on
Wednesday 8 January 10:00 Zurich (09:00 UTC), cut-off 24 h before.
"""

from __future__ import annotations

import re
import secrets
from collections.abc import Iterator
from datetime import UTC, datetime

import pytest
import time_machine
from django.test import Client

from booking.links import manage_token_for
from booking.models import Booking, Service
from tests import hostile_inputs as hostile
from tests.booking.conftest import zurich

pytestmark = pytest.mark.django_db

NOW = datetime(2025, 1, 6, 7, 0, tzinfo=UTC)
AFTER_CUTOFF = datetime(2025, 1, 7, 9, 30, tzinfo=UTC)
CURRENT = "2025-01-08T09:00:00Z"
NEW = "2025-01-09T13:00:00Z"  # Thursday 14:00 Zurich


@pytest.fixture(autouse=True)
def _frozen() -> Iterator[time_machine.Coordinates]:
    with time_machine.travel(NOW, tick=False) as traveller:
        yield traveller


@pytest.fixture
def booked(service: Service, book) -> tuple[Booking, str]:
    return book(service, zurich(2025, 1, 8, 10))


def _buttons(text: str) -> list[str]:
    return re.findall(r'<button type="submit" class="slot" name="start" value="([^"]+)"', text)


def test_lists_free_times_with_the_current_one_marked(
    client: Client, booked: tuple[Booking, str], book, service: Service
) -> None:
    _, token = booked
    book(service, zurich(2025, 1, 9, 9), customer_email="other@example.com")  # someone else's

    response = client.get(f"/manage/{token}/reschedule/", {"tz": "America/New_York"})

    assert response.status_code == 200
    assert (
        response["Referrer-Policy"] == "strict-origin" and "no-store" in response["Cache-Control"]
    )
    text = response.content.decode()
    buttons = _buttons(text)
    assert (
        len(buttons) == 5 * 8 - 2
    )  # the customer's own time is shown, not offered; the other one is busy
    assert CURRENT not in buttons and "2025-01-09T08:00:00Z" not in buttons
    assert "(your current time)" in text
    assert (
        'aria-label="Thursday, 9 January 08:00">08:00</button>' in text
    )  # 14:00 Zurich in New York
    # A chosen time opens the confirmation step (which holds the CSRF-protected POST form), so
    # the list's form is a GET that carries no CSRF token into a URL.
    assert f'<form method="get" action="/manage/{token}/reschedule/confirm/"' in text
    assert 'name="csrfmiddlewaretoken"' not in text.split('class="slot-form"')[1]
    assert '<meta name="robots" content="noindex, nofollow">' in text


def test_week_navigation_keeps_the_token_page(client: Client, booked: tuple[Booking, str]) -> None:
    _, token = booked
    text = client.get(f"/manage/{token}/reschedule/", {"week": "2025-01-13"}).content.decode()
    assert (
        f'href="/manage/{token}/reschedule/?week=2025-01-06&amp;tz=Europe%2FZurich" rel="prev"'
        in text
    )
    assert (
        f'href="/manage/{token}/reschedule/?week=2025-01-20&amp;tz=Europe%2FZurich" rel="next"'
        in text
    )


@pytest.mark.parametrize(
    ("query", "message"), [({"week": "soon"}, "YYYY-MM-DD"), ({"tz": "Mars/Base"}, "time zone")]
)
def test_bad_query_is_400_with_message(
    client: Client, booked: tuple[Booking, str], query: dict[str, str], message: str
) -> None:
    _, token = booked
    response = client.get(f"/manage/{token}/reschedule/", query)
    assert response.status_code == 400
    assert message in response.content.decode()


def test_customer_moves_the_booking_and_gets_a_new_link(
    client: Client, booked: tuple[Booking, str]
) -> None:
    old, token = booked
    response = client.post(f"/manage/{token}/reschedule/", {"start": NEW, "tz": "America/New_York"})

    assert response.status_code == 302
    old.refresh_from_db()
    assert old.status == Booking.Status.CANCELLED
    new = Booking.objects.get(rescheduled_from=old)
    new_token = manage_token_for(new)
    assert response["Location"] == f"/manage/{new_token}/?rescheduled=1&tz=America%2FNew_York"
    assert client.get(f"/manage/{token}/").status_code == 404  # the old link is revoked
    assert new.status == Booking.Status.CONFIRMED
    assert new.start == datetime(2025, 1, 9, 13, 0, tzinfo=UTC)
    text = client.get(response["Location"]).content.decode()
    assert "Your booking was moved to the new time." in text
    assert "Thursday, 9 January 2025, 08:00–09:00" in text  # New York
    assert "Confirmed" in text


def test_taken_time_is_409_and_nothing_changes(
    client: Client, booked: tuple[Booking, str], book, service: Service
) -> None:
    old, token = booked
    book(service, zurich(2025, 1, 9, 14), customer_email="other@example.com")
    response = client.post(f"/manage/{token}/reschedule/", {"start": NEW})
    assert response.status_code == 409
    text = response.content.decode()
    assert "just taken" in text
    assert _buttons(text)  # other times to choose from
    old.refresh_from_db()
    assert old.status == Booking.Status.CONFIRMED and Booking.objects.count() == 2


@pytest.mark.parametrize(
    ("start", "message"),
    [
        ("2025-01-09T13:30:00Z", "not available"),  # misaligned
        ("2025-01-05T13:00:00Z", "not available"),  # in the past
        ("2025-03-03T13:00:00Z", "not available"),  # beyond the horizon
        ("whenever", "not valid"),
        ("", "Choose a time first."),
    ],
)
def test_bad_start_is_400_and_nothing_changes(
    client: Client, booked: tuple[Booking, str], start: str, message: str
) -> None:
    old, token = booked
    response = client.post(f"/manage/{token}/reschedule/", {"start": start})
    assert response.status_code == 400
    assert message in response.content.decode()
    old.refresh_from_db()
    assert old.status == Booking.Status.CONFIRMED and Booking.objects.count() == 1


def test_after_the_cutoff_reschedule_is_refused(
    client: Client, booked: tuple[Booking, str], _frozen
) -> None:
    old, token = booked
    _frozen.move_to(AFTER_CUTOFF)

    page = client.get(f"/manage/{token}/reschedule/")
    assert page.status_code == 400
    assert "Changes are possible until 24 hours before the appointment." in page.content.decode()
    assert _buttons(page.content.decode()) == []

    response = client.post(f"/manage/{token}/reschedule/", {"start": NEW})
    assert response.status_code == 400
    assert (
        "Changes are possible until 24 hours before the appointment." in response.content.decode()
    )
    old.refresh_from_db()
    assert old.status == Booking.Status.CONFIRMED and Booking.objects.count() == 1


def test_cancelled_booking_cannot_be_moved(client: Client, booked: tuple[Booking, str]) -> None:
    old, token = booked
    client.post(f"/manage/{token}/cancel/")
    response = client.post(f"/manage/{token}/reschedule/", {"start": NEW})
    assert response.status_code == 400
    assert "already cancelled" in response.content.decode()
    assert Booking.objects.count() == 1


def test_csrf_is_enforced(booked: tuple[Booking, str]) -> None:
    old, token = booked
    response = Client(enforce_csrf_checks=True).post(f"/manage/{token}/reschedule/", {"start": NEW})
    assert response.status_code == 403
    assert Booking.objects.count() == 1


def test_unknown_token_is_404(client: Client, booked: tuple[Booking, str]) -> None:
    fake = secrets.token_urlsafe(32)
    assert client.get(f"/manage/{fake}/reschedule/").status_code == 404
    assert client.post(f"/manage/{fake}/reschedule/", {"start": NEW}).status_code == 404
    assert Booking.objects.count() == 1


@pytest.mark.parametrize("method", ["put", "patch", "delete"])
def test_wrong_method_is_405(client: Client, booked: tuple[Booking, str], method: str) -> None:
    _, token = booked
    assert getattr(client, method)(f"/manage/{token}/reschedule/").status_code == 405


def test_query_count_is_bounded(
    client: Client, booked: tuple[Booking, str], django_assert_max_num_queries
) -> None:
    _, token = booked
    # A fixed number whatever the bookings: the booking, hours and overrides, the staff who
    # perform the service (links, hours, absences, bookings) and the "with whom" menu.
    with django_assert_max_num_queries(11):
        assert client.get(f"/manage/{token}/reschedule/").status_code == 200


# --- hostile input: a 4xx with a message, never a 500 -------------------------------------------


@pytest.mark.parametrize("start", ["9999-12-31T23:59:59Z", "0001-01-01T00:00:00Z"])
def test_a_new_start_at_the_ends_of_the_calendar_is_400_with_message(
    client: Client, booked: tuple[Booking, str], start: str
) -> None:
    old, token = booked
    response = client.post(f"/manage/{token}/reschedule/", {"start": start})
    assert response.status_code == 400
    assert "Enter a date between 1900 and 2999." in response.content.decode()
    old.refresh_from_db()
    assert old.status == Booking.Status.CONFIRMED


@pytest.mark.parametrize("start", hostile.DATETIMES)
def test_hostile_new_starts_are_refused_and_nothing_changes(
    client: Client, booked: tuple[Booking, str], start: str
) -> None:
    old, token = booked
    assert client.post(f"/manage/{token}/reschedule/", {"start": start}).status_code == 400
    old.refresh_from_db()
    assert old.status == Booking.Status.CONFIRMED and Booking.objects.count() == 1


@pytest.mark.parametrize("week", hostile.DATES)
@pytest.mark.parametrize("method", ["get", "post"])
def test_hostile_weeks_are_refused_with_400(
    client: Client, booked: tuple[Booking, str], week: str, method: str
) -> None:
    _, token = booked
    response = getattr(client, method)(f"/manage/{token}/reschedule/", {"week": week})
    assert response.status_code == 400


@pytest.mark.parametrize("tz", hostile.ZONES)
@pytest.mark.parametrize("method", ["get", "post"])
def test_hostile_zones_are_refused_with_400(
    client: Client, booked: tuple[Booking, str], tz: str, method: str
) -> None:
    _, token = booked
    response = getattr(client, method)(f"/manage/{token}/reschedule/", {"tz": tz, "start": NEW})
    assert response.status_code == 400
    assert Booking.objects.count() == 1
