"""C13 in a real browser under the strict CSP: a staff user's first login enrols an authenticator
app (the QR code renders, the secret is readable), shows the backup codes once and reaches the
admin; the next login passes with a fresh code from the app. No CSP violation or console error
on any MFA page."""

from __future__ import annotations

from base64 import b32decode

import pytest
from django.contrib.auth import get_user_model
from django_otp.oath import totp
from django_otp.plugins.otp_totp.models import TOTPDevice

pytestmark = [pytest.mark.slow, pytest.mark.django_db(transaction=True)]

EMAIL = "sam@platform.example"
PASSWORD = "a long staff passphrase 2026"


def _clean(page, where: str) -> None:
    page.wait_for_load_state("load")
    assert page.evaluate("window.__violations") == [], f"CSP violations on {where}"
    problems = [p for p in page.problems if "Failed to load resource" not in p]
    assert problems == [], f"console problems on {where}: {problems}"


def _password(page, base: str) -> None:
    page.goto(f"{base}/admin/login/")
    page.fill("#id_username", EMAIL)
    page.fill("#id_password", PASSWORD)
    page.click("input[type=submit]")


def test_first_login_enrols_and_the_next_login_uses_the_app(page, live_server) -> None:
    get_user_model().objects.create_superuser(EMAIL, PASSWORD)
    base = live_server.url

    # First login: the password leads to enrolment, not to the admin.
    _password(page, base)
    page.wait_for_url(f"{base}/account/mfa/enrol/**")
    _clean(page, "enrolment")
    assert (
        page.evaluate("document.querySelector('img.mfa-qr').naturalWidth") > 100
    )  # the SVG QR code
    key = b32decode(page.text_content(".mfa-secret").replace(" ", ""))  # what the phone stores

    page.fill("#id_code", f"{totp(key):06d}")
    page.click("input[type=submit]")
    page.wait_for_selector(".mfa-codes")
    _clean(page, "backup codes")
    codes = [c.strip() for c in page.locator(".mfa-codes code").all_text_contents()]
    assert len(codes) == 10
    assert TOTPDevice.objects.get(user__email=EMAIL, confirmed=True).bin_key == key

    page.click("text=I have saved them: continue")
    page.wait_for_url(f"{base}/admin/")
    assert page.locator("#user-tools").is_visible()
    _clean(page, "admin index")
    page.click("text=Two-factor authentication")
    page.wait_for_url(f"{base}/account/mfa/")
    assert "10 unused" in page.content()
    _clean(page, "MFA settings")

    page.click("#logout-form button")
    page.wait_for_load_state("load")
    page.goto(f"{base}/admin/")
    assert page.url.startswith(f"{base}/admin/login/")

    # Next login: a code of the next time step (the one just used cannot pass again).
    _password(page, base)
    page.wait_for_url(f"{base}/account/mfa/verify/**")
    _clean(page, "the MFA step")
    page.fill("#id_code", f"{totp(key, drift=1):06d}")
    page.click("input[type=submit]")
    page.wait_for_url(f"{base}/admin/")
    _clean(page, "admin index after MFA")


def test_a_wrong_code_shows_an_error_on_the_page(page, live_server) -> None:
    user = get_user_model().objects.create_superuser(EMAIL, PASSWORD)
    device = TOTPDevice.objects.create(user=user, name="phone", confirmed=True)
    base = live_server.url
    right = {f"{totp(device.bin_key, drift=s):06d}" for s in (-1, 0, 1)}

    _password(page, base)
    page.wait_for_url(f"{base}/account/mfa/verify/**")
    page.fill("#id_code", next(c for c in ("000000", "111111", "222222") if c not in right))
    page.click("input[type=submit]")
    page.wait_for_load_state("load")

    assert "That code is not valid" in page.text_content(".errorlist")
    assert "/account/mfa/verify/" in page.url
    _clean(page, "the MFA step with an error")
