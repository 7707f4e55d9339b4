"""Customers' own rights through their manage link (GDPR): see and download their data, delete
it; and the partner's retention period, enforced daily."""

from __future__ import annotations

import json
from datetime import UTC, timedelta

import pytest
import time_machine
from django.core import mail
from django.db import connection
from django.test import Client

from booking.erasure import retention_enforce
from booking.models import Booking, Customer, Partner, Service
from security.events import verify_chain
from security.models import SecurityEvent
from tests.booking.conftest import zurich

NOW = zurich(2026, 3, 2, 8)  # a Monday


@pytest.fixture
def ada(partner: Partner, service: Service, other_partner: Partner, book):
    with time_machine.travel(NOW - timedelta(days=14), tick=False):
        past, _ = book(service, zurich(2026, 2, 17, 10), customer_name="Ada Qq9", notes="Curly")
    with time_machine.travel(NOW, tick=False):
        future, token = book(service, zurich(2026, 3, 6, 10), customer_name="Ada Qq9")
        elsewhere, _ = book(
            other_partner.services.get(), zurich(2026, 3, 4, 15), customer_name="Ada Qq9"
        )
    mail.outbox.clear()
    return {"past": past, "future": future, "token": token, "elsewhere": elsewhere}


def _get(path: str, client: Client | None = None):
    with time_machine.travel(NOW, tick=False):
        return (client or Client()).get(path)


def _post(path: str, data: dict[str, str]):
    with time_machine.travel(NOW, tick=False):
        return Client().post(path, data)


def test_the_customer_downloads_their_data_at_this_business_only(ada) -> None:
    response = _get(f"/manage/{ada['token']}/my-data.json")
    assert response.status_code == 200
    assert (
        response["Cache-Control"].startswith("no-store") or "private" in response["Cache-Control"]
    )
    data = json.loads(response.content)
    assert data["customer"]["name"] == "Ada Qq9"
    assert sorted(b["id"] for b in data["bookings"]) == sorted([ada["past"].pk, ada["future"].pk])
    assert data["business"]["name"] == "Salon Alpha"
    event = SecurityEvent.objects.get(event_type="data_export")
    assert event.detail["rows"] == 2 and "Ada" not in json.dumps(event.detail)


def test_the_readable_page_shows_the_bookings_with_the_zone_named(ada) -> None:
    text = _get(f"/manage/{ada['token']}/my-data/").content.decode()
    assert "Ada Qq9" in text and "Curly" in text and "Europe/Zurich" in text
    assert "my-data.json" in text


def test_a_forged_link_sees_nothing(ada) -> None:
    for path in ("my-data/", "my-data.json", "my-data/delete/"):
        assert _get(f"/manage/{ada['token']}x/{path}").status_code == 404


def test_deleting_asks_first(ada) -> None:
    page = _get(f"/manage/{ada['token']}/my-data/delete/")
    assert (
        page.status_code == 200 and "1 upcoming booking will be cancelled" in page.content.decode()
    )
    assert _post(f"/manage/{ada['token']}/my-data/delete/", {}).status_code == 400
    assert Customer.objects.filter(partner=ada["past"].partner).exists()


def test_deleting_cancels_the_future_anonymises_the_past_and_says_until_when_backups_hold_it(
    ada, django_capture_on_commit_callbacks
) -> None:
    with django_capture_on_commit_callbacks(execute=True):
        response = _post(f"/manage/{ada['token']}/my-data/delete/", {"confirm": "yes"})
    assert response.status_code == 200
    assert "(Europe/Zurich)" in response.content.decode()
    past = Booking.objects.get(pk=ada["past"].pk)
    future = Booking.objects.get(pk=ada["future"].pk)
    assert future.status == Booking.Status.CANCELLED
    for booking, original in ((past, ada["past"]), (future, ada["future"])):
        assert booking.anonymised_at is not None and booking.customer_id is None
        assert (booking.customer_name, booking.customer_email, booking.notes) == ("", "", "")
        assert (booking.start, booking.service_id) == (original.start, original.service_id)
    assert not Customer.objects.filter(partner=ada["past"].partner).exists()
    # The same address at another business is that business's customer: untouched.
    assert Booking.objects.get(pk=ada["elsewhere"].pk).customer_name == "Ada Qq9"
    assert [m.to for m in mail.outbox] == [["ada@example.com"]]
    assert "at the latest" in mail.outbox[0].body
    assert _get(f"/manage/{ada['token']}/").status_code == 404  # the link is dead
    with connection.cursor() as cursor:
        cursor.execute("SELECT customer_name, notes FROM booking_booking WHERE id = %s", [past.pk])
        assert cursor.fetchone() == ("", "")
    customer_events = SecurityEvent.objects.filter(
        target=f"booking:{past.pk}", pseudonymised_at__isnull=True
    )
    assert all(e.detail.get("actor_kind") != "customer" for e in customer_events)
    assert verify_chain() == []


def test_an_appointment_inside_the_cut_off_refuses_the_erasure(ada) -> None:
    with time_machine.travel(zurich(2026, 3, 5, 12), tick=False):
        response = Client().post(f"/manage/{ada['token']}/my-data/delete/", {"confirm": "yes"})
    assert response.status_code == 400
    assert "too close" in response.content.decode()
    assert Booking.objects.get(pk=ada["past"].pk).customer_name == "Ada Qq9"


def test_the_retention_job_anonymises_bookings_older_than_the_partners_period(
    partner: Partner, service: Service, book
) -> None:
    with time_machine.travel(zurich(2024, 12, 30, 8), tick=False):
        old, _ = book(service, zurich(2025, 1, 6, 10), customer_email="old@example.com")
    with time_machine.travel(zurich(2025, 4, 1, 8), tick=False):
        recent, _ = book(service, zurich(2025, 4, 7, 10), customer_email="recent@example.com")
    assert retention_enforce(now=NOW) == {}  # no period set: nothing happens
    Partner.objects.filter(pk=partner.pk).update(retention_months=12)
    assert retention_enforce(now=NOW) == {partner.slug: 1}
    assert retention_enforce(now=NOW) == {}  # a second run finds nothing to do
    assert Booking.objects.get(pk=old.pk).customer_name == ""
    assert Booking.objects.get(pk=recent.pk).customer_name == "Ada Lovelace"
    assert list(Customer.objects.values_list("email", flat=True)) == ["recent@example.com"]
    assert SecurityEvent.objects.get(event_type="retention_applied").detail["anonymised"] == 1


def test_the_marketing_consent_and_the_customers_zone_are_in_the_download_and_go_with_erasure(
    ada,
) -> None:
    Booking.objects.filter(pk=ada["past"].pk).update(
        marketing_consent_at=NOW - timedelta(days=14),
        marketing_notice_version="2026-12",
        time_zone="America/New_York",
    )
    data = json.loads(_get(f"/manage/{ada['token']}/my-data.json").content)
    past = next(b for b in data["bookings"] if b["id"] == ada["past"].pk)
    assert past["marketing_consent"] == {
        "given_at": (NOW - timedelta(days=14)).astimezone(UTC).isoformat(),
        "notice_version": "2026-12",
    }
    assert past["time_zone"] == "America/New_York"

    _post(f"/manage/{ada['token']}/my-data/delete/", {"confirm": "yes"})
    past_row = Booking.objects.get(pk=ada["past"].pk)
    assert (past_row.marketing_consent_at, past_row.marketing_notice_version) == (None, "")
    assert past_row.time_zone == ""  # shown in the partner's zone from now on
