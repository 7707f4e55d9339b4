"""C14: staff sessions end on the server after 30 idle minutes or 12 hours; a new id at login;
logout and a password change end sessions in the session store, not only in the browser."""

from __future__ import annotations

from datetime import timedelta
from importlib import import_module

import pytest
import time_machine
from django.conf import settings as django_settings
from django.contrib.auth import get_user_model
from django.test import Client

from tests.otp_login import login_verified

pytestmark = pytest.mark.django_db
User = get_user_model()
PASSWORD = "a long staff passphrase 2026"
START = "2026-03-02 08:00:00Z"


def _store():
    return import_module(django_settings.SESSION_ENGINE).SessionStore


@pytest.fixture
def staff() -> object:
    return User.objects.create_user("staff@example.com", PASSWORD, is_staff=True, is_superuser=True)


def _logged_in_client(user) -> Client:
    client = Client()
    login_verified(client, user)
    return client


def test_idle_session_is_ended_on_the_server(staff) -> None:
    with time_machine.travel(START, tick=False) as traveller:
        client = _logged_in_client(staff)
        key = client.session.session_key
        assert client.get("/admin/").status_code == 200
        traveller.shift(timedelta(minutes=31))

        response = client.get("/admin/booking/booking/")

        assert response.status_code == 302
        assert response["Location"] == "/admin/login/?next=%2Fadmin%2Fbooking%2Fbooking%2F"
        assert not _store()().exists(key)
        page = client.get(response["Location"])
        assert "inactivity" in page.content.decode()
        assert client.get("/admin/").status_code == 302


def test_activity_keeps_the_session_until_the_absolute_limit(staff) -> None:
    with time_machine.travel(START, tick=False) as traveller:
        client = _logged_in_client(staff)
        for _ in range(35):  # every 20 minutes for 11 h 40 min
            traveller.shift(timedelta(minutes=20))
            assert client.get("/admin/").status_code == 200
        traveller.shift(timedelta(minutes=21))  # 12 h 01 min after login

        response = client.get("/admin/", HTTP_ACCEPT="application/json")

        assert response.status_code == 401
        assert response.json()["reason"] == "expired"
        assert client.get("/admin/").status_code == 302


def test_limits_come_from_settings(staff, settings) -> None:
    settings.SESSION_IDLE_TIMEOUT_MINUTES = 5
    with time_machine.travel(START, tick=False) as traveller:
        client = _logged_in_client(staff)
        traveller.shift(timedelta(minutes=4))
        assert client.get("/admin/").status_code == 200
        traveller.shift(timedelta(minutes=6))
        assert client.get("/admin/").status_code == 302


def test_login_gives_a_new_session_id(staff) -> None:
    client = Client()
    store = _store()()
    store["before_login"] = True
    store.create()
    old_key = store.session_key
    client.cookies[django_settings.SESSION_COOKIE_NAME] = old_key

    response = client.post(
        "/admin/login/", {"username": staff.email, "password": PASSWORD, "next": "/admin/"}
    )

    assert response.status_code == 302
    new_key = client.cookies[django_settings.SESSION_COOKIE_NAME].value
    assert new_key != old_key
    assert not _store()().exists(old_key)


def test_logout_deletes_the_session_from_the_store(staff) -> None:
    client = _logged_in_client(staff)
    key = client.session.session_key
    assert _store()().exists(key)

    assert client.post("/admin/logout/").status_code == 200

    assert not _store()().exists(key)
    # Replaying the old cookie gets nowhere.
    replay = Client()
    replay.cookies[django_settings.SESSION_COOKIE_NAME] = key
    assert replay.get("/admin/").status_code == 302


def test_password_change_ends_the_users_other_sessions(staff) -> None:
    here, elsewhere = _logged_in_client(staff), _logged_in_client(staff)
    assert elsewhere.get("/admin/").status_code == 200
    new = "another long passphrase 2027"

    response = here.post(
        "/admin/password_change/",
        {"old_password": PASSWORD, "new_password1": new, "new_password2": new},
    )

    assert response.status_code == 302
    assert here.get("/admin/").status_code == 200  # the session that changed it stays
    assert elsewhere.get("/admin/").status_code == 302  # every other one is over


def test_non_staff_sessions_are_not_touched(settings) -> None:
    user = User.objects.create_user("plain@example.com", PASSWORD)
    with time_machine.travel(START, tick=False) as traveller:
        client = _logged_in_client(user)
        key = client.session.session_key
        traveller.shift(timedelta(hours=2))
        client.get("/book/")
        assert _store()().exists(key)
