"""C31: logins, failures, lockouts, unlocks and password changes land in the security event log,
with the client's address and without any password."""

from __future__ import annotations

import io
import json

import pytest
from django.contrib.auth import get_user_model
from django.core.management import call_command
from django.test import Client

from security.events import verify_chain
from security.models import SecurityEvent
from tests.otp_login import login_verified

pytestmark = pytest.mark.django_db
User = get_user_model()
PASSWORD = "the real passphrase 2026"
WRONG = "my secret wrong guess"


@pytest.fixture
def ada() -> object:
    return User.objects.create_user("ada@example.com", PASSWORD, is_staff=True)


def _login(client: Client, username: str, password: str):
    return client.post(
        "/admin/login/", {"username": username, "password": password, "next": "/admin/"}
    )


def _events(event_type: str) -> list[SecurityEvent]:
    return list(SecurityEvent.objects.filter(event_type=event_type).order_by("id"))


def test_successful_login_is_logged_with_actor_and_address(ada) -> None:
    _login(Client(REMOTE_ADDR="192.0.2.7"), "ada@example.com", PASSWORD)
    (event,) = _events("login_success")
    assert (event.actor_id, event.actor_email, event.ip) == (ada.pk, "ada@example.com", "192.0.2.7")


def test_failed_login_is_logged_without_the_password(ada) -> None:
    _login(Client(REMOTE_ADDR="192.0.2.7"), "ada@example.com", WRONG)
    (event,) = _events("login_failure")
    assert event.ip == "192.0.2.7" and event.target == "ada@example.com"
    assert event.detail["reason"] == "invalid_credentials" and event.actor is None
    everything = json.dumps(list(SecurityEvent.objects.values()), default=str)
    assert WRONG not in everything and PASSWORD not in everything


def test_lockout_and_refusals_while_locked_are_logged_once_each(ada) -> None:
    client = Client(REMOTE_ADDR="192.0.2.8")
    for _ in range(3):
        _login(client, "ada@example.com", WRONG)
    _login(client, "ada@example.com", PASSWORD)

    (lockout,) = _events("lockout")
    assert lockout.ip == "192.0.2.8" and lockout.detail["failure_limit"] == 3
    failures = _events("login_failure")
    assert [e.detail["reason"] for e in failures] == ["invalid_credentials"] * 3 + ["locked_out"]
    assert _events("login_success") == []
    assert verify_chain() == []


def test_unlock_is_logged(ada) -> None:
    client = Client(REMOTE_ADDR="192.0.2.9")
    for _ in range(3):
        _login(client, "ada@example.com", WRONG)
    call_command("axes_reset_ip", "192.0.2.9", stdout=io.StringIO())
    (event,) = _events("unlock")
    assert event.target == "192.0.2.9"


def test_password_change_is_logged_with_the_actor_and_address(ada) -> None:
    client = Client(REMOTE_ADDR="192.0.2.11")
    login_verified(client, ada)
    new = "another long passphrase 2027"
    client.post(
        "/admin/password_change/",
        {"old_password": PASSWORD, "new_password1": new, "new_password2": new},
    )

    (event,) = _events("password_change")
    assert (event.actor_email, event.ip, event.target) == (
        "ada@example.com",
        "192.0.2.11",
        "ada@example.com",
    )
    assert event.detail == {
        "by_self": True,
        "attributed": True,
        "actor_kind": "user",
        "via": "admin",
    }
    assert new not in json.dumps(event.detail)


def test_operator_setting_someone_elses_password_is_logged_as_theirs(ada) -> None:
    root = User.objects.create_superuser("root@example.com", PASSWORD)
    client = Client(REMOTE_ADDR="192.0.2.12")
    login_verified(client, root)
    new = "operator chosen passphrase 2027"
    response = client.post(
        f"/admin/accounts/user/{ada.pk}/password/",
        {"password1": new, "password2": new, "usable_password": "true"},
    )
    assert response.status_code == 302

    (event,) = _events("password_change")
    assert (event.actor_email, event.target, event.detail) == (
        "root@example.com",
        "ada@example.com",
        {"by_self": False, "attributed": True, "actor_kind": "user", "via": "admin"},
    )


def test_creating_a_user_is_not_a_password_change() -> None:
    User.objects.create_user("new@example.com", PASSWORD)
    assert _events("password_change") == []
