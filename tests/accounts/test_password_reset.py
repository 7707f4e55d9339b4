"""Password reset for staff (C11, C12): the request page answers the same whatever the address,
the email's link works once and for an hour, the new password meets the project's rules, and
invalid or forged links count towards the login lockout like wrong passwords."""

from __future__ import annotations

import re
from datetime import timedelta

import pytest
from axes.models import AccessAttempt
from django.contrib.auth import get_user_model
from django.contrib.auth.tokens import default_token_generator
from django.core import mail
from django.test import Client
from django.utils.encoding import force_bytes
from django.utils.http import urlsafe_base64_encode

from security.models import SecurityEvent
from tests.accounts.mfa_pages import EMAIL, PASSWORD
from tests.otp_login import login_verified, password_login

pytestmark = pytest.mark.django_db
REQUEST = "/account/password-reset/"
DONE = "/account/password-reset/done/"
NEW = "a brand new staff passphrase 2027"


def _request_link(client: Client, email: str, capture) -> str:
    """The link from the reset email, as the user receives it (path only)."""
    with capture(execute=True):
        client.post(REQUEST, {"email": email})
    return re.search(r"http://[^/\s]+(/account/reset/\S+/)", mail.outbox[-1].body).group(1)


@pytest.fixture
def reset_link(client, staff, django_capture_on_commit_callbacks) -> str:
    return _request_link(client, EMAIL.upper(), django_capture_on_commit_callbacks)


def _set_password(client: Client, link: str, password: str = NEW):
    form = client.get(link)
    assert form.status_code == 302  # the token moves into the session, out of the URL
    return client.post(form["Location"], {"new_password1": password, "new_password2": password})


def test_the_admin_login_links_to_the_request_page(client) -> None:
    assert f'href="{REQUEST}"' in client.get("/admin/login/").content.decode()
    response = client.get(REQUEST)
    assert response.status_code == 200 and 'name="email"' in response.content.decode()


def test_a_staff_user_gets_one_email_with_a_link(
    client, staff, django_capture_on_commit_callbacks
) -> None:
    with django_capture_on_commit_callbacks(execute=True):
        response = client.post(REQUEST, {"email": EMAIL})

    assert response.status_code == 302 and response["Location"] == DONE
    (message,) = mail.outbox
    assert message.to == [EMAIL] and "/account/reset/" in message.body
    assert message.alternatives and PASSWORD not in message.body
    assert "within 1 hour" in message.body


def test_unknown_and_known_addresses_get_the_same_answer(
    staff, django_capture_on_commit_callbacks
) -> None:
    get_user_model().objects.create_user("customer@example.com", PASSWORD)  # not staff
    answers = []
    with django_capture_on_commit_callbacks(execute=True):
        for email in (EMAIL, "nobody@example.com", "customer@example.com"):
            response = Client().post(REQUEST, {"email": email})
            answers.append((response.status_code, response["Location"], response.content))
    assert answers[0] == answers[1] == answers[2]
    assert [m.to for m in mail.outbox] == [[EMAIL]]


@pytest.mark.parametrize("email", ["", "not an address", "x" * 300 + "@example.com"])
def test_a_malformed_address_is_a_form_error(client, email: str) -> None:
    response = client.post(REQUEST, {"email": email})
    assert response.status_code == 200 and 'class="errorlist' in response.content.decode()


def test_the_link_sets_a_new_password_once(client, staff, reset_link) -> None:
    response = _set_password(client, reset_link)

    assert response.status_code == 302 and response["Location"] == "/account/reset/done/"
    staff.refresh_from_db()
    assert staff.check_password(NEW) and not staff.check_password(PASSWORD)
    assert "_auth_user_id" not in client.session  # a reset does not log in
    # The new password is the password step; MFA still follows.
    assert password_login(Client(), EMAIL, NEW)["Location"].startswith("/account/mfa/verify/")
    # Used once: the same link is now invalid.
    again = Client().get(reset_link)
    assert again.status_code == 200 and "unsuccessful" in again.content.decode().lower()
    event = SecurityEvent.objects.get(event_type="password_change")
    assert event.target == EMAIL


def test_the_new_password_must_meet_the_rules(client, staff, reset_link) -> None:
    response = _set_password(client, reset_link, "short")
    assert response.status_code == 200 and "too short" in response.content.decode()
    staff.refresh_from_db()
    assert staff.check_password(PASSWORD)


def test_the_link_expires_after_an_hour(client, staff, reset_link, frozen_clock) -> None:
    frozen_clock.shift(timedelta(hours=1, seconds=1))
    response = client.get(reset_link)
    assert response.status_code == 200 and "unsuccessful" in response.content.decode().lower()


def test_the_users_other_sessions_end(client, staff, django_capture_on_commit_callbacks) -> None:
    elsewhere = Client()
    login_verified(elsewhere, staff)  # (a login makes older links invalid: this one comes after)
    assert elsewhere.get("/admin/").status_code == 200

    _set_password(client, _request_link(client, EMAIL, django_capture_on_commit_callbacks))

    assert elsewhere.get("/admin/").status_code == 302


def test_forged_links_count_towards_the_lockout(client, staff, reset_link) -> None:
    uid = reset_link.split("/")[3]
    attacker = Client(REMOTE_ADDR="203.0.113.80")
    statuses = [
        attacker.get(f"/account/reset/{uid}/forged-token-{n}/").status_code for n in range(2)
    ]
    statuses.append(attacker.get("/account/reset/not-a-uid/whatever/").status_code)

    assert statuses == [200, 200, 429]  # the third failure locks, like a wrong password
    # Locked: even the real link is refused, unchecked, and the password stays.
    assert attacker.get(reset_link).status_code == 429
    staff.refresh_from_db()
    assert staff.check_password(PASSWORD)
    reasons = [
        e.detail["reason"]
        for e in SecurityEvent.objects.filter(event_type="login_failure").order_by("id")
    ]
    assert reasons == ["invalid_reset_link"] * 3
    assert SecurityEvent.objects.filter(event_type="lockout", ip="203.0.113.80").exists()


def test_a_forged_set_password_post_stores_no_password(client, staff) -> None:
    attacker = Client(REMOTE_ADDR="203.0.113.81")
    attacker.post("/account/reset/MQ/set-password/", {"new_password1": NEW, "new_password2": NEW})
    stored = " ".join(str(v) for v in AccessAttempt.objects.values_list("post_data", "get_data"))
    assert AccessAttempt.objects.exists() and NEW not in stored


def test_a_user_who_is_not_staff_cannot_use_a_link(client, db) -> None:
    plain = get_user_model().objects.create_user("plain@example.com", PASSWORD)
    link = f"/account/reset/{urlsafe_base64_encode(force_bytes(plain.pk))}/{default_token_generator.make_token(plain)}/"
    response = client.get(link)
    assert response.status_code == 200 and "unsuccessful" in response.content.decode().lower()


def test_pages_are_not_cached_and_wrong_methods_are_405(client, reset_link) -> None:
    assert "no-store" in client.get(reset_link)["Cache-Control"]
    assert "no-store" in client.get(REQUEST)["Cache-Control"]
    assert client.put(REQUEST).status_code == 405


def test_a_locked_address_cannot_request_a_reset_link(
    client, staff, django_capture_on_commit_callbacks
) -> None:
    for n in range(3):
        password_login(client, EMAIL, f"wrong passphrase {n}")

    with django_capture_on_commit_callbacks(execute=True):
        response = client.post(REQUEST, {"email": EMAIL})

    assert response.status_code == 429
    assert "locked" in response.content.decode()
    assert mail.outbox == []
