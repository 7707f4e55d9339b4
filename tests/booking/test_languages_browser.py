"""The booking journey in each of the four languages in a real browser: the browser's language
picks the page's, the picker switches it, dates follow the locale, and not one CSP violation or
console error on the way (C06). Real time, relative to now: the partner is open every day."""

from __future__ import annotations

from datetime import UTC, datetime, time, timedelta
from pathlib import Path
from urllib.parse import quote
from zoneinfo import ZoneInfo

import pytest

from booking.models import Booking, Service, ServiceTranslation
from security.fieldcrypto import blind_index
from tests.booking.test_browser import shop  # noqa: F401  (the fixture: a partner open every day)
from tests.conftest import open_page

ZURICH = ZoneInfo("Europe/Zurich")

pytestmark = [pytest.mark.slow, pytest.mark.django_db(transaction=True)]

# browser locale -> what the pages must say in that language
JOURNEY = {
    "en-GB": {
        "lang": "en",
        "service": "Haircut",
        "times": "Times in Europe/Zurich",
        "name": "Name",
        "email": "Email",
        "book": "Book",
        "booked": "You're booked!",
        "cancel": "Cancel this booking",
        "cancelled": "This booking is cancelled.",
    },
    "de-CH": {
        "lang": "de",
        "service": "Haarschnitt",
        "times": "Zeiten in Europe/Zurich",
        "name": "Name",
        "email": "E-Mail",
        "book": "buchen",
        "booked": "Sie sind gebucht!",
        "cancel": "Diese Buchung stornieren",
        "cancelled": "Diese Buchung ist storniert.",
    },
    "fr-CH": {
        "lang": "fr",
        "service": "Coupe",
        "times": "Heures en Europe/Zurich",
        "name": "Nom",
        "email": "E-mail",
        "book": "Réserver",
        "booked": "C’est réservé !",
        "cancel": "Annuler cette réservation",
        "cancelled": "Cette réservation est annulée.",
    },
    "it-CH": {
        "lang": "it",
        "service": "Taglio",
        "times": "Orari in Europe/Zurich",
        "name": "Nome",
        "email": "E-mail",
        "book": "Prenota",
        "booked": "Prenotazione fatta!",
        "cancel": "Annulla questa prenotazione",
        "cancelled": "Questa prenotazione è annullata.",
    },
}


@pytest.fixture
def translated(request: pytest.FixtureRequest) -> Service:
    service = request.getfixturevalue("shop")
    for language, name in (("de", "Haarschnitt"), ("fr", "Coupe"), ("it", "Taglio")):
        ServiceTranslation.objects.create(service=service, language=language, name=name)
    return service


@pytest.fixture
def open_in(browser):
    """open_in(locale): a page whose browser speaks `locale` (its Accept-Language), in Zurich."""
    contexts = []

    def _open(locale: str):
        contexts.append(browser.new_context(timezone_id="Europe/Zurich", locale=locale))
        return open_page(contexts[-1])

    yield _open
    for context in contexts:
        context.close()


def _assert_clean(page) -> None:
    assert page.evaluate("window.__violations") == [], "CSP violations"
    assert page.problems == []


def _slot(day: datetime, hour: int) -> str:
    moment = datetime.combine(day.date(), time(hour), tzinfo=ZURICH).astimezone(UTC)
    return quote(moment.strftime("%Y-%m-%dT%H:%M:%SZ"), safe="")


@pytest.mark.parametrize("locale", list(JOURNEY))
def test_the_booking_journey_in_each_language(
    open_in, translated: Service, live_server, locale: str, tmp_path: Path
) -> None:
    say = JOURNEY[locale]
    page = open_in(locale)
    day = datetime.now(ZURICH) + timedelta(days=2 + list(JOURNEY).index(locale))

    page.goto(f"{live_server.url}/book/salon-browser/")
    assert page.get_attribute("html", "lang") == say["lang"]
    page.get_by_role("link", name=say["service"]).first.click()
    page.wait_for_url("**/haircut/")
    assert say["times"] in page.inner_text("main")
    page.screenshot(path=str(tmp_path / f"service-{say['lang']}.png"), full_page=True)
    _assert_clean(page)

    page.locator(f'a.slot[href*="start={_slot(day, 10)}"]').click()
    page.wait_for_url("**/book/?start=**")
    page.get_by_label(say["name"], exact=True).fill("Anna Beispiel")
    page.get_by_label(say["email"], exact=True).fill("anna@example.ch")
    page.screenshot(path=str(tmp_path / f"book-{say['lang']}.png"), full_page=True)
    page.locator("form.form button[type=submit]").click()
    page.wait_for_url("**/manage/**created=1**")
    assert say["booked"] in page.inner_text(".alert.success")
    assert (
        Booking.objects.get(customer_email_index=blind_index("anna@example.ch")).language
        == say["lang"]
    )
    page.screenshot(path=str(tmp_path / f"manage-{say['lang']}.png"), full_page=True)
    _assert_clean(page)

    # Cancelling asks first (the confirmation step), then the button there cancels.
    page.get_by_role("link", name=say["cancel"]).click()
    page.wait_for_url("**/cancel/confirm/**")
    assert page.get_attribute("html", "lang") == say["lang"]
    _assert_clean(page)
    page.get_by_role("button", name=say["cancel"]).click()
    page.wait_for_selector(f"text={say['cancelled']}")
    _assert_clean(page)


def test_the_picker_switches_the_language_without_a_script(
    open_in, translated: Service, live_server
) -> None:
    page = open_in("de-CH")
    page.goto(f"{live_server.url}/book/salon-browser/haircut/")
    assert page.get_attribute("html", "lang") == "de"
    page.select_option("#language", "fr")
    page.get_by_role("button", name="Sprache wechseln").click()
    page.wait_for_url("**/book/salon-browser/haircut/")
    assert page.get_attribute("html", "lang") == "fr"
    assert "Heures en Europe/Zurich" in page.inner_text("main")
    _assert_clean(page)
