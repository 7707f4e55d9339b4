"""Trust on the customer pages: the business's address, phone and email and its privacy notice on
the partner, booking and manage pages and in the emails; what the platform stores and for how
long; `/` as a real page that lists no partner."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, datetime

import pytest
import time_machine
from django.core import mail
from django.core.exceptions import ValidationError
from django.test import Client

from booking.models import Partner, Service

pytestmark = pytest.mark.django_db

NOW = datetime(2025, 1, 6, 7, 0, tzinfo=UTC)


@pytest.fixture(autouse=True)
def _frozen() -> Iterator[None]:
    with time_machine.travel(NOW, tick=False):
        yield


@pytest.fixture
def listed(partner: Partner, service: Service) -> Partner:
    partner.address = "Bahnhofstrasse 1\n8001 Zürich"
    partner.phone = "+41 44 000 00 00"
    partner.privacy_notice_url = "https://alpha.example/datenschutz"
    partner.full_clean()
    partner.save()
    return partner


def test_the_partner_page_shows_how_to_reach_the_business(client: Client, listed) -> None:
    text = client.get("/book/salon-alpha/").content.decode()
    assert "Bahnhofstrasse 1<br>8001 Zürich" in text
    assert '<a href="tel:+41440000000">+41 44 000 00 00</a>' in text
    assert '<a href="mailto:owner@alpha.example">owner@alpha.example</a>' in text
    assert 'href="https://alpha.example/datenschutz"' in text
    assert "We store your name and email address" in text and "within 30 days" in text
    assert 'href="/privacy/"' in text


def test_the_booking_and_manage_pages_show_it_too(
    client: Client, listed, django_capture_on_commit_callbacks
) -> None:
    form = client.get(
        "/book/salon-alpha/haircut/book/", {"start": "2025-01-07T09:00:00Z"}
    ).content.decode()
    assert "We store your name and email address" in form and "+41 44 000 00 00" in form
    with django_capture_on_commit_callbacks(execute=True):
        response = client.post(
            "/book/salon-alpha/haircut/book/",
            {
                "start": "2025-01-07T09:00:00Z",
                "customer_name": "Ada Lovelace",
                "customer_email": "ada@example.com",
            },
            headers={"accept-language": "de"},
        )
    manage = client.get(response["Location"], headers={"accept-language": "de"}).content.decode()
    assert "Bahnhofstrasse 1" in manage and "Datenschutzerklärung von Salon Alpha" in manage
    (confirmation,) = [m for m in mail.outbox if m.to == ["ada@example.com"]]
    assert "Bahnhofstrasse 1\n8001 Zürich\n+41 44 000 00 00\nowner@alpha.example" in (
        confirmation.body
    )
    assert "Datenschutzerklärung: https://alpha.example/datenschutz" in confirmation.body
    ((html, _),) = confirmation.alternatives
    assert "Bahnhofstrasse 1<br>8001 Zürich" in str(html)


def test_a_privacy_notice_must_be_an_https_address(partner: Partner) -> None:
    for bad in ("http://alpha.example/privacy", "javascript:alert(1)", "ftp://alpha.example/"):
        partner.privacy_notice_url = bad
        with pytest.raises(ValidationError):
            partner.full_clean()


def test_the_home_page_says_what_this_is_and_lists_no_partner(client: Client, listed) -> None:
    response = client.get("/", headers={"accept-language": "fr"})
    assert response.status_code == 200
    text = response.content.decode()
    assert "Réservation en ligne" in text
    assert 'href="/.well-known/security.txt"' in text and 'href="/privacy/"' in text
    assert 'href="/security/policy"' in text
    assert "Salon Alpha" not in text and "salon-alpha" not in text
    assert "default-src" in response["Content-Security-Policy"]


def test_the_home_page_takes_the_platform_name_and_an_external_notice(
    client: Client, settings, db
) -> None:
    settings.PLATFORM_NAME = "Termine Schweiz"
    settings.PRIVACY_NOTICE_URL = "https://platform.example/privacy"
    text = client.get("/").content.decode()
    assert "<h1>Termine Schweiz</h1>" in text
    assert 'href="https://platform.example/privacy"' in text


def test_the_privacy_page_says_what_is_stored_and_for_how_long(client: Client, db) -> None:
    text = client.get("/privacy/", headers={"accept-language": "it"}).content.decode()
    assert "Informativa sulla privacy" in text
    assert "entro 30 giorni" in text
