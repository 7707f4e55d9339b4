"""`manage.py mfa_reset EMAIL`: an operator removes a user's MFA devices (logged); sessions that
had passed MFA end, and the user enrols again at the next login."""

from __future__ import annotations

import io
import json

import pytest
from django.contrib.auth import get_user_model
from django.contrib.sessions.models import Session
from django.core.management import call_command
from django.core.management.base import CommandError
from django.test import Client
from django_otp.plugins.otp_totp.models import TOTPDevice

from accounts.models import BackupCode, BackupCodeDevice
from security.events import verify_chain
from security.models import SecurityEvent
from tests.accounts.mfa_pages import EMAIL, ENROL, PASSWORD, VERIFY, enrol
from tests.otp_login import mfa_device, password_login

pytestmark = pytest.mark.django_db


@pytest.fixture
def enrolled_client(after_password) -> Client:
    """A session that went through enrolment for real (verified, with backup codes)."""
    enrol(after_password)
    assert after_password.get("/admin/").status_code == 200
    return after_password


def _reset(*args: str) -> str:
    out = io.StringIO()
    call_command("mfa_reset", *args, stdout=out)
    return out.getvalue()


def test_reset_removes_every_device_and_is_logged(enrolled_client, staff) -> None:
    output = _reset(EMAIL.upper(), "--reason", "lost phone, ticket 4711")

    assert "2 MFA devices removed" in output
    assert not TOTPDevice.objects.filter(user=staff).exists()
    assert (
        not BackupCodeDevice.objects.filter(user=staff).exists() and not BackupCode.objects.exists()
    )
    event = SecurityEvent.objects.get(event_type="mfa_reset")
    assert event.target == EMAIL and event.actor is None
    assert event.detail == {
        "devices_removed": 2,
        "reason": "lost phone, ticket 4711",
        "by": "manage.py mfa_reset",
    }
    assert verify_chain() == []


def test_the_users_verified_session_ends(enrolled_client, staff) -> None:
    key = enrolled_client.session.session_key
    _reset(EMAIL)

    response = enrolled_client.get("/admin/booking/booking/")

    assert response.status_code == 302 and response["Location"] == "/admin/login/"
    assert "_auth_user_id" not in enrolled_client.session
    assert not Session.objects.filter(session_key=key).exists()


def test_the_user_enrols_again_at_the_next_login(enrolled_client, staff) -> None:
    _reset(EMAIL)
    client = Client()
    password_login(client, EMAIL, PASSWORD)

    response = client.get(VERIFY)

    assert response.status_code == 302 and response["Location"].startswith(ENROL)
    assert client.get("/admin/").status_code == 302


def test_a_user_without_devices_is_reset_anyway_and_logged(staff) -> None:
    assert "nothing removed" in _reset(EMAIL)
    assert SecurityEvent.objects.get(event_type="mfa_reset").detail["devices_removed"] == 0


def test_other_users_keep_their_devices(enrolled_client, staff) -> None:

    other = get_user_model().objects.create_user("other@platform.example", PASSWORD, is_staff=True)
    theirs = mfa_device(other)
    _reset(EMAIL)
    assert TOTPDevice.objects.filter(pk=theirs.pk).exists()


def test_unknown_email_is_a_command_error(db) -> None:
    with pytest.raises(CommandError, match="No user with the email address"):
        _reset("nobody@example.com")
    assert not SecurityEvent.objects.filter(event_type="mfa_reset").exists()


def test_the_email_is_required() -> None:
    with pytest.raises(CommandError):
        call_command("mfa_reset")


def test_the_operator_is_told_what_was_removed_and_what_happens_next(
    enrolled_client, staff
) -> None:
    lines = _reset(EMAIL).splitlines()

    assert lines == [
        f"{EMAIL}: 2 MFA devices removed; they set up MFA again at their next login.",
        "Logged as an mfa_reset security event.",
    ]


def test_json_reports_the_reset_as_one_document(enrolled_client, staff) -> None:
    document = json.loads(_reset(EMAIL, "--reason", "ticket 4711", "--json"))

    assert document == {"email": EMAIL, "devices_removed": 2, "reason": "ticket 4711"}
