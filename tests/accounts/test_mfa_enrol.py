"""Enrolment of an authenticator app (C13): at the first login (or later, from a verified
session), a QR code and the secret are shown, and only a right first code confirms the device.
An enrolled user cannot enrol a second device with the password alone."""

from __future__ import annotations

from base64 import b32decode

import pytest
from django.contrib.auth import get_user_model
from django.test import Client
from django_otp.plugins.otp_totp.models import TOTPDevice

from accounts.models import BackupCode
from security.models import SecurityEvent
from tests.accounts.mfa_pages import (
    EMAIL,
    ENROL,
    PASSWORD,
    QR,
    SETTINGS,
    VERIFY,
    code_for,
    shown_codes,
    shown_secret,
)
from tests.otp_login import login_verified, password_login

pytestmark = pytest.mark.django_db


def test_first_login_leads_to_enrolment_with_qr_code_and_secret(after_password, staff) -> None:
    response = after_password.get(VERIFY, follow=True)

    assert response.redirect_chain[-1][0] == f"{ENROL}?next=%2Fadmin%2F"
    html = response.content.decode()
    assert f'src="{QR}"' in html
    device = TOTPDevice.objects.get(user=staff)
    assert not device.confirmed  # nothing is enrolled by showing the page
    assert b32decode(shown_secret(html)) == device.bin_key
    assert "no-store" in response["Cache-Control"]


def test_the_qr_code_is_an_svg_of_the_pending_secret_and_never_cached(
    after_password, staff
) -> None:
    after_password.get(ENROL)
    response = after_password.get(QR)

    assert response.status_code == 200
    assert response["Content-Type"] == "image/svg+xml"
    assert "no-store" in response["Cache-Control"]
    svg = response.content.decode()
    assert "<svg" in svg and "<script" not in svg.lower() and "style=" not in svg


def test_reloading_the_page_keeps_the_secret_but_another_session_gets_a_new_one(
    after_password, staff
) -> None:
    first = shown_secret(after_password.get(ENROL).content.decode())
    assert shown_secret(after_password.get(ENROL).content.decode()) == first

    elsewhere = Client()
    password_login(elsewhere, EMAIL, PASSWORD)
    second = shown_secret(elsewhere.get(ENROL).content.decode())

    assert second != first
    # The secret shown to the first session can no longer be confirmed anywhere.
    assert after_password.post(ENROL, {"code": code_for(first)}).status_code == 200
    assert not TOTPDevice.objects.filter(user=staff, confirmed=True).exists()


def test_a_wrong_code_does_not_enrol(after_password, staff) -> None:
    secret = shown_secret(after_password.get(ENROL).content.decode())
    wrong = "123456" if code_for(secret) != "123456" else "654321"

    response = after_password.post(ENROL, {"code": wrong})

    assert response.status_code == 200 and "does not match" in response.content.decode()
    assert not TOTPDevice.objects.filter(user=staff, confirmed=True).exists()
    assert after_password.get("/admin/").status_code == 302
    assert not SecurityEvent.objects.filter(event_type="mfa_enrolled").exists()


def test_the_right_code_enrols_shows_backup_codes_once_and_opens_the_admin(
    after_password, staff
) -> None:
    secret = shown_secret(after_password.get(ENROL).content.decode())

    response = after_password.post(
        f"{ENROL}?next=/admin/booking/booking/", {"code": code_for(secret)}
    )

    assert response.status_code == 200
    assert "no-store" in response["Cache-Control"]
    html = response.content.decode()
    codes = shown_codes(html)
    assert len(codes) == 10 and len(set(codes)) == 10
    assert 'href="/admin/booking/booking/"' in html
    device = TOTPDevice.objects.get(user=staff)
    assert device.confirmed and b32decode(secret) == device.bin_key
    assert BackupCode.objects.filter(device__user=staff).count() == 10
    assert after_password.get("/admin/").status_code == 200
    event = SecurityEvent.objects.get(event_type="mfa_enrolled")
    assert event.actor_email == EMAIL and event.detail["backup_codes"] == 10
    # Shown once: the settings page has the count, not the codes.
    assert not any(code in after_password.get(SETTINGS).content.decode() for code in codes)


def test_the_enrolment_code_cannot_be_used_again_at_the_next_login(after_password, staff) -> None:
    secret = shown_secret(after_password.get(ENROL).content.decode())
    code = code_for(secret)
    after_password.post(ENROL, {"code": code})

    other = Client()
    password_login(other, EMAIL, PASSWORD)
    assert other.post(VERIFY, {"code": code}).status_code == 200
    assert other.get("/admin/").status_code == 302


def test_an_enrolled_user_cannot_enrol_another_device_with_the_password_alone(
    after_password, staff, device
) -> None:
    """The attacker who knows the password: the enrolment page sends them to the MFA step, the
    QR code does not exist for them, and the known device stays the only one."""
    response = after_password.get(ENROL)
    assert response.status_code == 302 and response["Location"].startswith(VERIFY)
    assert after_password.post(ENROL, {"code": "123456"}).status_code == 302
    assert after_password.get(QR).status_code == 404
    assert list(TOTPDevice.objects.filter(user=staff)) == [device]


def test_a_verified_user_moves_to_a_new_phone(client, staff) -> None:
    old = login_verified(client, staff)
    secret = shown_secret(client.get(ENROL).content.decode())
    assert TOTPDevice.objects.get(user=staff, confirmed=True) == old  # still the old one meanwhile

    response = client.post(ENROL, {"code": code_for(secret)})

    assert len(shown_codes(response.content.decode())) == 10
    (new,) = TOTPDevice.objects.filter(user=staff)
    assert new.pk != old.pk and b32decode(secret) == new.bin_key
    assert client.get("/admin/").status_code == 200
    assert SecurityEvent.objects.get(event_type="mfa_enrolled").detail["replaced_devices"] == 1


@pytest.mark.parametrize("typed", ["", "abc", "12 34", "1" * 20])
def test_malformed_enrolment_codes_get_a_form_error(after_password, typed: str) -> None:
    response = after_password.post(ENROL, {"code": typed})
    assert response.status_code == 200 and 'class="errorlist' in response.content.decode()


# --- access ---------------------------------------------------------------------------------------


@pytest.mark.parametrize("url", [ENROL, QR])
def test_anonymous_is_sent_to_the_login(client, url: str) -> None:
    response = client.get(url)
    assert response.status_code == 302 and response["Location"].startswith("/admin/login/")


@pytest.mark.parametrize("url", [ENROL, QR])
def test_users_who_are_not_staff_get_404(client, db, url: str) -> None:
    client.force_login(get_user_model().objects.create_user("plain@example.com", PASSWORD))
    assert client.get(url).status_code == 404


def test_the_qr_code_needs_an_enrolment_in_progress(after_password) -> None:
    assert after_password.get(QR).status_code == 404


def test_wrong_methods_are_405(after_password) -> None:
    assert after_password.put(ENROL).status_code == 405
    assert after_password.post(QR).status_code == 405


def test_another_users_pending_device_is_not_shown(after_password, staff) -> None:
    other = get_user_model().objects.create_user("other@platform.example", PASSWORD, is_staff=True)
    theirs = TOTPDevice.objects.create(user=other, name="pending", confirmed=False)
    session = after_password.session
    session["_accounts_mfa_pending_device"] = theirs.pk
    session.save()

    assert after_password.get(QR).status_code == 404
    assert b32decode(shown_secret(after_password.get(ENROL).content.decode())) != theirs.bin_key
    theirs.refresh_from_db()  # still there, still theirs, still pending
    assert theirs.user == other and not theirs.confirmed


def test_a_pending_qr_code_is_gone_once_the_session_is_no_longer_verified(client, staff) -> None:
    login_verified(client, staff)
    client.get(ENROL)  # moving to a new phone: a pending device in this session
    assert client.get(QR).status_code == 200
    session = client.session
    session.pop("otp_device_id")  # the session is no longer verified (e.g. the device was reset)
    session.save()

    assert client.get(QR).status_code == 404
