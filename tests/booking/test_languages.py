"""Four languages as a customer meets them: the page's language (picker or Accept-Language), the
booking remembering it, every later email in it (whoever triggers it), dates for the locale with
the zone named, service names per language with fallback, the widget API, and error pages.
Time is frozen at Monday 6 January 2025, 08:00 in Zurich."""

from __future__ import annotations

import json
from collections.abc import Iterator
from datetime import UTC, datetime

import pytest
import time_machine
from django.core import mail
from django.template.loader import render_to_string
from django.test import Client
from django.utils import translation

from booking import services
from booking.emails import send_booking_event
from booking.models import Booking, Service, ServiceTranslation
from booking.reminders import reminders_send_due
from security.fieldcrypto import blind_index
from tests.actors import MANAGE_LINK_CUSTOMER
from tests.booking.conftest import zurich

pytestmark = pytest.mark.django_db

NOW = datetime(2025, 1, 6, 7, 0, tzinfo=UTC)
BOOK_URL = "/book/salon-alpha/haircut/book/"
START = "2025-01-07T09:00:00Z"  # Tuesday 10:00 in Zurich


@pytest.fixture(autouse=True)
def _frozen() -> Iterator[None]:
    with time_machine.travel(NOW, tick=False):
        yield


@pytest.fixture
def haarschnitt(service: Service) -> Service:
    ServiceTranslation.objects.create(
        service=service, language="de", name="Haarschnitt", description="Waschen und schneiden"
    )
    return service


def _book_on_the_page(client: Client, **headers: str) -> Booking:
    response = client.post(
        BOOK_URL,
        {
            "start": START,
            "tz": "Europe/Zurich",
            "customer_name": "Heidi Muster",
            "customer_email": "heidi@example.ch",
        },
        headers=headers,
    )
    assert response.status_code == 302, response.content.decode()[:500]
    return Booking.objects.get(customer_email_index=blind_index("heidi@example.ch"))


# --- the page's language -------------------------------------------------------------------------


def test_accept_language_chooses_the_page_language(client: Client, haarschnitt: Service) -> None:
    response = client.get("/book/salon-alpha/", headers={"accept-language": "de-CH,de;q=0.9"})
    text = response.content.decode()
    assert '<html lang="de">' in text
    assert "Termin buchen bei Salon Alpha" in text and "Haarschnitt" in text
    assert "Waschen und schneiden" in text and "60 Minuten" in text
    assert "Accept-Language" in response["Vary"]


def test_a_language_the_platform_lacks_falls_back_to_english(client: Client, service) -> None:
    text = client.get("/book/salon-alpha/", headers={"accept-language": "es"}).content.decode()
    assert '<html lang="en">' in text and "Book an appointment at Salon Alpha" in text


def test_the_picker_is_a_plain_form_and_its_choice_outlasts_accept_language(
    client: Client, service: Service
) -> None:
    page = client.get("/book/salon-alpha/").content.decode()
    assert '<form method="post" action="/i18n/setlang/" class="language-form">' in page
    assert '<option value="fr" lang="fr">Français</option>' in page
    response = client.post(
        "/i18n/setlang/", {"language": "fr", "next": "/book/salon-alpha/haircut/"}
    )
    assert response.status_code == 302 and response["Location"] == "/book/salon-alpha/haircut/"
    cookie = response.cookies["language"]
    assert cookie.value == "fr" and cookie["httponly"] and cookie["samesite"] == "Lax"
    # The picker's answer carries the security headers like any page (middleware order).
    assert "default-src" in response["Content-Security-Policy"]
    assert response["X-Content-Type-Options"] == "nosniff"
    text = client.get(
        "/book/salon-alpha/haircut/", headers={"accept-language": "de"}
    ).content.decode()
    assert '<html lang="fr">' in text and "Choisissez une heure." in text
    assert "Heures en Europe/Zurich" in text


def test_a_picked_language_is_not_served_to_others_by_a_shared_cache(
    client: Client, service: Service
) -> None:
    # No pick: the page depends on Accept-Language only, sets no cookie, and stays cacheable.
    anonymous = client.get("/book/salon-alpha/", headers={"accept-language": "de"})
    assert "Accept-Language" in anonymous["Vary"] and "Cookie" not in anonymous["Vary"]
    assert not anonymous.cookies
    # Picked: the page depends on the cookie, and says so.
    client.post("/i18n/setlang/", {"language": "it", "next": "/book/salon-alpha/"})
    picked = client.get("/book/salon-alpha/", headers={"accept-language": "de"})
    assert '<html lang="it">' in picked.content.decode()
    assert "Cookie" in picked["Vary"]


def test_the_picker_refuses_to_send_the_visitor_elsewhere(client: Client, service) -> None:
    response = client.post("/i18n/setlang/", {"language": "it", "next": "https://evil.example/"})
    assert response.status_code == 302 and "evil.example" not in response["Location"]


def test_dates_on_the_booking_form_follow_the_locale(client: Client, service: Service) -> None:
    for language, expected in [
        ("en", "Tuesday, 7 January 2025, 10:00–11:00"),
        ("de", "Dienstag, 7. Januar 2025, 10:00–11:00"),
        ("fr", "mardi 7 janvier 2025, 10:00–11:00"),
        # Django's Italian catalogue capitalises day and month names.
        ("it", "Martedì 7 Gennaio 2025, 10:00–11:00"),
    ]:
        text = client.get(
            BOOK_URL, {"start": START, "tz": "Europe/Zurich"}, headers={"accept-language": language}
        ).content.decode()
        assert expected in text and "(Europe/Zurich)" in text, language


# --- the booking remembers its language; every later email uses it ------------------------------


def test_a_booking_made_in_german_is_confirmed_in_german(
    client: Client, haarschnitt: Service, django_capture_on_commit_callbacks
) -> None:
    with django_capture_on_commit_callbacks(execute=True):
        booking = _book_on_the_page(client, **{"accept-language": "de"})
    assert booking.language == "de"
    (confirmation,) = [m for m in mail.outbox if m.to == ["heidi@example.ch"]]
    assert confirmation.subject == (
        "Buchung bestätigt: Haarschnitt bei Salon Alpha, "
        "Dienstag, 7. Januar 2025, 10:00–11:00 (Europe/Zurich)"
    )
    assert confirmation.body.startswith("Guten Tag Heidi Muster\n\nIhre Buchung ist bestätigt.")
    assert "Wann: Dienstag, 7. Januar 2025, 10:00–11:00 (Europe/Zurich)" in confirmation.body
    assert "bis 24 Stunden vor dem Termin" in confirmation.body
    ((html, _mimetype),) = confirmation.alternatives
    assert '<html lang="de">' in str(html) and "Ihre Buchung ist bestätigt" in str(html)
    (calendar,) = [a for a in confirmation.attachments if "calendar" in str(a.get_content_type())]
    ics = calendar.get_payload(decode=True).decode().replace("\r\n ", "")
    assert "SUMMARY:Haarschnitt – Salon Alpha" in ics
    assert "Zum Stornieren oder Verschieben" in ics
    # The partner's notice stays in the platform's language (the admin's).
    (notice,) = [m for m in mail.outbox if m.to == ["owner@alpha.example"]]
    assert notice.subject.startswith("New booking: Haircut")


def test_later_emails_keep_the_booking_language_whoever_triggers_them(
    client: Client, haarschnitt: Service, django_capture_on_commit_callbacks
) -> None:
    booking = _book_on_the_page(client, **{"accept-language": "it"})
    assert booking.language == "it"
    mail.outbox.clear()
    # Cancelled from an English-speaking context (a worker runs with the default language).
    with translation.override("en"), django_capture_on_commit_callbacks(execute=True):
        services.booking_cancel(booking=booking, reason="", actor=MANAGE_LINK_CUSTOMER)
    (cancelled,) = [m for m in mail.outbox if m.to == ["heidi@example.ch"]]
    # No Italian name was given for the service: the default name, the Italian text around it.
    assert cancelled.subject == (
        "Prenotazione annullata: Haircut presso Salon Alpha, "
        "Martedì 7 Gennaio 2025, 10:00–11:00 (Europe/Zurich)"
    )
    assert "la Sua prenotazione è stata annullata." in cancelled.body


def test_a_move_keeps_the_language(
    client: Client, haarschnitt: Service, django_capture_on_commit_callbacks
) -> None:
    booking = _book_on_the_page(client, **{"accept-language": "fr"})
    mail.outbox.clear()
    with django_capture_on_commit_callbacks(execute=True):
        moved = services.booking_reschedule(
            booking=booking, new_start=zurich(2025, 1, 8, 14), actor=MANAGE_LINK_CUSTOMER
        )
    assert moved.language == "fr"
    subjects = sorted(m.subject for m in mail.outbox if m.to == ["heidi@example.ch"])
    assert subjects[0].startswith("Mise à jour du calendrier : Haircut chez Salon Alpha")
    assert subjects[1] == (
        "Réservation déplacée : Haircut chez Salon Alpha, désormais le "
        "mercredi 8 janvier 2025, 14:00–15:00 (Europe/Zurich)"
    )


def test_an_email_sent_again_later_is_still_in_the_booking_language(
    client: Client, haarschnitt: Service
) -> None:
    booking = _book_on_the_page(client, **{"accept-language": "de"})
    mail.outbox.clear()
    send_booking_event(booking_id=booking.pk, event="confirmed", audience="customer")
    (again,) = mail.outbox
    assert again.subject.startswith("Buchung bestätigt: Haarschnitt")


def test_the_reminder_is_in_the_booking_language(client: Client, haarschnitt: Service) -> None:
    booking = _book_on_the_page(client, **{"accept-language": "de"})
    mail.outbox.clear()
    # The periodic job runs in a worker, in the platform's default language.
    with (
        time_machine.travel(datetime(2025, 1, 6, 9, 0, tzinfo=UTC), tick=False),
        translation.override("en"),
    ):
        reminders_send_due()
    (reminder,) = mail.outbox
    assert reminder.to == [booking.customer_email]
    assert reminder.subject == (
        "Erinnerung: Haarschnitt am Dienstag, 7. Januar 2025, 10:00–11:00 (Europe/Zurich)"
    )
    assert "Dies ist eine Erinnerung an Ihren Termin." in reminder.body
    ((html, _mimetype),) = reminder.alternatives
    assert '<html lang="de">' in str(html) and "Haarschnitt" in str(html)


def test_lost_links_come_in_the_language_of_the_page_asked_from(
    client: Client, haarschnitt: Service, django_capture_on_commit_callbacks
) -> None:
    _book_on_the_page(client, **{"accept-language": "de"})
    mail.outbox.clear()
    with django_capture_on_commit_callbacks(execute=True):
        response = client.post(
            "/lost-link/salon-alpha/",
            {"email": "heidi@example.ch"},
            headers={"accept-language": "fr"},
        )
    assert response.status_code == 200
    (links,) = mail.outbox
    assert "voici de nouveaux liens privés" in links.body
    ((html, _mimetype),) = links.alternatives
    assert '<html lang="fr">' in str(html)


def test_a_renewed_link_comes_in_the_booking_language(
    client: Client, haarschnitt: Service, django_capture_on_commit_callbacks
) -> None:
    booking = _book_on_the_page(client, **{"accept-language": "de"})
    mail.outbox.clear()
    with translation.override("en"), django_capture_on_commit_callbacks(execute=True):
        services.booking_manage_link_rotate(booking=booking, actor=MANAGE_LINK_CUSTOMER)
    (links,) = mail.outbox
    assert "Hier sind neue private Links" in links.body and "Haarschnitt" in links.body


def test_the_database_refuses_a_language_the_platform_lacks(
    client: Client, service: Service
) -> None:
    from django.db import IntegrityError, transaction

    booking = _book_on_the_page(client)
    assert booking.language == "en"
    with pytest.raises(IntegrityError), transaction.atomic():
        Booking.objects.filter(pk=booking.pk).update(language="es")
    with pytest.raises(IntegrityError), transaction.atomic():
        ServiceTranslation.objects.create(service=service, language="xx", name="X")


# --- the widget API ------------------------------------------------------------------------------


def test_the_widget_api_speaks_the_requested_language(client: Client, haarschnitt) -> None:
    services_ = client.get(
        "/api/v1/partners/salon-alpha/services/", headers={"accept-language": "de"}
    ).json()
    assert [s["name"] for s in services_["services"]] == ["Haarschnitt"]
    catalogue = client.get(
        "/api/v1/partners/salon-alpha/messages", headers={"accept-language": "de"}
    )
    assert catalogue.status_code == 200
    body = catalogue.json()
    assert body["language"] == "de"
    assert body["messages"]["Book an appointment"] == "Termin buchen"
    assert body["messages"]["Times in %(zone)s"] == "Zeiten in %(zone)s"
    english = client.get("/api/v1/partners/salon-alpha/messages").json()
    assert english == {"language": "en", "messages": {}}
    assert client.get("/api/v1/partners/nobody/messages").status_code == 404


def test_a_widget_booking_stores_the_widget_language(client: Client, service: Service) -> None:
    response = client.post(
        "/api/v1/partners/salon-alpha/bookings",
        data=json.dumps(
            {
                "service": "haircut",
                "start": "2025-01-07T10:00:00+01:00",
                "customer_name": "Luca Rossi",
                "customer_email": "luca@example.ch",
            }
        ),
        content_type="application/json",
        headers={"accept-language": "it-CH"},
    )
    assert response.status_code == 201, response.content
    assert Booking.objects.get(customer_email_index=blind_index("luca@example.ch")).language == "it"


# --- error pages ---------------------------------------------------------------------------------


def test_error_pages_are_in_the_visitors_language(client: Client, db) -> None:
    response = client.get("/book/nobody/", headers={"accept-language": "fr"})
    assert response.status_code == 404
    assert "Introuvable" in response.content.decode()
    with translation.override("de"):
        assert "Etwas ist schiefgelaufen" in render_to_string("500.html")
        assert "Zu viele Anfragen" in render_to_string("429.html", {"retry_after": 3})
        assert "Formular abgelaufen" in render_to_string("403_csrf.html")
    with translation.override("it"):
        assert "Richiesta non valida" in render_to_string("400.html")
        assert "Non consentito" in render_to_string("403.html")


def test_a_rate_limited_visitor_is_told_in_their_language(rf) -> None:
    from security.middleware import too_many_requests

    request = rf.get("/book/salon-alpha/", headers={"accept-language": "de-CH"})
    response = too_many_requests(request, 7)
    text = response.content.decode()
    assert response.status_code == 429 and '<html lang="de">' in text
    assert "Zu viele Anfragen von Ihrer Adresse" in text
    assert "Sie können es in 7 Sekunden erneut versuchen." in text
    api = rf.get("/api/v1/partners/x/services/", headers={"accept-language": "it"})
    assert json.loads(too_many_requests(api, 1).content)["message"].startswith("Troppe richieste")


def test_static_files_are_not_split_by_language(client: Client, db) -> None:
    response = client.get("/favicon.ico", headers={"accept-language": "de"})
    assert response.status_code == 200
    assert "Accept-Language" not in response.get("Vary", "")


def test_the_language_never_comes_from_the_path(
    client: Client, haarschnitt: Service, monkeypatch: pytest.MonkeyPatch
) -> None:
    """No URL carries a language prefix, so the path is never asked for one (Django's
    middleware asks on every request, and "/api/..." costs a refused lookup of a language "api"
    each time); the language still comes from Accept-Language, and the answer says it varies."""
    asked: list[str] = []
    original = translation.get_language_from_path

    def spy(path: str) -> str | None:
        asked.append(path)
        return original(path)

    monkeypatch.setattr(translation, "get_language_from_path", spy)
    partner = haarschnitt.partner.slug
    for path in (
        f"/api/v1/partners/{partner}/services/",
        f"/book/{partner}/",
        "/de/",  # a language-looking path is no prefix either: an ordinary 404
    ):
        response = client.get(path, HTTP_ACCEPT_LANGUAGE="de")
        assert response["Content-Language"] == "de", path
        assert "Accept-Language" in response["Vary"], path

    assert asked == []
