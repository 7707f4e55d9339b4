"""Issue #17's "done when", as one owner's session in a real browser under the strict CSP: she
logs in (password, then her authenticator), sees today at a glance in her own zone, books a phone
customer into a free time of tomorrow in two clicks (the free cell, then "Save"), closes the salon
over the holidays and has the affected customer told, and invites a new stylist; she never types
a time in UTC, and no email holds a password. Screenshots land in BROWSER_SHOTS."""

from __future__ import annotations

import os
import re
import tempfile
from datetime import datetime, timedelta
from pathlib import Path

import pytest
from admin_world import A_CUSTOMER, A_EMAIL, build_world
from django.core import mail

from booking.models import Booking, Closure, Invitation
from tests.booking.test_workspace_browser import _no_violations
from tests.otp_login import browser_login, mfa_device
from tests.staffing import TEAM

pytestmark = [pytest.mark.slow, pytest.mark.django_db(transaction=True)]

PASSWORD = "a long partner passphrase 2026"
SHOTS = Path(os.environ.get("BROWSER_SHOTS") or tempfile.mkdtemp(prefix="owner-day-"))


def _shot(page, name: str) -> None:
    page.wait_for_load_state("load")
    page.screenshot(path=str(SHOTS / f"{name}.png"), full_page=True)
    _no_violations(page, name)
    # Every time she sees is in her zone, named; UTC never appears.
    assert "UTC" not in page.inner_text("#content"), f"UTC shown on {name}"


def test_an_owner_runs_her_day_books_a_caller_closes_for_the_holidays_and_invites(
    page, live_server
) -> None:
    world = build_world()
    world.owner.set_password(PASSWORD)
    world.owner.save()
    zone = world.a.zone
    base = live_server.url
    page.set_viewport_size({"width": 1280, "height": 900})

    browser_login(page, base, world.owner.email, PASSWORD, device=mfa_device(world.owner))
    _shot(page, "1-home")
    assert "Times in Europe/Zurich." in page.inner_text("#dashboard")

    # Tomorrow's calendar from the home page, then a free quarter hour: the hand-booking page
    # opens with the person, the day and the time filled in. A caller gives a name and a phone.
    tomorrow = (datetime.now(zone) + timedelta(days=1)).date()
    page.click("text=Today's calendar")
    page.goto(f"{base}/admin/booking/booking/calendar/?day={tomorrow}")
    _shot(page, "2-day-grid")
    page.get_by_role("link", name=f"Book 14:00 with {TEAM}").click()  # click one
    page.wait_for_url("**/add/?**")
    page.fill("input[name=customer_name]", "Carla Caller")
    page.fill("input[name=customer_phone]", "+41 79 555 01 02")
    page.locator("input[type=submit].default").click()  # click two
    page.wait_for_url("**/change/")
    _shot(page, "3-caller-booked")
    caller = Booking.objects.latest("pk")  # names are encrypted: no lookup by name
    assert caller.customer_name == "Carla Caller" and caller.customer_email == ""
    local = caller.start.astimezone(zone)
    assert (local.date(), local.hour, local.minute) == (tomorrow, 14, 0)
    assert caller.status == Booking.Status.CONFIRMED

    # The holidays cover the day of A's customer's booking: shown first, then cancelled with a
    # message to her in her language.
    mail.outbox.clear()
    day = world.a_booking.start.astimezone(zone).date()
    page.goto(f"{base}/admin/")
    page.click("text=Close over dates")
    page.fill("input[name=first_day]", day.isoformat())
    page.fill("input[name=last_day]", (day + timedelta(days=7)).isoformat())
    page.fill("input[name=note]", "Holidays")
    page.click("input[type=submit][value=Continue]")
    page.wait_for_selector(".closure-covered")
    _shot(page, "4-closure-covered")
    assert A_CUSTOMER in page.inner_text(".closure-covered")
    assert not Closure.objects.filter(partner=world.a).exists()  # nothing saved yet
    page.click("button[name=choice][value=cancel]")
    page.wait_for_url("**/admin/booking/closure/")
    _shot(page, "5-closed")
    world.a_booking.refresh_from_db()
    assert world.a_booking.status == Booking.Status.CANCELLED
    told = [m for m in mail.outbox if A_EMAIL in m.to]
    assert len(told) == 1 and "Holidays" in told[0].body

    # A new stylist, invited by email: the email carries a single-use link, never a password.
    mail.outbox.clear()
    page.goto(f"{base}/admin/booking/invitation/add/")
    page.fill("#id_email", "nina.new@example.com")
    page.select_option("#id_role", "member")
    page.click("input[type=submit]")
    page.wait_for_url(f"{base}/admin/booking/invitation/")
    _shot(page, "6-invited")
    (invite,) = mail.outbox
    assert invite.to == ["nina.new@example.com"]
    assert re.search(r"https?://\S+/invitation/\S+/", invite.body)
    assert PASSWORD not in invite.body and "password:" not in invite.body.lower()
    assert Invitation.objects.get(email="nina.new@example.com").partner == world.a
