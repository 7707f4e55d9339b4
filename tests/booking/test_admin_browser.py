"""A partner owner in a real browser under the strict CSP: logs in through the admin form, sees
its week with its bookings, cancels one (the customer gets the email), and cannot reach the
other partner's booking by search, filter, calendar or URL."""

from __future__ import annotations

import pytest
from admin_world import A_CUSTOMER, A_EMAIL, B_CUSTOMER, B_SERVICE, build_world
from django.core import mail

from booking.models import Booking
from tests.otp_login import browser_login, mfa_device

pytestmark = [pytest.mark.slow, pytest.mark.django_db(transaction=True)]

PASSWORD = "a long partner passphrase 2026"


def _no_violations(page, where: str) -> None:
    assert page.evaluate("window.__violations") == [], f"CSP violations on {where}"
    problems = [p for p in page.problems if "Failed to load resource" not in p]
    assert problems == [], f"console problems on {where}: {problems}"


def test_owner_manages_own_week_and_cannot_reach_the_other_partner(page, live_server) -> None:
    world = build_world()
    world.owner.set_password(PASSWORD)
    world.owner.save()
    base = live_server.url
    week = world.a_booking.start.astimezone(world.a.zone).date().isoformat()

    browser_login(page, base, world.owner.email, PASSWORD, device=mfa_device(world.owner))

    page.goto(f"{base}/admin/booking/booking/calendar/?week={week}")
    page.wait_for_load_state("load")
    assert page.locator(".cal-day").count() == 7
    booking_link = page.locator(".cal-booking a", has_text=A_CUSTOMER)
    assert booking_link.count() == 1
    # The stylesheet applies: a table on a laptop-sized window, a column per staff member.
    assert page.evaluate("getComputedStyle(document.querySelector('.cal-week')).display") == (
        "table"
    )
    assert page.locator("thead th.cal-staff").count() == 2
    _no_violations(page, "calendar")

    page.set_viewport_size({"width": 390, "height": 844})  # a phone: a list of days
    assert page.evaluate("getComputedStyle(document.querySelector('.cal-week')).display") == (
        "block"
    )
    page.set_viewport_size({"width": 1280, "height": 800})

    booking_link.click()
    page.wait_for_url(f"**/admin/booking/booking/{world.a_booking.pk}/change/")
    assert A_EMAIL in page.content()
    _no_violations(page, "booking page")
    page.click("text=Cancel booking")
    page.fill("textarea[name=reason]", "The salon is closed that day")
    _no_violations(page, "cancel page")
    page.click("input[type=submit][value^='Cancel']")
    page.wait_for_url(f"**/admin/booking/booking/{world.a_booking.pk}/change/")
    world.a_booking.refresh_from_db()
    assert world.a_booking.status == Booking.Status.CANCELLED
    assert any(A_EMAIL in m.to and "cancel" in m.subject.lower() for m in mail.outbox)
    _no_violations(page, "booking page after cancelling")

    # The other partner's booking: not by search, filter, calendar or URL.
    page.goto(f"{base}/admin/booking/booking/?q=Bartholomew")
    assert B_CUSTOMER not in page.content() and "0 results" in page.content()
    page.goto(f"{base}/admin/booking/booking/?service__id__exact={world.b_service.pk}")
    assert B_CUSTOMER not in page.content() and B_SERVICE not in page.content()
    other_week = world.b_booking.start.astimezone(world.b.zone).date().isoformat()
    page.goto(f"{base}/admin/booking/booking/calendar/?partner={world.b.pk}&week={other_week}")
    assert B_CUSTOMER not in page.content() and world.a.name in page.content()
    page.goto(f"{base}/admin/booking/booking/{world.b_booking.pk}/change/")
    assert page.url == f"{base}/admin/" and "doesn’t exist" in page.content()
    assert B_CUSTOMER not in page.content()
    _no_violations(page, "foreign booking URL")
