"""The partner's workspace in a real browser under the strict CSP, on a laptop (1280 px) and a
phone (390 px): the home page with today's day, the week and day calendars and the bookings
list load with zero CSP violations, nothing is cut off, and no list bullet strays into the
calendar. Screenshots land in BROWSER_SHOTS (default: a temp dir)."""

from __future__ import annotations

import os
import tempfile
from datetime import datetime, timedelta
from pathlib import Path

import pytest
from admin_world import A_CUSTOMER, build_world, make_booking, make_hold, make_paid

from booking import services
from booking.models import Booking, StaffAbsence, StaffMember
from security.actors import Actor
from tests.otp_login import browser_login, mfa_device
from tests.staffing import TEAM

pytestmark = [pytest.mark.slow, pytest.mark.django_db(transaction=True)]

PASSWORD = "a long partner passphrase 2026"
SHOTS = Path(os.environ.get("BROWSER_SHOTS") or tempfile.mkdtemp(prefix="workspace-"))
WIDTHS = (1280, 390)


def _no_violations(page, where: str) -> None:
    assert page.evaluate("window.__violations") == [], f"CSP violations on {where}"
    problems = [p for p in page.problems if "Failed to load resource" not in p]
    assert problems == [], f"console problems on {where}: {problems}"


def _nothing_cut_off(page, where: str, *, laptop: bool) -> None:
    """No table cell hides part of its text (the "Confirmec" of a clipped status column), the
    page is no wider than the window, and on a laptop no list scrolls sideways either."""
    clipped = page.evaluate(
        """() => [...document.querySelectorAll('#content td, #content th')]
            .filter(c => c.scrollWidth > c.clientWidth + 1 && getComputedStyle(c).overflow !== 'visible')
            .map(c => c.innerText)"""
    )
    assert clipped == [], f"clipped cells on {where}: {clipped}"
    overflow = page.evaluate("document.documentElement.scrollWidth - window.innerWidth")
    assert overflow <= 0, f"{where} is {overflow} px wider than the window"
    if laptop:
        hidden = page.evaluate(
            """() => [...document.querySelectorAll('#content *')]
                .filter(e => !e.closest('.visually-hidden') && e.scrollWidth > e.clientWidth + 1
                             && ['auto', 'scroll', 'hidden'].includes(getComputedStyle(e).overflowX))
                .map(e => `${e.tagName}.${e.className}`)"""
        )
        assert hidden == [], f"cut off on {where}: {hidden}"


def _no_bullets(page, where: str) -> None:
    bullets = page.evaluate(
        """() => [...document.querySelectorAll('#content li')]
            .filter(li => getComputedStyle(li).display === 'list-item'
                          && getComputedStyle(li).listStyleType !== 'none')
            .map(li => li.innerText.slice(0, 40))"""
    )
    assert bullets == [], f"list bullets on {where}: {bullets}"


def test_home_calendar_and_list_at_laptop_and_phone_width(page, live_server) -> None:
    world = build_world()
    world.owner.set_password(PASSWORD)
    world.owner.save()
    zone = world.a.zone
    now = datetime.now(zone)
    today_at_ten = now.replace(hour=10, minute=0, second=0, microsecond=0)
    make_booking(world.a_service, today_at_ten + timedelta(hours=6), staff=world.a_staff)
    hold = make_booking(world.a_service, today_at_ten + timedelta(days=1, hours=3))
    make_hold(hold, now + timedelta(minutes=30))
    make_booking(world.a_service, today_at_ten + timedelta(days=3), status=Booking.Status.CANCELLED)
    make_paid(world.a_booking, 15000)
    moving = make_booking(world.a_service, today_at_ten + timedelta(days=4))
    services.booking_reschedule(
        booking=moving,
        new_start=today_at_ten + timedelta(days=4, hours=5),
        actor=Actor.user(world.owner),
    )
    booked_day = world.a_booking.start.astimezone(zone).replace(hour=14, minute=0)
    StaffAbsence.objects.create(
        staff=world.a_staff, starts_at=booked_day, ends_at=booked_day + timedelta(hours=2)
    )
    base = live_server.url
    browser_login(page, base, world.owner.email, PASSWORD, device=mfa_device(world.owner))
    pages = {
        "home": "/admin/",
        "week": f"/admin/booking/booking/calendar/?week={world.a_booking.start.date()}",
        "day": f"/admin/booking/booking/calendar/?day={world.a_booking.start.astimezone(zone).date()}",
        "week-grid": (
            f"/admin/booking/booking/calendar/?week={world.a_booking.start.date()}"
            f"&staff={world.a_staff.pk}"
        ),
        "bookings": "/admin/booking/booking/?show=all",
        "payments": "/admin/payments/payment/",
        "book-by-hand": (
            f"/admin/booking/booking/add/?service={world.a_service.pk}&staff={world.a_staff.pk}"
            f"&day={world.a_booking.start.astimezone(zone).date()}"
        ),
    }
    for width in WIDTHS:
        page.set_viewport_size({"width": width, "height": 900})
        for name, path in pages.items():
            page.goto(f"{base}{path}")
            page.wait_for_load_state("load")
            where = f"{name} at {width} px"
            page.screenshot(path=str(SHOTS / f"{name}-{width}.png"), full_page=True)
            _no_violations(page, where)
            _nothing_cut_off(page, where, laptop=width >= 1280)
            _no_bullets(page, where)
        page.goto(f"{base}/admin/")
        assert page.locator("#dashboard").count() == 1
        assert A_CUSTOMER not in page.inner_text("#dashboard")  # two days from now
        assert "Unpaid hold" in page.inner_text("#dashboard")
    page.set_viewport_size({"width": 1280, "height": 900})
    page.goto(f"{base}/admin/booking/booking/?show=all")
    assert "CHF 150.00 · Paid" in page.inner_text("#result_list")
    assert page.locator("#result_list a", has_text="(Europe/Zurich)").count() >= 1  # moved to
    # The day grid: a free quarter hour is a link (named for screen readers) to book by hand
    # with that person at that time; the page it opens has them filled in.
    day = (now + timedelta(days=1)).date()
    page.goto(f"{base}/admin/booking/booking/calendar/?day={day}")
    free = page.get_by_role("link", name=f"Book 11:00 with {TEAM}")
    free.focus()
    assert free.evaluate("e => getComputedStyle(e).outlineStyle") == "solid"  # visible focus
    page.screenshot(path=str(SHOTS / "day-focus-1280.png"), full_page=True)
    free.click()
    page.wait_for_url("**/add/?**")
    assert page.locator("select[name=staff]").input_value() == str(
        StaffMember.objects.get(partner=world.a, name=TEAM).pk
    )
    assert page.locator("input[name=start]").input_value() == f"{day}T11:00"
    assert page.locator("select[name=service]").input_value() == str(world.a_service.pk)
    # The person's free times that day beside it (the service's starts are on the hour).
    assert page.locator(".free-time-links a[aria-current=true]", has_text="11:00").count() == 1
    page.screenshot(path=str(SHOTS / "book-from-grid-1280.png"), full_page=True)
    _no_violations(page, "booking by hand from the day grid")
    # A walk-in: a name, no email; the booking page says nobody is written to.
    page.fill("input[name=customer_name]", "Walter Walkin")
    page.locator("input[type=submit].default").click()
    page.wait_for_url("**/change/")
    assert "no emails are sent to them" in page.inner_text(".messagelist")
    assert "This customer has no email address" in page.inner_text("#content")
    page.screenshot(path=str(SHOTS / "walk-in-booked-1280.png"), full_page=True)
    _no_violations(page, "a walk-in's booking page")
    # Booking by hand without JavaScript: a free time is a link that fills in the start.
    page.goto(f"{base}{pages['book-by-hand']}")
    page.locator(".free-time-links a").first.click()
    page.wait_for_url("**start=**")
    assert page.locator("input[name=start]").input_value() != ""
    _no_violations(page, "booking by hand")
