"""The booking remembers the zone the customer booked in (the manage page and every email show
the time in it, the partner's beside it where it differs) and the optional marketing consent
(unticked by default; stored with time and notice version; shown to the partner).

Time is frozen at Monday 6 January 2025, 08:00 in Zurich (07:00 UTC)."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, datetime
from typing import Any

import pytest
import time_machine
from django.core import mail
from django.test import Client

from booking import services
from booking.models import Booking, Service
from tests.actors import MANAGE_LINK_CUSTOMER
from tests.booking.conftest import zurich

pytestmark = pytest.mark.django_db

NOW = datetime(2025, 1, 6, 7, 0, tzinfo=UTC)
URL = "/book/salon-alpha/haircut/book/"
START = "2025-01-07T09:00:00Z"  # Tuesday 10:00 in Zurich, 04:00 in New York
NY_TIME = "Tuesday, 7 January 2025, 04:00–05:00 (America/New_York)"
ZURICH_TIME = "Tuesday, 7 January 2025, 10:00–11:00 (Europe/Zurich)"


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
        **overrides,
    }


def _book(client: Client, django_capture_on_commit_callbacks, **overrides: str) -> str:
    with django_capture_on_commit_callbacks(execute=True):
        response = client.post(URL, _form(**overrides))
    assert response.status_code == 302
    return response["Location"].split("?")[0]


def test_the_zone_the_customer_booked_in_is_stored_and_shown_by_default(
    client: Client, service: Service, django_capture_on_commit_callbacks
) -> None:
    manage = _book(client, django_capture_on_commit_callbacks)
    booking = Booking.objects.get()
    assert booking.time_zone == "America/New_York"

    # The manage page without ?tz=: the customer's zone first, the partner's beside it.
    text = client.get(manage).content.decode()
    assert 'Tuesday, 7 January 2025, 04:00–05:00 <span class="zone">(America/New_York)' in text
    assert 'Tuesday, 7 January 2025, 10:00–11:00 <span class="zone">(Europe/Zurich)' in text

    # The confirmation email: both, the partner's named; the partner's notice in its own zone.
    to_customer = next(m for m in mail.outbox if m.to == ["ada@example.com"])
    assert f"{NY_TIME}, that is {ZURICH_TIME} at Salon Alpha" in to_customer.body
    html = to_customer.alternatives[0][0]
    assert "04:00–05:00 (America/New_York)" in html and "10:00–11:00 (Europe/Zurich)" in html
    to_partner = next(m for m in mail.outbox if m.to != ["ada@example.com"])
    assert ZURICH_TIME in to_partner.body and "America/New_York" not in to_partner.body


def test_a_customer_in_the_partners_zone_sees_the_time_once(
    client: Client, service: Service, django_capture_on_commit_callbacks
) -> None:
    _book(client, django_capture_on_commit_callbacks, tz="Europe/Zurich")
    to_customer = next(m for m in mail.outbox if m.to == ["ada@example.com"])
    assert ZURICH_TIME in to_customer.body and "that is" not in to_customer.body


def test_a_move_keeps_the_zone_and_its_email_uses_it(
    client: Client, service: Service, django_capture_on_commit_callbacks
) -> None:
    _book(client, django_capture_on_commit_callbacks)
    booking = Booking.objects.get()
    mail.outbox.clear()
    with django_capture_on_commit_callbacks(execute=True):
        moved = services.booking_reschedule(
            booking=booking, new_start=zurich(2025, 1, 8, 10), actor=MANAGE_LINK_CUSTOMER
        )
    assert moved.time_zone == "America/New_York"
    to_customer = next(m for m in mail.outbox if m.to == ["ada@example.com"])
    assert "Wednesday, 8 January 2025, 04:00–05:00 (America/New_York)" in to_customer.body
    assert NY_TIME in to_customer.body  # the previous time, in the same zone


# --- marketing consent ----------------------------------------------------------------------------


def test_the_consent_box_is_unticked_by_default(client: Client, service: Service) -> None:
    text = client.get(URL, {"start": START}).content.decode()
    box = text.split('name="marketing_consent"')[0].rsplit("<input", 1)[1]
    assert 'type="checkbox"' in box and "checked" not in box
    assert "this business may send me news and offers" in text


def test_without_the_box_no_consent_is_stored(
    client: Client, service: Service, django_capture_on_commit_callbacks
) -> None:
    _book(client, django_capture_on_commit_callbacks)
    booking = Booking.objects.get()
    assert booking.marketing_consent_at is None and booking.marketing_notice_version == ""


def test_consent_is_stored_with_its_time_and_notice_version_and_kept_by_a_move(
    client: Client, service: Service, django_capture_on_commit_callbacks
) -> None:
    _book(client, django_capture_on_commit_callbacks, marketing_consent="on")
    booking = Booking.objects.get()
    assert booking.marketing_consent_at == NOW
    assert booking.marketing_notice_version == services.MARKETING_NOTICE_VERSION
    moved = services.booking_reschedule(
        booking=booking, new_start=zurich(2025, 1, 8, 10), actor=MANAGE_LINK_CUSTOMER
    )
    assert moved.marketing_consent_at == NOW
    assert moved.marketing_notice_version == services.MARKETING_NOTICE_VERSION


def test_the_database_refuses_consent_without_a_notice_version(service: Service, book) -> None:
    from django.db import IntegrityError, transaction

    booking, _ = book(service, zurich(2025, 1, 7, 10))
    with pytest.raises(IntegrityError), transaction.atomic():
        Booking.objects.filter(pk=booking.pk).update(marketing_consent_at=NOW)


def test_the_consent_text_is_translated(client: Client, service: Service) -> None:
    text = client.get(URL, {"start": START}, HTTP_ACCEPT_LANGUAGE="de-CH").content.decode()
    assert "dieses Geschäft darf mir Neuigkeiten und Angebote per E-Mail senden" in text
