"""The customer pages in a real browser (C06): book, reschedule and cancel without a single
console error or CSP violation.

A customer in New York (the browser's zone) books at a Zurich partner, choosing New York on the
page. Real time, relative to now: the partner is open every day, so any day works.
"""

from __future__ import annotations

from datetime import UTC, datetime, time, timedelta
from urllib.parse import quote
from zoneinfo import ZoneInfo

import pytest

from booking.models import Booking, OpeningHours, Partner, Service
from tests.staffing import team

ZURICH = ZoneInfo("Europe/Zurich")
NEW_YORK = ZoneInfo("America/New_York")

pytestmark = [pytest.mark.slow, pytest.mark.django_db(transaction=True)]


@pytest.fixture
def shop(live_server) -> Service:
    partner = Partner.objects.create(
        name="Salon Browser",
        slug="salon-browser",
        time_zone="Europe/Zurich",
        contact_email="owner@browser.example",
        cancellation_cutoff_hours=24,
    )
    for weekday in range(7):
        OpeningHours.objects.create(partner=partner, weekday=weekday, start=time(8), end=time(18))
    service = Service.objects.create(
        partner=partner,
        name="Haircut",
        slug="haircut",
        duration_minutes=60,
        min_notice_minutes=60,
        horizon_days=30,
    )
    team(partner)
    return service


def _zurich_utc(day: datetime, hour: int) -> datetime:
    return datetime.combine(day.date(), time(hour), tzinfo=ZURICH).astimezone(UTC)


def _slot_param(moment: datetime) -> str:
    return quote(moment.strftime("%Y-%m-%dT%H:%M:%SZ"), safe="")


def _assert_clean(page) -> None:
    assert page.evaluate("window.__violations") == [], "CSP violations"
    assert page.problems == []


def test_customer_books_reschedules_and_cancels(page, shop: Service, live_server, tmp_path) -> None:
    today = datetime.now(ZURICH)
    first = _zurich_utc(today + timedelta(days=3), 10)  # 04:00 or 05:00 in New York, same date
    second = _zurich_utc(today + timedelta(days=4), 15)

    # 1. The week of times: the browser is in New York, so the page shows New York by itself.
    page.goto(f"{live_server.url}/book/salon-browser/haircut/")
    page.wait_for_url("**tz=America%2FNew_York**")
    assert "Times in America/New_York" in page.inner_text("main")
    page.screenshot(path=str(tmp_path / "week-browser-zone.png"), full_page=False)
    _assert_clean(page)
    # A zone chosen in the menu is kept (the page does not switch back), and back again.
    page.select_option("#tz", "Europe/Zurich")
    page.get_by_role("button", name="Show").click()
    page.wait_for_url("**tz=Europe%2FZurich**")
    assert "Times in Europe/Zurich" in page.inner_text("main")
    page.wait_for_timeout(300)
    assert "tz=Europe%2FZurich" in page.url
    page.select_option("#tz", "America/New_York")
    page.get_by_role("button", name="Show").click()
    page.wait_for_url("**tz=America%2FNew_York**")
    assert "Times in America/New_York" in page.inner_text("main")
    _assert_clean(page)

    # 2. The slot, then the form showing both zones.
    page.locator(f'a.slot[href*="start={_slot_param(first)}"]').click()
    page.wait_for_url("**/book/?start=**")
    summary = page.inner_text(".summary")
    assert (
        first.astimezone(NEW_YORK).strftime("%H:%M") in summary and "(America/New_York)" in summary
    )
    assert "10:00–11:00" in summary and "(Europe/Zurich)" in summary
    page.get_by_label("Name").fill("Grace Hopper")
    page.get_by_label("Email").fill("grace@example.com")
    page.get_by_label("Notes (optional)").fill("<img src=x onerror=alert(1)>")
    page.get_by_role("button", name="Book").click()

    # 3. Confirmation with the private link.
    page.wait_for_url("**/manage/**created=1**")
    banner = page.inner_text(".alert.success")
    assert "You're booked!" in banner
    manage_link = page.locator(".manage-link a").get_attribute("href")
    assert manage_link.startswith(f"{live_server.url}/manage/")
    assert "<img src=x onerror=alert(1)>" in page.inner_text(".details")  # shown as text, not run
    booking = Booking.objects.get()
    assert booking.start == first and booking.status == Booking.Status.CONFIRMED
    assert (
        booking.customer_name == "Grace Hopper" and booking.notes == "<img src=x onerror=alert(1)>"
    )
    _assert_clean(page)

    # 4. Reschedule to another time; the page moves to the new booking's link.
    page.get_by_role("link", name="Choose another time").click()
    page.wait_for_url("**/reschedule/**")
    page.locator(f'button.slot[value="{second.strftime("%Y-%m-%dT%H:%M:%SZ")}"]').click()
    # 4a. The confirmation step: both times, what happens; nothing moved yet.
    page.wait_for_url("**/reschedule/confirm/**")
    confirm = page.inner_text("main")
    assert "Move your booking?" in confirm and "this link stops working" in confirm
    assert second.astimezone(NEW_YORK).strftime("%H:%M") in confirm
    assert Booking.objects.get(pk=booking.pk).status == Booking.Status.CONFIRMED
    _assert_clean(page)
    page.get_by_role("button", name="Move my booking").click()
    page.wait_for_url("**rescheduled=1**")
    assert "Your booking was moved" in page.inner_text("main")
    assert second.astimezone(NEW_YORK).strftime("%H:%M") in page.inner_text(".details")
    old = Booking.objects.get(pk=booking.pk)
    new = Booking.objects.get(rescheduled_from=old)
    assert old.status == Booking.Status.CANCELLED
    assert new.start == second and new.status == Booking.Status.CONFIRMED
    new_link = page.url.split("?")[0]
    assert new_link != manage_link
    _assert_clean(page)

    # 5. Cancel, through its confirmation step.
    page.get_by_role("link", name="Cancel this booking").click()
    page.wait_for_url("**/cancel/confirm/**")
    assert "This cannot be undone" in page.inner_text("main")
    page.screenshot(path=str(tmp_path / "cancel-confirm.png"), full_page=True)
    _assert_clean(page)
    page.get_by_label("Reason (optional)").fill("Plans changed")
    page.get_by_role("button", name="Cancel this booking").click()
    page.wait_for_selector("text=This booking is cancelled.")
    new.refresh_from_db()
    assert new.status == Booking.Status.CANCELLED and new.cancellation_reason == "Plans changed"
    assert page.locator("form[action$='/cancel/']").count() == 0

    # 6. The current link still opens the (cancelled) booking; the one from before the move,
    # revoked by it, opens nothing.
    page.goto(new_link)
    assert "Cancelled" in page.inner_text(".details")
    _assert_clean(page)
    assert page.goto(manage_link).status == 404


def test_customer_chooses_a_person_and_sees_them_on_the_confirmation(
    page, shop: Service, live_server
) -> None:
    from tests.staffing import person

    every_day = {d: [(time(8), time(18))] for d in range(7)}
    person(shop.partner, "Anna", hours=every_day, order=1)
    person(shop.partner, "Ben", hours={d: [(time(14), time(18))] for d in range(7)}, order=2)

    # In the partner's zone, chosen (the browser's, New York, would be the default).
    page.goto(f"{live_server.url}/book/salon-browser/haircut/?tz=Europe%2FZurich")
    page.get_by_role("link", name="Ben").click()
    page.wait_for_url("**staff=**")
    times = page.locator("a.slot").all_inner_texts()
    assert times and all("14:00" <= t <= "17:00" for t in times)
    _assert_clean(page)

    page.locator("a.slot").first.click()
    page.wait_for_url("**/book/?start=**")
    assert "Ben" in page.inner_text(".summary")
    page.get_by_label("Name").fill("Grace Hopper")
    page.get_by_label("Email").fill("grace@example.com")
    page.get_by_role("button", name="Book").click()
    page.wait_for_url("**/manage/**created=1**")
    assert page.inner_text(".staff-name") == "Ben"
    assert Booking.objects.get().staff.name == "Ben"
    _assert_clean(page)


def test_without_javascript_the_zone_menu_still_works(browser, shop: Service, live_server) -> None:
    from tests.conftest import open_page

    context = browser.new_context(
        timezone_id="America/New_York", locale="en-US", java_script_enabled=False
    )
    try:
        page = open_page(context)
        page.goto(f"{live_server.url}/book/salon-browser/haircut/")
        assert "Times in Europe/Zurich" in page.inner_text("main")  # the partner's zone
        page.select_option("#tz", "Asia/Tokyo")
        page.get_by_role("button", name="Show").click()
        page.wait_for_url("**tz=Asia%2FTokyo**")
        assert "Times in Asia/Tokyo" in page.inner_text("main")
        assert page.problems == []
    finally:
        context.close()
