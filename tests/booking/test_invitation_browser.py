"""An invitation in a real browser under the strict CSP: the owner invites a stylist from the
workspace; the stylist, in their own browser, opens the emailed link, sets a password, enrols an
authenticator app through the existing enrolment and lands in the workspace as a member of that
partner. Zero CSP violations or console problems on every page. Screenshots land in
BROWSER_SHOTS (default: a temp dir)."""

from __future__ import annotations

import os
import re
import tempfile
from base64 import b32decode
from pathlib import Path

import pytest
from admin_world import build_world
from django.contrib.auth import get_user_model
from django.core import mail
from django_otp.oath import totp

from tests.conftest import open_page
from tests.otp_login import browser_login, mfa_device

pytestmark = [pytest.mark.slow, pytest.mark.django_db(transaction=True)]

OWNER_PASSWORD = "a long partner passphrase 2026"
NEW_PASSWORD = "lantern harbour quietly 93"
SHOTS = Path(os.environ.get("BROWSER_SHOTS") or tempfile.mkdtemp(prefix="invitation-"))


def _clean(page, where: str) -> None:
    page.wait_for_load_state("load")
    assert page.evaluate("window.__violations") == [], f"CSP violations on {where}"
    problems = [p for p in page.problems if "Failed to load resource" not in p]
    assert problems == [], f"console problems on {where}: {problems}"


def test_an_invited_stylist_sets_a_password_enrols_mfa_and_reaches_the_workspace(
    page, browser, live_server
) -> None:
    world = build_world()
    world.owner.set_password(OWNER_PASSWORD)
    world.owner.save()
    base = live_server.url
    browser_login(page, base, world.owner.email, OWNER_PASSWORD, device=mfa_device(world.owner))

    page.goto(f"{base}/admin/booking/invitation/add/")
    _clean(page, "the invitation form")
    page.fill("#id_email", "nina.new@example.com")
    page.select_option("#id_role", "member")
    page.screenshot(path=str(SHOTS / "invite-form.png"), full_page=True)
    page.click("input[type=submit]")
    page.wait_for_url(f"{base}/admin/booking/invitation/")
    _clean(page, "the invitations list")
    assert "nina.new@example.com" in page.inner_text("#result_list")
    page.screenshot(path=str(SHOTS / "invitations.png"), full_page=True)

    link = re.search(r"https?://\S+/invitation/\S+/", mail.outbox[-1].body).group(0)
    link = base + link[link.index("/invitation/") :]

    # The invitee, in a browser of their own.
    context = browser.new_context(timezone_id="Europe/Zurich", locale="en-US")
    invitee = open_page(context)
    try:
        invitee.goto(link)
        invitee.wait_for_url(f"{base}/invitation/")
        _clean(invitee, "the password page")
        assert "Zephyrine Atelier" in invitee.inner_text("#content")
        invitee.screenshot(path=str(SHOTS / "accept.png"), full_page=True)
        invitee.fill("#id_new_password1", NEW_PASSWORD)
        invitee.fill("#id_new_password2", NEW_PASSWORD)
        invitee.click("input[type=submit]")

        invitee.wait_for_url(f"{base}/account/mfa/enrol/**")
        _clean(invitee, "the MFA enrolment")
        invitee.screenshot(path=str(SHOTS / "enrol.png"), full_page=True)
        key = b32decode(invitee.text_content(".mfa-secret").replace(" ", ""))
        invitee.fill("#id_code", f"{totp(key):06d}")
        invitee.click("input[type=submit]")
        invitee.wait_for_selector(".mfa-codes")
        _clean(invitee, "the backup codes")
        invitee.click("text=I have saved them: continue")
        invitee.wait_for_url(f"{base}/admin/")
        _clean(invitee, "the workspace")
        invitee.screenshot(path=str(SHOTS / "workspace.png"), full_page=True)
        assert "Zephyrine Atelier" in invitee.content()

        # The link worked once.
        invitee.goto(link)
        _clean(invitee, "the used link")
        assert "accepted already" in invitee.inner_text("#content")
    finally:
        context.close()
    user = get_user_model().objects.get(email="nina.new@example.com")
    assert user.membership.partner == world.a and user.membership.role == "member"
