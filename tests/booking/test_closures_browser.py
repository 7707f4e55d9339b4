"""The closure page and the weekly hours editor in a real browser under the strict CSP, on a
laptop (1280 px) and a phone (390 px): zero CSP violations, nothing cut off, the covered bookings
shown before anything is saved, and the week edited with the keyboard alone. Screenshots land
in BROWSER_SHOTS (default: a temp dir)."""

from __future__ import annotations

import os
import tempfile
from datetime import time
from pathlib import Path

import pytest
from admin_world import A_CUSTOMER, build_world

from booking.models import Booking, Closure, OpeningHours
from tests.booking.test_workspace_browser import _no_violations, _nothing_cut_off
from tests.otp_login import browser_login, mfa_device

pytestmark = [pytest.mark.slow, pytest.mark.django_db(transaction=True)]

PASSWORD = "a long partner passphrase 2026"
SHOTS = Path(os.environ.get("BROWSER_SHOTS") or tempfile.mkdtemp(prefix="closures-"))


def _check(page, name: str, width: int) -> None:
    page.wait_for_load_state("load")
    page.screenshot(path=str(SHOTS / f"{name}-{width}.png"), full_page=True)
    where = f"{name} at {width} px"
    _no_violations(page, where)
    _nothing_cut_off(page, where, laptop=width >= 1280)


@pytest.mark.parametrize("width", [1280, 390])
def test_closing_booked_days_and_editing_the_week(page, live_server, width: int) -> None:
    world = build_world()
    world.owner.set_password(PASSWORD)
    world.owner.save()
    base = live_server.url
    day = world.a_booking.start.astimezone(world.a.zone).date().isoformat()
    page.set_viewport_size({"width": width, "height": 900})
    browser_login(page, base, world.owner.email, PASSWORD, device=mfa_device(world.owner))

    page.goto(f"{base}/admin/")
    page.click("text=Close over dates")
    _check(page, "closure-form", width)
    page.fill("input[name=first_day]", day)
    page.fill("input[name=last_day]", day)
    page.fill("input[name=note]", "Holidays")
    page.click("input[type=submit][value=Continue]")
    page.wait_for_selector(".closure-covered")
    assert A_CUSTOMER in page.inner_text(".closure-covered")
    assert "(Europe/Zurich)" in page.inner_text(".closure-covered")
    assert not Closure.objects.exists()  # shown first: nothing saved
    _check(page, "closure-covered", width)
    page.click("button[value=keep]")
    page.wait_for_url("**/admin/booking/closure/")
    assert Closure.objects.filter(partner=world.a).count() == 1
    world.a_booking.refresh_from_db()
    assert world.a_booking.status == Booking.Status.CONFIRMED
    _check(page, "closures", width)

    page.goto(f"{base}/admin/")
    page.click("text=Weekly hours")
    assert page.locator("fieldset.hours-day").count() == 7
    _check(page, "hours-week", width)
    # Sunday's range emptied and the form sent with the Enter key; the day is then closed.
    page.fill("#id_d6_0_start", "")
    page.fill("#id_d6_0_end", "")
    page.focus("#id_d6_0_end")
    page.keyboard.press("Enter")
    page.wait_for_selector("text=The weekly hours were saved.")
    assert not OpeningHours.objects.filter(partner=world.a, weekday=6).exists()
    assert OpeningHours.objects.get(partner=world.a, weekday=0).end == time(20)
    assert "Closed" in page.inner_text("fieldset.hours-day:last-of-type legend")
    _check(page, "hours-week-saved", width)
