"""The customer's manage link: derived from the booking id and its link version under a server
key that is not in the database (booking.tokens). What a customer and an attacker notice: the
same link in every email, no working link from a database copy, revocation, expiry, and links
sent before derived links still working.

Time is frozen at Monday 6 January 2025, 08:00 in Zurich; the booking is on Wednesday 8 January
10:00-11:00 Zurich.
"""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, datetime, timedelta

import pytest
import time_machine
from django.core import mail
from django.test import Client

from booking import services
from booking.links import manage_token_for
from booking.models import Booking, Service
from booking.tokens import manage_token, new_manage_token
from security.models import SecurityEvent
from tests.actors import MANAGE_LINK_CUSTOMER, partner_staff
from tests.booking.conftest import zurich

pytestmark = pytest.mark.django_db

NOW = datetime(2025, 1, 6, 7, 0, tzinfo=UTC)
END = zurich(2025, 1, 8, 11)


@pytest.fixture(autouse=True)
def _frozen() -> Iterator[time_machine.Coordinates]:
    with time_machine.travel(NOW, tick=False) as traveller:
        yield traveller


@pytest.fixture
def booked(service: Service, book) -> tuple[Booking, str]:
    return book(service, zurich(2025, 1, 8, 10))


def _opens(client: Client, token: str) -> bool:
    status = client.get(f"/manage/{token}/").status_code
    assert status in (200, 404)
    return status == 200


def test_the_same_booking_and_version_give_the_same_link(booked, client: Client) -> None:
    booking, token = booked
    booking.refresh_from_db()
    assert manage_token_for(booking) == token
    assert manage_token(booking_id=booking.pk, version=booking.manage_link_version) == token
    assert _opens(client, token)


def test_another_booking_or_version_gives_another_link(booked, service, book) -> None:
    booking, token = booked
    other, other_token = book(service, zurich(2025, 1, 9, 10))
    assert other_token != token
    assert manage_token(booking_id=booking.pk, version="0" * 32) != token


def test_a_copy_of_the_database_without_the_key_gives_no_working_link(
    booked, client: Client, settings
) -> None:
    booking, token = booked
    row = Booking.objects.filter(pk=booking.pk).values().get()
    # Everything stored about the booking, tried as a link, and as the link's secret part.
    for value in map(str, row.values()):
        assert token.partition(".")[2] not in value
        if value and "/" not in value:
            assert not _opens(client, value)
            assert not _opens(client, f"{booking.pk}.{value}")
    # The derivation redone with the stored version but a guessed key.
    real_key = settings.MANAGE_LINK_KEY
    for guess in ("", "secret", "django-insecure-local-development-key-do-not-use-in-production"):
        settings.MANAGE_LINK_KEY = guess
        forged = manage_token(booking_id=booking.pk, version=row["manage_link_version"])
        settings.MANAGE_LINK_KEY = real_key
        assert forged != token and not _opens(client, forged)


def test_a_forged_or_mangled_link_opens_nothing(booked, client: Client) -> None:
    booking, token = booked
    booking_id, _, mac = token.partition(".")
    flipped = mac[:-1] + ("A" if mac[-1] != "A" else "B")
    for attempt in (
        f"{booking_id}.{flipped}",
        f"{int(booking_id) + 1}.{mac}",
        f"0{booking_id}.{mac}",
        f"{booking_id}.{mac}x",
        mac,
        f"{booking_id}..{mac}",
    ):
        assert not _opens(client, attempt), attempt


def test_rotation_revokes_older_links_and_mails_the_new_one(
    booked, client: Client, django_capture_on_commit_callbacks
) -> None:
    booking, token = booked
    mail.outbox.clear()
    with django_capture_on_commit_callbacks(execute=True):
        rotated = services.booking_manage_link_rotate(booking=booking, actor=MANAGE_LINK_CUSTOMER)
    new_token = manage_token_for(rotated)
    assert new_token != token
    assert not _opens(client, token)
    assert _opens(client, new_token)
    (message,) = mail.outbox
    assert message.to == ["ada@example.com"]
    assert f"/manage/{new_token}/" in message.body and token not in message.body
    event = SecurityEvent.objects.filter(event_type="manage_link_rotated").get()
    assert event.target == f"booking:{booking.pk}"


def test_the_customer_renews_the_link_from_the_manage_page(
    booked, client: Client, django_capture_on_commit_callbacks
) -> None:
    booking, token = booked
    mail.outbox.clear()
    with django_capture_on_commit_callbacks(execute=True):
        response = client.post(f"/manage/{token}/renew/")
    assert response.status_code == 200
    assert "no longer works" in response.content.decode()
    assert response["Cache-Control"].startswith("max-age=0")
    assert not _opens(client, token)
    booking.refresh_from_db()
    assert _opens(client, manage_token_for(booking))
    assert f"/manage/{manage_token_for(booking)}/" in mail.outbox[0].body
    assert client.get(f"/manage/{token}/renew/").status_code == 405


def test_a_link_stops_working_30_days_after_the_appointment(
    booked, client: Client, _frozen: time_machine.Coordinates
) -> None:
    _, token = booked
    _frozen.move_to(END + timedelta(days=30) - timedelta(seconds=1))
    assert _opens(client, token)
    _frozen.move_to(END + timedelta(days=30))
    assert not _opens(client, token)


def test_links_sent_before_derived_links_keep_working_until_they_expire(
    booked, client: Client, _frozen: time_machine.Coordinates
) -> None:
    booking, _ = booked
    legacy, booking.manage_token_hash = new_manage_token()
    booking.save(update_fields=["manage_token_hash"])
    assert _opens(client, legacy)
    _frozen.move_to(END + timedelta(days=30))
    assert not _opens(client, legacy)


def test_renewing_revokes_a_link_sent_before_derived_links(booked, client: Client) -> None:
    booking, _ = booked
    legacy, booking.manage_token_hash = new_manage_token()
    booking.save(update_fields=["manage_token_hash"])
    services.booking_manage_link_rotate(booking=booking, actor=MANAGE_LINK_CUSTOMER, send=False)
    assert not _opens(client, legacy)


def test_renewing_after_a_move_by_the_business_revokes_the_link_from_before_the_move(
    booked, client: Client
) -> None:
    booking, first = booked
    moved = services.booking_reschedule(
        booking=booking, new_start=zurich(2025, 1, 9, 10), actor=partner_staff(booking.partner)
    )
    assert _opens(client, first)  # follows the booking to its new time
    services.booking_manage_link_rotate(booking=moved, actor=MANAGE_LINK_CUSTOMER, send=False)
    assert not _opens(client, first)
    assert _opens(client, manage_token_for(Booking.objects.get(pk=moved.pk)))


def test_a_move_by_the_customer_after_one_by_the_business_revokes_every_older_link(
    booked, client: Client
) -> None:
    booking, first = booked
    moved = services.booking_reschedule(
        booking=booking, new_start=zurich(2025, 1, 9, 10), actor=partner_staff(booking.partner)
    )
    second = manage_token_for(moved)
    again = services.booking_reschedule(
        booking=moved, new_start=zurich(2025, 1, 10, 10), actor=MANAGE_LINK_CUSTOMER
    )
    assert not _opens(client, first) and not _opens(client, second)
    assert _opens(client, manage_token_for(again))
