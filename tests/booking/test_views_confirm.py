"""The confirmation steps before cancelling and moving a booking: GET pages that say what will
happen (and nothing changes until their POST form is sent), CSRF on that form, the warning when a
new time is already inside the cut-off, and the owner/forged-link/wrong-method cases.

Time is frozen at Monday 6 January 2025, 08:00 in Zurich (07:00 UTC); the booking is on
Wednesday 8 January 10:00 Zurich (09:00 UTC), cut-off 24 h before.
"""

from __future__ import annotations

import secrets
from collections.abc import Iterator
from datetime import UTC, datetime

import pytest
import time_machine
from django.test import Client

from booking.models import Booking, Service
from tests.booking.conftest import zurich

pytestmark = pytest.mark.django_db

NOW = datetime(2025, 1, 6, 7, 0, tzinfo=UTC)
FAR = "2025-01-09T13:00:00Z"  # Thursday 14:00 Zurich: 54 h ahead, outside the cut-off
NEAR = "2025-01-06T15:00:00Z"  # Monday 16:00 Zurich: 8 h ahead, inside the 24 h cut-off


@pytest.fixture(autouse=True)
def _frozen() -> Iterator[time_machine.Coordinates]:
    with time_machine.travel(NOW, tick=False) as traveller:
        yield traveller


@pytest.fixture
def booked(service: Service, book) -> tuple[Booking, str]:
    return book(service, zurich(2025, 1, 8, 10))


def _unchanged(booking: Booking) -> None:
    booking.refresh_from_db()
    assert booking.status == Booking.Status.CONFIRMED
    assert booking.start == zurich(2025, 1, 8, 10)
    assert not Booking.objects.filter(rescheduled_from=booking).exists()


# --- cancel -------------------------------------------------------------------------------------


def test_cancel_confirmation_says_what_happens_and_changes_nothing(
    client: Client, booked: tuple[Booking, str]
) -> None:
    booking, token = booked
    response = client.get(f"/manage/{token}/cancel/confirm/", {"tz": "America/New_York"})

    assert response.status_code == 200
    assert response["Referrer-Policy"] == "strict-origin"
    assert "no-store" in response["Cache-Control"]
    text = response.content.decode()
    assert "Cancel this booking?" in text
    assert "Wednesday, 8 January 2025, 04:00" in text and "(America/New_York)" in text
    assert "is cancelled and the time is given free" in text
    assert "This cannot be undone" in text
    # The form that does it: a POST to the cancel URL with a CSRF token, the zone kept.
    assert f'<form method="post" action="/manage/{token}/cancel/"' in text
    assert 'name="csrfmiddlewaretoken"' in text
    assert 'name="tz" value="America/New_York"' in text
    assert 'name="reason"' in text
    assert "Keep my booking" in text
    _unchanged(booking)


def test_manage_page_leads_to_the_confirmation_not_straight_to_cancelling(
    client: Client, booked: tuple[Booking, str]
) -> None:
    _, token = booked
    text = client.get(f"/manage/{token}/").content.decode()
    assert f'href="/manage/{token}/cancel/confirm/?tz=Europe%2FZurich"' in text
    assert f'action="/manage/{token}/cancel/"' not in text


def test_confirmed_cancel_needs_the_csrf_token(booked: tuple[Booking, str]) -> None:
    booking, token = booked
    browser = Client(enforce_csrf_checks=True)
    page = browser.get(f"/manage/{token}/cancel/confirm/")
    assert page.status_code == 200
    # A cross-site form (no token) changes nothing...
    assert browser.post(f"/manage/{token}/cancel/", {"reason": ""}).status_code == 403
    _unchanged(booking)
    # ...the confirmation page's own form does.
    csrf = page.context["csrf_token"]
    response = browser.post(f"/manage/{token}/cancel/", {"csrfmiddlewaretoken": csrf})
    assert response.status_code == 302
    booking.refresh_from_db()
    assert booking.status == Booking.Status.CANCELLED


def test_cancel_confirmation_of_a_cancelled_booking_offers_nothing(
    client: Client, booked: tuple[Booking, str]
) -> None:
    _, token = booked
    client.post(f"/manage/{token}/cancel/", {"reason": ""})
    response = client.get(f"/manage/{token}/cancel/confirm/")
    assert response.status_code == 400
    assert "This booking is cancelled." in response.content.decode()
    assert "Cancel this booking?" not in response.content.decode()


@pytest.mark.parametrize("method", ["post", "put", "delete"])
def test_cancel_confirmation_wrong_method_is_405(
    client: Client, booked: tuple[Booking, str], method: str
) -> None:
    booking, token = booked
    assert getattr(client, method)(f"/manage/{token}/cancel/confirm/").status_code == 405
    _unchanged(booking)


def test_forged_link_gets_404_on_both_confirmations(client: Client, booked: tuple[Booking, str]):
    fake = secrets.token_urlsafe(32)
    assert client.get(f"/manage/{fake}/cancel/confirm/").status_code == 404
    assert client.get(f"/manage/{fake}/reschedule/confirm/", {"start": FAR}).status_code == 404


# --- reschedule ---------------------------------------------------------------------------------


def test_reschedule_confirmation_shows_both_times_and_changes_nothing(
    client: Client, booked: tuple[Booking, str]
) -> None:
    booking, token = booked
    response = client.get(
        f"/manage/{token}/reschedule/confirm/", {"start": FAR, "tz": "America/New_York"}
    )

    assert response.status_code == 200
    assert "no-store" in response["Cache-Control"]
    text = response.content.decode()
    assert "Move your booking?" in text
    assert "Wednesday, 8 January 2025, 04:00" in text  # now, in New York
    assert "Thursday, 9 January 2025, 08:00" in text  # the new time, in New York
    assert "this link stops working" in text
    assert "You can still change or cancel the new booking until 24 hours before it." in text
    assert "no longer change or cancel" not in text
    assert f'<form method="post" action="/manage/{token}/reschedule/"' in text
    assert 'name="csrfmiddlewaretoken"' in text
    assert f'name="start" value="{FAR}"' in text
    _unchanged(booking)


def test_a_new_time_inside_the_cutoff_is_announced_as_final(
    client: Client, booked: tuple[Booking, str]
) -> None:
    booking, token = booked
    text = client.get(f"/manage/{token}/reschedule/confirm/", {"start": NEAR}).content.decode()
    assert (
        "The new time is less than 24 hours away: after this move you can no longer change or "
        "cancel the booking online." in text
    )
    _unchanged(booking)


def test_confirmed_move_needs_the_csrf_token_and_then_moves(
    booked: tuple[Booking, str],
) -> None:
    booking, token = booked
    browser = Client(enforce_csrf_checks=True)
    page = browser.get(f"/manage/{token}/reschedule/confirm/", {"start": FAR})
    assert browser.post(f"/manage/{token}/reschedule/", {"start": FAR}).status_code == 403
    _unchanged(booking)
    response = browser.post(
        f"/manage/{token}/reschedule/",
        {"start": FAR, "csrfmiddlewaretoken": page.context["csrf_token"]},
    )
    assert response.status_code == 302 and "rescheduled=1" in response["Location"]
    assert Booking.objects.get(rescheduled_from=booking).start == datetime.fromisoformat(FAR)


@pytest.mark.parametrize("start", ["", "tomorrow", "2025-13-40T99:00:00Z", "x" * 500])
def test_reschedule_confirmation_of_a_bad_time_is_400(
    client: Client, booked: tuple[Booking, str], start: str
) -> None:
    booking, token = booked
    response = client.get(f"/manage/{token}/reschedule/confirm/", {"start": start})
    assert response.status_code == 400
    _unchanged(booking)


def test_reschedule_confirmation_after_the_cutoff_offers_nothing(
    client: Client, booked: tuple[Booking, str], _frozen
) -> None:
    booking, token = booked
    _frozen.move_to(datetime(2025, 1, 7, 9, 30, tzinfo=UTC))
    response = client.get(f"/manage/{token}/reschedule/confirm/", {"start": FAR})
    assert response.status_code == 400
    assert "Changes are possible until 24 hours before the appointment." in (
        response.content.decode()
    )
    assert "Move my booking" not in response.content.decode()
    _unchanged(booking)


@pytest.mark.parametrize("method", ["post", "put", "delete"])
def test_reschedule_confirmation_wrong_method_is_405(
    client: Client, booked: tuple[Booking, str], method: str
) -> None:
    booking, token = booked
    response = getattr(client, method)(f"/manage/{token}/reschedule/confirm/")
    assert response.status_code == 405
    _unchanged(booking)
