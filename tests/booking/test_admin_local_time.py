"""Every date and time a partner's user sees in the workspace is in the partner's zone, the zone
named; operators, who work across partners, read UTC, labelled.

The partner is in Asia/Kolkata (UTC+05:30) and every moment in its data is at 7 minutes past a
UTC hour: a time shown in UTC ends in :07, the same time in Kolkata in :37. The owner's session
follows every admin link from the home page (changelists, change forms, the calendar and its
day view, confirmations) and no page may say "UTC" or show a time ending in :07."""

from __future__ import annotations

import re
from collections import deque
from datetime import UTC, datetime, timedelta
from html.parser import HTMLParser
from typing import Any
from urllib.parse import urljoin, urlsplit

import pytest
import time_machine
from admin_world import make_booking, make_hold, make_paid, make_user, open_every_day
from django.contrib.admin.helpers import ACTION_CHECKBOX_NAME
from django.core import mail
from django.test import Client

from booking import feeds, services
from booking.models import (
    Booking,
    CalendarFeedScope,
    PartnerMembership,
    Service,
    StaffAbsence,
    SupportGrant,
)
from booking.roles import PARTNER_OWNER, SUPPORT, roles_ensure
from payments.models import Payment
from security.actors import Actor, Via
from tests.otp_login import login_verified
from tests.staffing import team

pytestmark = pytest.mark.django_db

NOW = datetime(2026, 12, 1, 3, 7, tzinfo=UTC)  # 08:37 in Kolkata
# 04:07, 4:07 a.m., 4.07, 4h07; not inside a random token.
UTC_TIME = re.compile(r"(?<![A-Za-z0-9])\d{1,2}[:.h]07(?![A-Za-z0-9])")
KOLKATA = "Asia/Kolkata"


class _Links(HTMLParser):
    def __init__(self) -> None:
        super().__init__()
        self.links: list[str] = []

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        for name, value in attrs:
            if name == "href" and tag == "a" and value:
                self.links.append(value)


def _links(base: str, html: str) -> list[str]:
    parser = _Links()
    parser.feed(html)
    return [urljoin(base, link) for link in parser.links]


@pytest.fixture
def kolkata(settings: object) -> dict[str, object]:
    from booking.models import Partner

    roles_ensure()
    with time_machine.travel(NOW, tick=False):
        partner = Partner.objects.create(
            name="Masala Mane", slug="masala", time_zone=KOLKATA, contact_email="m@masala.example"
        )
        open_every_day(partner)
        service = Service.objects.create(
            partner=partner,
            name="Threading",
            slug="threading",
            duration_minutes=60,
            min_notice_minutes=0,
            price=50000,
            currency="INR",
        )
        person = team(partner)
        start = datetime(2026, 12, 1, 4, 7, tzinfo=UTC)  # 09:37 in Kolkata, today
        confirmed = make_booking(service, start)
        make_booking(service, start + timedelta(days=1), status=Booking.Status.CANCELLED)
        hold = make_booking(service, start + timedelta(hours=2))
        make_hold(hold, NOW + timedelta(minutes=15))
        make_paid(confirmed, 50000, currency="INR")
        StaffAbsence.objects.create(
            staff=person, starts_at=start + timedelta(days=2), ends_at=start + timedelta(days=3)
        )
        owner = make_user("owner@masala.example", group=PARTNER_OWNER)
        PartnerMembership.objects.create(
            partner=partner, user=owner, role=PartnerMembership.Role.OWNER
        )
        support = make_user("support@platform.example", group=SUPPORT)
        SupportGrant.objects.create(
            partner=partner,
            granted_to=support,
            granted_by=owner,
            reason="Ticket 7",
            expires_at=NOW + timedelta(hours=2),
        )
        moved = make_booking(service, start + timedelta(hours=4))
        services.booking_reschedule(
            booking=moved,
            new_start=start + timedelta(hours=5, minutes=23),  # 15:00 in Kolkata
            actor=Actor.user(owner),
        )
        # The feeds page shows when the owner's feed was made.
        feeds.calendar_feed_create(actor=Actor.user(owner), scope=CalendarFeedScope.ALL)
    return {"owner": owner, "partner": partner, "confirmed": confirmed, "hold": hold}


# The partner's time zone is chosen from a list of every IANA zone, UTC among them.
ZONE_CHOICES = re.compile(r'<select name="time_zone".*?</select>', re.DOTALL)


def _assert_local(url: str, text: str) -> None:
    text = ZONE_CHOICES.sub("", text)
    # A word: random tokens (CSRF) may hold the letters.
    assert re.search(r"\bUTC\b", text) is None, f"{url} says UTC"
    assert "+00:00" not in text, f"{url} shows a UTC offset"
    found = UTC_TIME.search(text)
    assert found is None, f"{url} shows a UTC time: …{text[found.start() - 60 : found.end() + 20]}…"


def test_every_admin_page_of_a_kolkata_partner_is_in_kolkata_time(
    kolkata: dict[str, object],
) -> None:
    client = Client()
    login_verified(client, kolkata["owner"])
    seen: set[str] = set()
    queue = deque(["/admin/"])
    pages = 0
    with time_machine.travel(NOW + timedelta(minutes=1), tick=False):
        while queue:
            url = queue.popleft()
            if url in seen:
                continue
            seen.add(url)
            response = client.get(url)
            # 403: a read-only login field links to the accounts admin, which is not theirs.
            assert response.status_code in (200, 302, 403), (url, response.status_code)
            if response.status_code != 200:
                continue
            pages += 1
            text = response.content.decode()
            _assert_local(url, text)
            if "html" not in response["Content-Type"]:
                continue
            for link in _links(url, text):
                parts = urlsplit(link)
                if parts.netloc or not parts.path.startswith("/admin/"):
                    continue
                if "logout" in parts.path or parts.path.startswith("/admin/r/"):
                    continue
                if "/delete/" in parts.path:
                    continue
                # Sorting and paging repeat the same rows.
                if "o=" in parts.query or "p=" in parts.query:
                    continue
                target = parts.path + (f"?{parts.query}" if parts.query else "")
                if target not in seen and len(seen) + len(queue) < 400:
                    queue.append(target)
        # The crawl reached the pages that show times.
        for needed in (
            "/admin/booking/booking/calendar/",
            "/admin/booking/booking/calendar/feeds/",
            "/admin/payments/payment/",
            "/cancel/",
        ):
            assert any(needed in url for url in seen), needed
        assert pages > 30

        # The confirmations reached by a POSTed action: cancel and refund.
        confirmed, hold = kolkata["confirmed"], kolkata["hold"]
        assert isinstance(confirmed, Booking) and isinstance(hold, Booking)
        page = client.post(
            "/admin/booking/booking/",
            {"action": "cancel_selected", ACTION_CHECKBOX_NAME: [confirmed.pk, hold.pk]},
        )
        assert page.status_code == 200
        _assert_local("cancel_selected", page.content.decode())
        assert "09:37 (Asia/Kolkata)" in page.content.decode()
        payment = Payment.objects.get(booking=confirmed)
        page = client.post(
            "/admin/payments/payment/",
            {"action": "refund_in_full", ACTION_CHECKBOX_NAME: [payment.pk]},
        )
        assert page.status_code == 200
        _assert_local("refund_in_full", page.content.decode())
        assert "09:37 (Asia/Kolkata)" in page.content.decode()


def test_booking_page_names_the_partner_zone(kolkata: dict[str, object]) -> None:
    client = Client()
    login_verified(client, kolkata["owner"])
    booking = kolkata["confirmed"]
    assert isinstance(booking, Booking)
    page = client.get(f"/admin/booking/booking/{booking.pk}/change/").content.decode()
    assert "Threading at 2026-12-01 09:37 (Asia/Kolkata)" in page  # the title
    assert "2026-12-01 08:37 (Asia/Kolkata)" in page  # created at
    listing = client.get("/admin/payments/payment/").content.decode()
    assert "2026-12-01 08:37 (Asia/Kolkata)" in listing  # paid at, created at


def test_operators_read_utc_labelled(kolkata: dict[str, object]) -> None:
    operator = make_user("root@platform.example", superuser=True)
    client = Client()
    login_verified(client, operator)
    booking = kolkata["confirmed"]
    assert isinstance(booking, Booking)
    page = client.get(f"/admin/booking/booking/{booking.pk}/change/").content.decode()
    assert "Threading at 2026-12-01 04:07 (UTC)" in page
    listing = client.get("/admin/payments/payment/").content.decode()
    assert "2026-12-01 03:07 (UTC)" in listing


def test_csv_export_is_in_the_partner_zone(kolkata: dict[str, object]) -> None:
    client = Client()
    login_verified(client, kolkata["owner"])
    response = client.get("/admin/booking/booking/export/")
    text = response.content.decode()
    _assert_local("export", text)
    assert "2026-12-01T08:37:00+05:30" in text  # created at


def test_partner_email_is_in_the_partner_zone(
    kolkata: dict[str, object], django_capture_on_commit_callbacks: Any
) -> None:
    confirmed = kolkata["confirmed"]
    assert isinstance(confirmed, Booking)
    booking = make_booking(confirmed.service, confirmed.start + timedelta(days=3))
    mail.outbox.clear()
    with time_machine.travel(NOW, tick=False), django_capture_on_commit_callbacks(execute=True):
        services.booking_cancel(
            booking=booking, reason="", actor=Actor.customer(via=Via.MANAGE_LINK)
        )
    to_partner = [m for m in mail.outbox if "m@masala.example" in m.to]
    assert to_partner
    for message in to_partner:
        _assert_local("email", message.subject + message.body)
        assert "09:37" in message.body and KOLKATA in message.body
