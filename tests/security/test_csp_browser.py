"""C06 in a real browser: every page type loads under the strict CSP with zero violations and no
console errors. Chromium reports violations through `securitypolicyviolation` events, which the
`page` fixture records (tests/conftest.py)."""

from __future__ import annotations

import re
from base64 import b32decode
from datetime import time, timedelta

import pytest
from django.core import mail
from django.utils import timezone
from django_otp.oath import totp

from accounts.models import User
from booking import selectors, services
from booking.models import OpeningHours, Partner, Service
from booking.services import CustomerDetails
from tests.actors import BOOKING_CUSTOMER
from tests.otp_login import mfa_device, totp_code
from tests.staffing import team

pytestmark = [pytest.mark.slow, pytest.mark.django_db(transaction=True)]

PASSWORD = "a long operator passphrase 2026"


@pytest.fixture
def site(live_server) -> dict[str, str]:
    partner = Partner.objects.create(
        name="Salon CSP",
        slug="salon-csp",
        time_zone="Europe/Zurich",
        contact_email="csp@salon.example",
    )
    for weekday in range(7):
        OpeningHours.objects.create(partner=partner, weekday=weekday, start=time(8), end=time(18))
    service = Service.objects.create(
        partner=partner, name="Cut", slug="cut", duration_minutes=60, horizon_days=30
    )
    team(partner)
    now = timezone.now()
    first, free = selectors.service_slots(
        service=service,
        window_start=now + timedelta(days=2),
        window_end=now + timedelta(days=4),
        now=now,
    )[:2]
    _, token = services.booking_create(
        service=service,
        start=first,
        customer=CustomerDetails(name="Eve", email="eve@example.com"),
        actor=BOOKING_CUSTOMER,
    )
    User.objects.create_superuser("root@example.com", PASSWORD)
    return {"token": token, "start": free.strftime("%Y-%m-%dT%H:%M:%SZ"), "base": live_server.url}


def _assert_clean(page, url: str, *, expected_status: int = 200) -> None:
    response = page.goto(url)
    assert response is not None and response.status == expected_status, url
    assert "default-src 'self'" in (response.headers.get("content-security-policy") or ""), url
    page.wait_for_load_state("load")
    assert page.evaluate("window.__violations") == [], f"CSP violations on {url}"
    # A 4xx/5xx document is itself logged as a failed resource load; anything else is a problem.
    problems = [p for p in page.problems if "Failed to load resource" not in p]
    assert problems == [], f"console problems on {url}: {problems}"
    page.problems.clear()


def test_public_booking_pages_have_no_csp_violations(page, site) -> None:
    base, token = site["base"], site["token"]
    for url in (
        f"{base}/book/salon-csp/",
        f"{base}/book/salon-csp/cut/",
        f"{base}/book/salon-csp/cut/?tz=Asia/Kolkata",
        f"{base}/book/salon-csp/cut/book/?start={site['start']}",
        f"{base}/manage/{token}/",
        f"{base}/manage/{token}/reschedule/",
        f"{base}/security/policy",
    ):
        _assert_clean(page, url)


def _assert_no_problems(page, where: str) -> None:
    page.wait_for_load_state("load")
    assert page.evaluate("window.__violations") == [], f"CSP violations on {where}"
    problems = [p for p in page.problems if "Failed to load resource" not in p]
    assert problems == [], f"console problems on {where}: {problems}"


def test_admin_login_changelists_and_forms_have_no_csp_violations(page, site) -> None:
    base = site["base"]
    device = mfa_device(User.objects.get(email="root@example.com"))
    _assert_clean(page, f"{base}/admin/login/")
    page.fill("#id_username", "root@example.com")
    page.fill("#id_password", PASSWORD)
    page.click("input[type=submit]")
    page.wait_for_url(f"{base}/account/mfa/verify/**")
    _assert_no_problems(page, "the MFA step")
    page.fill("#id_code", totp_code(device))
    page.click("input[type=submit]")
    page.wait_for_url(f"{base}/admin/")
    assert page.evaluate("window.__violations") == []
    user_id = User.objects.get(email="root@example.com").pk
    partner = Partner.objects.get(slug="salon-csp")
    booking_id = partner.bookings.first().pk
    for url in (
        f"{base}/admin/booking/booking/",
        f"{base}/admin/booking/booking/add/",
        f"{base}/admin/booking/booking/{booking_id}/change/",
        f"{base}/admin/booking/booking/{booking_id}/cancel/",
        f"{base}/admin/booking/booking/{booking_id}/reschedule/",
        f"{base}/admin/booking/booking/calendar/?partner={partner.pk}",
        f"{base}/admin/booking/partner/{partner.pk}/change/",
        f"{base}/admin/booking/service/add/",
        # The special hours page names the partner for an operator (as the closure page does).
        f"{base}/admin/booking/dateoverride/add/?partner={partner.pk}",
        f"{base}/admin/booking/supportgrant/add/",
        f"{base}/admin/",
        f"{base}/admin/accounts/user/",
        f"{base}/admin/accounts/user/?q=root",
        f"{base}/admin/accounts/user/add/",
        f"{base}/admin/accounts/user/{user_id}/change/",
        f"{base}/admin/security/cspreport/",
        f"{base}/admin/auth/group/add/",
        f"{base}/admin/otp_totp/totpdevice/",
        f"{base}/account/mfa/",
    ):
        _assert_clean(page, url)


def test_mfa_enrolment_and_backup_code_pages_have_no_csp_violations(page, site) -> None:
    """First login of a user without MFA: enrolment (QR code image, secret), backup codes, the
    MFA settings page, and the next login with a backup code."""
    base = site["base"]
    page.goto(f"{base}/admin/login/")
    page.fill("#id_username", "root@example.com")
    page.fill("#id_password", PASSWORD)
    page.click("input[type=submit]")
    page.wait_for_url(f"{base}/account/mfa/enrol/**")
    _assert_no_problems(page, "the enrolment page")
    assert (
        page.evaluate("document.querySelector('img.mfa-qr').naturalWidth") > 0
    )  # the SVG rendered
    secret = page.text_content(".mfa-secret").replace(" ", "")
    page.fill("#id_code", f"{totp(b32decode(secret), 30, 0, 6):06d}")
    page.click("input[type=submit]")
    page.wait_for_selector(".mfa-codes")
    _assert_no_problems(page, "the backup codes page")
    backup_code = page.text_content(".mfa-codes li code").strip()
    _assert_clean(page, f"{base}/account/mfa/")
    _assert_clean(page, f"{base}/account/mfa/enrol/?next=/account/mfa/")  # moving to a new phone
    page.click("#logout-form button")
    page.goto(f"{base}/admin/login/")
    page.fill("#id_username", "root@example.com")
    page.fill("#id_password", PASSWORD)
    page.click("input[type=submit]")
    page.wait_for_url(f"{base}/account/mfa/verify/**")
    page.fill("#id_code", backup_code)
    page.click("input[type=submit]")
    page.wait_for_url(f"{base}/admin/")
    _assert_no_problems(page, "the admin after a backup code")


def test_password_reset_pages_have_no_csp_violations(page, site) -> None:
    base = site["base"]
    _assert_clean(page, f"{base}/account/password-reset/")
    page.fill("#id_email", "root@example.com")
    page.click("input[type=submit]")
    page.wait_for_url(f"{base}/account/password-reset/done/")
    _assert_no_problems(page, "reset requested")
    path = re.search(r"https?://[^/\s]+(/account/reset/\S+/)", mail.outbox[-1].body).group(
        1
    )  # SITE_URL's host
    _assert_clean(page, f"{base}/account/reset/MQ/not-a-token/")  # the invalid-link page
    page.goto(f"{base}{path}")
    page.wait_for_url("**/set-password/")
    _assert_no_problems(page, "new password form")
    page.fill("#id_new_password1", "a brand new operator passphrase 2027")
    page.fill("#id_new_password2", "a brand new operator passphrase 2027")
    page.click("input[type=submit]")
    page.wait_for_url(f"{base}/account/reset/done/")
    _assert_no_problems(page, "reset complete")


def test_error_pages_have_no_csp_violations(page, site, settings) -> None:
    base = site["base"]
    _assert_clean(page, f"{base}/no-such-page/", expected_status=404)
    _assert_clean(page, f"{base}/manage/not-a-token/", expected_status=404)
    _assert_clean(page, f"{base}/book/salon-csp/cut/?tz=Not/AZone", expected_status=400)

    # 403: the admin login form posted without its CSRF cookie.
    _assert_clean(page, f"{base}/admin/login/")
    page.context.clear_cookies()
    page.fill("#id_username", "root@example.com")
    page.fill("#id_password", PASSWORD)
    with page.expect_navigation() as navigation:
        page.click("input[type=submit]")
    assert navigation.value.status == 403
    assert page.evaluate("window.__violations") == []
    assert "form has expired" in page.content()

    # 429: the login lockout page, after three wrong passwords from this address (C11).
    for attempt in range(3):
        page.goto(f"{base}/admin/login/")
        page.fill("#id_username", "root@example.com")
        page.fill("#id_password", f"wrong guess {attempt}")
        with page.expect_navigation() as navigation:
            page.click("input[type=submit]")
    assert navigation.value.status == 429
    page.wait_for_load_state("load")
    assert page.evaluate("window.__violations") == []
    assert "locked" in page.content()
    assert [p for p in page.problems if "Failed to load resource" not in p] == []
    page.problems.clear()

    # 429: a tight limit on the manage pages.
    settings.RATE_LIMITS = {**settings.RATE_LIMITS, "manage": {"rate": "1/m", "fail_open": False}}
    page.goto(f"{base}/manage/first/")
    _assert_clean(page, f"{base}/manage/second/", expected_status=429)

    # 500: a view that fails, under DEBUG off (the production error page).
    settings.ROOT_URLCONF = "tests.security.crash_urls"
    _assert_clean(page, f"{base}/__crash__/", expected_status=500)
