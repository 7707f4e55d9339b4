"""One-time backup codes (C13): shown once, stored only as salted hashes, each accepted once at
the MFA step; a verified user can replace them all (the old ones stop working)."""

from __future__ import annotations

import pytest
from django.apps import apps
from django.contrib.auth import get_user_model
from django.test import Client

from accounts import backup_codes
from accounts.models import BackupCode
from security.models import SecurityEvent
from tests.accounts.mfa_pages import (
    BACKUP_CODES,
    EMAIL,
    PASSWORD,
    SETTINGS,
    VERIFY,
    enrol,
    shown_codes,
)
from tests.otp_login import login_verified, password_login

pytestmark = pytest.mark.django_db


@pytest.fixture
def codes(after_password) -> list[str]:
    """The user's backup codes, as the enrolment showed them (the session is verified)."""
    return enrol(after_password)


def _fresh_login() -> Client:
    client = Client()
    assert password_login(client, EMAIL, PASSWORD).status_code == 302
    return client


def _every_value_in_the_database() -> str:
    values = []
    for model in apps.get_models():
        values.extend(str(row) for row in model._default_manager.values_list())
    return "\n".join(values)


def test_the_database_holds_no_usable_code(codes) -> None:
    stored = _every_value_in_the_database()
    for code in codes:
        assert code not in stored and backup_codes.normalise(code) not in stored
        assert code.upper() not in stored
    # What is stored does not work as a code either.
    client = _fresh_login()
    for row in BackupCode.objects.all()[:2]:
        for value in (row.code_hash, row.salt, row.code_hash[:12]):
            assert client.post(VERIFY, {"code": value}).status_code == 200
    assert client.get("/admin/").status_code == 302


def test_a_backup_code_works_once(codes) -> None:
    first = _fresh_login()
    assert first.post(VERIFY, {"code": codes[0]}).status_code == 302
    assert first.get("/admin/").status_code == 200
    assert BackupCode.objects.count() == 9

    second = _fresh_login()
    response = second.post(VERIFY, {"code": codes[0]})
    assert response.status_code == 200 and "was used already" in response.content.decode()
    assert second.get("/admin/").status_code == 302


def test_case_spaces_and_hyphens_do_not_matter(codes) -> None:
    typed = " " + codes[1].upper().replace("-", " ") + " "
    assert _fresh_login().post(VERIFY, {"code": typed}).status_code == 302


def test_using_one_is_logged_with_the_count_left(codes) -> None:
    _fresh_login().post(VERIFY, {"code": codes[2]})

    success = SecurityEvent.objects.filter(event_type="mfa_success").last()
    assert success.detail == {"method": "backup_code", "backup_codes_left": 9}
    used = SecurityEvent.objects.get(event_type="mfa_backup_code_used")
    assert used.actor_email == EMAIL and used.detail == {"backup_codes_left": 9}


def test_running_low_is_pointed_out(codes, frozen_clock) -> None:
    for code in codes[:7]:
        client = _fresh_login()
        response = client.post(VERIFY, {"code": code}, follow=True)
    assert "3 backup codes left" in response.content.decode()


def test_the_settings_page_counts_the_codes_left(codes) -> None:
    client = _fresh_login()
    client.post(VERIFY, {"code": codes[0]})
    response = client.get(SETTINGS)
    assert response.status_code == 200 and "9 unused" in response.content.decode()


def test_new_codes_replace_every_old_one(after_password, codes, frozen_clock) -> None:
    response = after_password.post(BACKUP_CODES)

    assert response.status_code == 200 and "no-store" in response["Cache-Control"]
    new = shown_codes(response.content.decode())
    assert len(new) == 10 and not set(new) & set(codes)
    assert _fresh_login().post(VERIFY, {"code": codes[3]}).status_code == 200
    frozen_clock.shift(2)  # past django-otp's back-off after that failure
    assert _fresh_login().post(VERIFY, {"code": new[0]}).status_code == 302
    event = SecurityEvent.objects.get(event_type="mfa_backup_codes_regenerated")
    assert event.actor_email == EMAIL and event.detail == {"backup_codes": 10}


# --- access ---------------------------------------------------------------------------------------


def test_making_new_codes_needs_a_verified_session(after_password, staff, codes) -> None:
    client = _fresh_login()  # password only
    response = client.post(BACKUP_CODES)
    assert response.status_code == 302 and response["Location"].startswith(VERIFY)
    assert shown_codes(response.content.decode()) == []
    assert not SecurityEvent.objects.filter(event_type="mfa_backup_codes_regenerated").exists()
    assert client.get(SETTINGS).status_code == 302


@pytest.mark.parametrize(("method", "url"), [("get", SETTINGS), ("post", BACKUP_CODES)])
def test_anonymous_is_sent_to_the_login(client, method: str, url: str) -> None:
    response = getattr(client, method)(url)
    assert response.status_code == 302 and response["Location"].startswith("/admin/login/")


def test_users_who_are_not_staff_get_404(client, db) -> None:
    client.force_login(get_user_model().objects.create_user("plain@example.com", PASSWORD))
    assert client.get(SETTINGS).status_code == 404
    assert client.post(BACKUP_CODES).status_code == 404


def test_wrong_methods_are_405(client, staff) -> None:
    login_verified(client, staff)
    assert client.get(BACKUP_CODES).status_code == 405
    assert client.post(SETTINGS).status_code == 405


def test_the_form_needs_its_csrf_token(staff) -> None:
    client = Client(enforce_csrf_checks=True)
    login_verified(client, staff)
    assert client.post(BACKUP_CODES).status_code == 403
    assert not BackupCode.objects.exists()
