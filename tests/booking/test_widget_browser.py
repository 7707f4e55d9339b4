"""The embeddable widget in a real browser against the real API (C05, C06).

Three origins on this machine:
- the booking platform: Django's live server at http://localhost:<port> (API + widget script);
- a partner's website at http://127.0.0.1:<port> that the partner registered;
- another website at http://127.0.0.1:<other port> that nobody registered.
The partner sites send a strict CSP of their own, so the widget must also work without inline
code or styles there. No mocks: the visitor books through the widget and the row appears.
"""

from __future__ import annotations

import threading
from collections.abc import Iterator
from datetime import time
from html import escape
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from urllib.parse import parse_qs, urlsplit

import pytest

from booking.models import Booking, OpeningHours, Partner, Service, ServiceTranslation
from booking.services import CustomerDetails
from tests.actors import BOOKING_CUSTOMER
from tests.staffing import team

SLUG = "salon-widget"

pytestmark = [pytest.mark.slow, pytest.mark.django_db(transaction=True)]

PAGE = """<!doctype html>
<html lang="en">
<head><meta charset="utf-8"><title>Salon Widget Test</title></head>
<body>
<h1>Salon Widget Test</h1>
<div id="booking-widget"></div>
<script src="{api}/static/widget/booking.js" data-partner="{slug}"{lang} defer></script>
</body>
</html>
"""


class _PartnerSite:
    """A tiny website on its own origin that embeds the widget, with a strict CSP of its own.
    `?lang=xx` in a page's address gives the widget's script data-lang="xx"."""

    def __init__(self, api: str) -> None:
        csp = (
            f"default-src 'none'; script-src {api}; style-src {api}; connect-src {api}; "
            "img-src 'none'; base-uri 'none'; form-action 'none'; frame-ancestors 'none'"
        )

        class Handler(BaseHTTPRequestHandler):
            def do_GET(self) -> None:
                lang = parse_qs(urlsplit(self.path).query).get("lang", [""])[0]
                attribute = f' data-lang="{escape(lang)}"' if lang else ""
                html = PAGE.format(api=api, slug=SLUG, lang=attribute).encode()
                self.send_response(200)
                self.send_header("Content-Type", "text/html; charset=utf-8")
                self.send_header("Content-Security-Policy", csp)
                self.send_header("Content-Length", str(len(html)))
                self.end_headers()
                self.wfile.write(html)

            def log_message(self, *args: object) -> None:
                pass

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.origin = f"http://127.0.0.1:{self.server.server_address[1]}"
        self.thread = threading.Thread(target=self.server.serve_forever, daemon=True)
        self.thread.start()

    def close(self) -> None:
        self.server.shutdown()
        self.server.server_close()


@pytest.fixture
def sites(live_server) -> Iterator[tuple[_PartnerSite, _PartnerSite]]:
    registered, unregistered = _PartnerSite(live_server.url), _PartnerSite(live_server.url)
    try:
        yield registered, unregistered
    finally:
        registered.close()
        unregistered.close()


@pytest.fixture
def shop(sites: tuple[_PartnerSite, _PartnerSite]) -> Partner:
    registered, _ = sites
    partner = Partner.objects.create(
        name="Salon Widget",
        slug=SLUG,
        time_zone="Europe/Zurich",
        contact_email="owner@widget.example",
        cancellation_cutoff_hours=24,
        widget_origins=registered.origin,
    )
    # Open every day, so there are free times whatever day the test runs.
    for weekday in range(7):
        OpeningHours.objects.create(partner=partner, weekday=weekday, start=time(7), end=time(21))
    Service.objects.create(
        partner=partner,
        name="Colour",
        slug="colour",
        duration_minutes=90,
        min_notice_minutes=60,
        horizon_days=30,
    )
    Service.objects.create(
        partner=partner,
        name="Haircut",
        slug="haircut",
        duration_minutes=30,
        min_notice_minutes=60,
        horizon_days=30,
    )
    team(partner)
    return partner


def test_visitor_books_through_the_widget_on_a_registered_site(
    page, sites, shop: Partner, live_server
) -> None:
    registered, _ = sites
    page.goto(f"{registered.origin}/salon.html")

    page.locator(".bw-service-button", has_text="Haircut").click()
    first_slot = page.locator(".bw-slot").first
    first_slot.wait_for()
    assert "New_York" in page.locator(".bw-zone").inner_text()
    start = first_slot.get_attribute("data-start")
    first_slot.click()

    page.get_by_label("Name").fill("Grace Hopper")
    page.get_by_label("Email").fill("grace@example.com")
    page.get_by_label("Phone (optional)").fill("+41 79 000 00 00")
    page.get_by_label("Notes (optional)").fill("<img src=x onerror=alert(1)>")
    page.locator(".bw-submit").click()

    manage = page.locator("a.bw-manage")
    manage.wait_for()
    href = manage.get_attribute("href")
    assert href.startswith(f"{live_server.url}/manage/")

    booking = Booking.objects.get()
    assert booking.partner == shop
    assert booking.service.slug == "haircut"
    assert booking.customer_name == "Grace Hopper"
    assert booking.customer_email == "grace@example.com"
    assert booking.notes == "<img src=x onerror=alert(1)>"
    assert booking.time_zone == "America/New_York"  # the visitor's zone, for the emails
    assert start  # the slot the visitor clicked is the one booked
    from datetime import datetime

    assert booking.start == datetime.fromisoformat(start.replace("Z", "+00:00"))
    assert page.locator(".bw-done").inner_text() == "Booked!"
    assert page.locator(".bw-when").inner_text().endswith("(America/New_York)")
    assert page.evaluate("window.__violations") == []
    assert page.errors == []


def test_unregistered_site_is_told_clearly_and_books_nothing(page, sites, shop: Partner) -> None:
    _, unregistered = sites
    page.goto(f"{unregistered.origin}/other.html")
    alert = page.locator(".bw-message-error")
    alert.wait_for()
    assert alert.inner_text() == f"This website is not allowed to show bookings for {SLUG}."
    assert page.locator(".bw-service-button").count() == 0
    assert Booking.objects.count() == 0
    assert page.errors == []


def test_slot_taken_meanwhile_is_reported_and_the_week_reloaded(page, sites, shop: Partner) -> None:
    from datetime import datetime

    from booking import services

    registered, _ = sites
    page.goto(f"{registered.origin}/salon.html")
    page.locator(".bw-service-button", has_text="Haircut").click()
    slot = page.locator(".bw-slot").first
    slot.wait_for()
    start = slot.get_attribute("data-start")
    slot.click()
    # Someone else books the same time while our visitor types.
    services.booking_create(
        service=shop.services.get(slug="haircut"),
        start=datetime.fromisoformat(start.replace("Z", "+00:00")),
        customer=CustomerDetails(name="Someone Else", email="else@example.com"),
        actor=BOOKING_CUSTOMER,
    )
    page.get_by_label("Name").fill("Grace Hopper")
    page.get_by_label("Email").fill("grace@example.com")
    page.locator(".bw-submit").click()
    taken = page.locator(".bw-taken")
    taken.wait_for()
    assert "just taken" in taken.inner_text()
    assert page.locator(f'.bw-slot[data-start="{start}"]').count() == 0
    assert Booking.objects.count() == 1


def test_invalid_email_shows_the_field_error(page, sites, shop: Partner) -> None:
    registered, _ = sites
    page.goto(f"{registered.origin}/salon.html")
    page.locator(".bw-service-button", has_text="Haircut").click()
    page.locator(".bw-slot").first.click()
    page.get_by_label("Name").fill("Grace Hopper")
    # Bypass the browser's own email check to reach the API's validation.
    page.locator("form.bw-form").evaluate("form => { form.noValidate = true; }")
    page.get_by_label("Email").fill("not-an-email")
    page.locator(".bw-submit").click()
    error = page.locator(".bw-field-error:not([hidden])")
    error.wait_for()
    assert error.inner_text()
    assert page.get_by_label("Email").get_attribute("aria-invalid") == "true"
    assert Booking.objects.count() == 0


def test_a_paid_service_through_the_widget_is_held_and_sent_to_the_payment_page(
    page, sites, shop: Partner, live_server, settings
) -> None:
    from decimal import Decimal

    settings.PAYMENTS_ENABLED = True  # booking only needs to know payments are on
    Service.objects.create(
        partner=shop,
        name="Balayage",
        slug="balayage",
        duration_minutes=60,
        min_notice_minutes=60,
        horizon_days=30,
        price=Decimal("95.00"),
        currency="CHF",
    )
    team(shop)
    registered, _ = sites
    page.goto(f"{registered.origin}/salon.html")
    balayage = page.locator(".bw-service-button", has_text="Balayage")
    # Paid before booking, said before the customer chooses it...
    assert "CHF 95.00, paid by card when booking" in balayage.inner_text()
    balayage.click()
    page.locator(".bw-slot").first.click()
    # ...and again on the form, whose button says where it leads; the time with its zone.
    hint = page.locator(".bw-message-info").first.inner_text()
    assert "paid when booking: CHF 95.00 by card" in hint
    assert page.locator(".bw-submit").inner_text() == "Continue to payment"
    assert page.locator(".bw-when").inner_text().endswith("(America/New_York)")
    page.get_by_label("Name").fill("Grace Hopper")
    page.get_by_label("Email").fill("grace@example.com")
    page.locator(".bw-submit").click()
    pay = page.locator("a.bw-manage", has_text="Pay now")
    pay.wait_for()
    assert page.locator(".bw-done").inner_text() == "Almost done: pay to confirm"
    assert "held for you until" in page.locator(".bw-message-info").last.inner_text()
    assert pay.get_attribute("href").startswith(f"{live_server.url}/manage/")
    assert pay.get_attribute("href").endswith("/pay/")
    booking = Booking.objects.get()
    assert booking.status == Booking.Status.PENDING_PAYMENT  # never confirmed before it is paid
    assert page.evaluate("window.__violations") == [] and page.errors == []


def test_the_widget_speaks_its_data_lang_and_books_in_it(page, sites, shop: Partner) -> None:
    """The partner's page says data-lang="de" to a visitor whose browser is English: texts,
    service names, dates and the booking's language follow data-lang, without a CSP violation
    on a page with a strict CSP of its own."""
    ServiceTranslation.objects.create(
        service=shop.services.get(slug="haircut"), language="de", name="Haarschnitt"
    )
    registered, _ = sites
    page.goto(f"{registered.origin}/salon.html?lang=de")
    page.locator(".bw-step", has_text="Leistung wählen").wait_for()
    page.locator(".bw-service-button", has_text="Haarschnitt").click()
    page.locator(".bw-slot").first.wait_for()
    assert page.locator(".bw-zone").inner_text() == "Zeiten in America/New_York"
    page.locator(".bw-slot").first.click()
    page.get_by_label("Name", exact=True).fill("Heidi Muster")
    page.get_by_label("E-Mail", exact=True).fill("heidi@example.ch")
    page.get_by_label("Telefon (optional)").fill("+41 79 000 00 00")
    page.locator(".bw-submit", has_text="Buchen").click()
    page.locator(".bw-done", has_text="Gebucht!").wait_for()
    assert Booking.objects.get().language == "de"
    assert page.evaluate("window.__violations") == []
    assert page.errors == []


def test_without_data_lang_the_widget_follows_the_browser(browser, sites, shop: Partner) -> None:
    from tests.conftest import open_page

    registered, _ = sites
    context = browser.new_context(timezone_id="Europe/Zurich", locale="fr-CH")
    try:
        page = open_page(context)
        page.goto(f"{registered.origin}/salon.html")
        page.locator(".bw-step", has_text="Choisir un service").wait_for()
        assert page.evaluate("window.__violations") == []
        assert page.errors == []
    finally:
        context.close()


def test_visitor_chooses_a_person_in_the_widget_and_sees_them_named(
    page, sites, shop: Partner, live_server
) -> None:
    """Service, then "anyone" or a person, then a time: the booking is with that person."""
    from tests.staffing import person

    every_day = {d: [(time(7), time(21))] for d in range(7)}
    person(shop, "Anna", hours=every_day, order=1)
    ben = person(shop, "Ben", hours=every_day, order=2)
    registered, _ = sites
    page.goto(f"{registered.origin}/salon.html")

    page.locator(".bw-service-button", has_text="Haircut").click()
    page.locator(".bw-person-button", has_text="Anyone").wait_for()
    assert page.locator(".bw-person-button").all_inner_texts() == ["Anyone", "Team", "Anna", "Ben"]
    page.locator(".bw-person-button", has_text="Ben").click()
    page.locator(".bw-slot").first.click()
    assert page.locator(".bw-staff").first.inner_text() == "With Ben"
    page.get_by_label("Name").fill("Grace Hopper")
    page.get_by_label("Email").fill("grace@example.com")
    page.locator(".bw-submit").click()
    page.locator("a.bw-manage").wait_for()

    assert Booking.objects.get().staff == ben
    assert page.locator(".bw-done ~ .bw-staff").inner_text() == "With Ben"
    assert page.evaluate("window.__violations") == []
    assert page.errors == []
