"""A salon with several people, in a real browser under the strict CSP: a customer books a chosen
person on the booking pages, the owner logs in with MFA and
finds the booking in that person's calendar column, in her colour; then books a walk-in by hand
with the same person's free times. Screenshots land in BROWSER_SHOTS (default: a temp dir)."""

from __future__ import annotations

import os
import tempfile
from datetime import datetime, time, timedelta
from pathlib import Path

import pytest
from admin_world import A_STYLIST, build_world

from booking.models import Booking
from security.fieldcrypto import blind_index
from tests.otp_login import browser_login, mfa_device

pytestmark = [pytest.mark.slow, pytest.mark.django_db(transaction=True)]

PASSWORD = "a long partner passphrase 2026"
SHOTS = Path(os.environ.get("BROWSER_SHOTS") or tempfile.mkdtemp(prefix="staff-admin-"))


def _no_violations(page, where: str) -> None:
    assert page.evaluate("window.__violations") == [], f"CSP violations on {where}"
    problems = [p for p in page.problems if "Failed to load resource" not in p]
    assert problems == [], f"console problems on {where}: {problems}"


def _rgb(colour: str) -> str:
    r, g, b = (int(colour[i : i + 2], 16) for i in (1, 3, 5))
    return f"rgb({r}, {g}, {b})"


def test_a_customer_books_a_person_and_the_owner_sees_it_in_her_column(page, live_server) -> None:
    world = build_world()
    world.owner.set_password(PASSWORD)
    world.owner.save()
    stylist = world.a_staff
    stylist.colour = "#b03a48"
    stylist.save()
    base = live_server.url
    zone = world.a.zone
    today = datetime.now(zone).date()
    monday = today + timedelta(days=14 - today.weekday())

    # The customer, on the booking page: the service, then the person, then a time that day.
    day = monday.isoformat()
    page.set_viewport_size({"width": 1280, "height": 900})
    page.goto(f"{base}/book/{world.a.slug}/{world.a_service.slug}/?week={day}&tz=Europe%2FZurich")
    page.get_by_role("link", name=A_STYLIST).click()
    page.wait_for_url("**staff=**")
    page.locator(f'a.slot[href*="start={day}"]').first.click()
    page.wait_for_url("**/book/?start=**")
    assert A_STYLIST in page.inner_text(".summary")
    page.get_by_label("Name").fill("Clara Chosenone")
    page.get_by_label("Email").fill("clara@customer.example")
    page.get_by_role("button", name="Book").click()
    page.wait_for_url("**/manage/**created=1**")
    assert page.inner_text(".staff-name") == A_STYLIST
    _no_violations(page, "customer booking pages")
    booking = Booking.objects.get(customer_email_index=blind_index("clara@customer.example"))
    assert booking.staff == stylist

    # The owner: MFA login, the week with a column per person.
    browser_login(page, base, world.owner.email, PASSWORD, device=mfa_device(world.owner))
    page.set_viewport_size({"width": 1280, "height": 900})
    page.goto(f"{base}/admin/booking/booking/calendar/?week={day}")
    page.wait_for_load_state("load")
    heads = page.locator("thead th.cal-staff")
    assert heads.all_inner_texts() == ["Team", A_STYLIST]
    row = page.locator(f'tr.cal-day[data-date="{day}"]')
    her_cell = row.locator(f'td[data-staff="{stylist.pk}"]')
    assert her_cell.locator(".cal-booking", has_text="Clara Chosenone").count() == 1
    assert row.locator("td", has_text="Clara Chosenone").count() == 1  # in her column only
    local = booking.start.astimezone(zone).strftime("%H:%M")
    assert local in her_cell.inner_text()
    # Her colour, from the generated stylesheet (no inline styles under the CSP).
    head = page.locator(f"th.cal-staff-{stylist.pk}")
    assert head.evaluate("e => getComputedStyle(e).borderTopColor") == _rgb(stylist.colour)
    assert "Europe/Zurich" in page.content()
    page.screenshot(path=str(SHOTS / "calendar-1280.png"), full_page=True)
    _no_violations(page, "calendar")

    # The day view: a time grid, the booking under her name.
    page.goto(f"{base}/admin/booking/booking/calendar/?day={day}")
    head = page.locator(f'.g-head[data-staff="{stylist.pk}"]').bounding_box()
    card = page.locator(f'.g-booking[data-staff="{stylist.pk}"]').bounding_box()
    assert head and card and head["x"] <= card["x"] < head["x"] + head["width"]
    assert card["y"] > head["y"] + head["height"] and card["height"] > 30  # an hour, not a line
    page.screenshot(path=str(SHOTS / "day-1280.png"), full_page=True)
    _no_violations(page, "day view")
    page.goto(f"{base}/admin/booking/booking/calendar/?week={day}")

    # A phone: the days become a list, each person's name shown in their cell.
    page.set_viewport_size({"width": 390, "height": 844})
    assert her_cell.evaluate("e => getComputedStyle(e).display") == "block"
    page.screenshot(path=str(SHOTS / "calendar-390.png"), full_page=True)
    page.set_viewport_size({"width": 1280, "height": 900})

    # Her set-up: hours, services, absences (typed in the partner's zone, which is named).
    page.goto(f"{base}/admin/booking/staffmember/{stylist.pk}/change/")
    assert "times in Europe/Zurich" in page.content()
    page.screenshot(path=str(SHOTS / "staff-change.png"), full_page=True)
    _no_violations(page, "staff member page")

    # A walk-in by hand: the same person, her free times that day, one of them.
    page.goto(f"{base}/admin/booking/booking/add/")
    page.select_option("select[name=service]", str(world.a_service.pk))
    page.select_option("select[name=staff]", str(stylist.pk))
    page.fill("input[name=day]", day)
    page.click("input[name=show_times]")
    page.wait_for_load_state("load")
    times = page.locator("input[type=radio][name=start]")
    offered = [times.nth(i).get_attribute("value") for i in range(times.count())]
    assert offered and f"{day}T{local}" not in offered  # Clara has that time
    assert f"Free times of {A_STYLIST}" in page.content()
    page.screenshot(path=str(SHOTS / "add-free-times.png"), full_page=True)
    _no_violations(page, "add booking with free times")
    pick = next(v for v in offered if v > f"{day}T12:00")
    page.check(f"input[type=radio][name=start][value='{pick}']")
    page.fill("input[name=customer_name]", "Walter Walkin")
    page.fill("input[name=customer_email]", "walter@customer.example")
    page.click("input[type=submit][value=Book]")
    page.wait_for_url("**/admin/booking/booking/*/change/")
    walk_in = Booking.objects.get(customer_email_index=blind_index("walter@customer.example"))
    assert walk_in.staff == stylist
    assert walk_in.start.astimezone(zone).time() == time.fromisoformat(pick[11:])

    page.goto(f"{base}/admin/booking/booking/calendar/?week={day}")
    her_cell = page.locator(f'tr.cal-day[data-date="{day}"] td[data-staff="{stylist.pk}"]')
    assert her_cell.locator(".cal-booking").count() == 2
    _no_violations(page, "calendar after booking by hand")
