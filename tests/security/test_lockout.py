"""C11, as the attacker: three failed logins lock the client's address; the fourth attempt is
refused even with the right password, costs no password hashing, and says nothing about which
accounts exist. Operators unlock with axes_reset_ip and see the lock in the admin."""

from __future__ import annotations

import re
from datetime import timedelta

import pytest
import time_machine
from axes.models import AccessAttempt
from django.contrib.auth import get_user_model
from django.contrib.auth.hashers import (
    BCryptSHA256PasswordHasher,
    MD5PasswordHasher,
    PBKDF2PasswordHasher,
)
from django.core import mail
from django.core.management import call_command
from django.test import Client

from security.models import SecurityEvent
from tests.otp_login import login_verified

pytestmark = pytest.mark.django_db
User = get_user_model()
PASSWORD = "the real passphrase 2026"
VICTIM = "ada@example.com"
LOGIN = "/admin/login/"


@pytest.fixture
def victim() -> object:
    return User.objects.create_user(VICTIM, PASSWORD, is_staff=True, full_name="Ada")


def _login(client: Client, username: str, password: str, **extra: str):
    return client.post(
        LOGIN, {"username": username, "password": password, "next": "/admin/"}, **extra
    )


def _fail_three_times(client: Client, username: str = VICTIM, **extra: str) -> list[int]:
    return [
        _login(client, username, f"wrong guess number {n}", **extra).status_code for n in range(3)
    ]


@pytest.fixture
def hash_calls(monkeypatch: pytest.MonkeyPatch) -> list[str]:
    """Every password hash computed or verified, by any hasher in use."""
    calls: list[str] = []
    for cls in (MD5PasswordHasher, BCryptSHA256PasswordHasher, PBKDF2PasswordHasher):
        for name in ("verify", "encode"):
            original = getattr(cls, name)

            def counted(self, *args, _original=original, _name=name, **kwargs):
                calls.append(f"{type(self).__name__}.{_name}")
                return _original(self, *args, **kwargs)

            monkeypatch.setattr(cls, name, counted)
    return calls


def test_fourth_attempt_is_refused_even_with_the_correct_password(client, victim) -> None:
    assert _fail_three_times(client) == [200, 200, 429]  # the third failure locks

    response = _login(client, VICTIM, PASSWORD)

    assert response.status_code == 429
    assert "_auth_user_id" not in client.session
    assert client.get("/admin/").status_code == 302  # still not logged in
    html = response.content.decode()
    assert "locked" in html and "try again after" in html
    assert int(response["Retry-After"]) > 3500  # one hour cool-off by default


def test_lock_message_says_when_to_retry(client, victim) -> None:
    with time_machine.travel("2026-03-01 10:00:00Z", tick=False):
        _fail_three_times(client)
        response = _login(client, VICTIM, PASSWORD)
    assert "2026-03-01 11:00 UTC" in response.content.decode()
    assert response["Retry-After"] == "3600"


def test_api_clients_get_json(client, victim) -> None:
    _fail_three_times(client)
    response = _login(client, VICTIM, PASSWORD, HTTP_ACCEPT="application/json")
    assert response.status_code == 429 and response["Content-Type"] == "application/json"
    body = response.json()
    assert body["error"] == "locked_out" and body["retry_after"] > 3500 and "retry_at" in body


def test_locked_attempt_does_no_password_hashing(client, victim, hash_calls) -> None:
    _fail_three_times(client)
    assert hash_calls  # the three real failures did hash
    hash_calls.clear()

    assert _login(client, VICTIM, PASSWORD).status_code == 429
    assert _login(client, "nobody@example.com", PASSWORD).status_code == 429

    assert hash_calls == []


def test_unknown_email_and_wrong_password_get_the_same_answer(victim) -> None:
    def answers(username: str) -> list[tuple[int, str]]:
        client = Client(REMOTE_ADDR="192.0.2.10" if username == VICTIM else "192.0.2.20")
        out = []
        for password in ("wrong guess one", "wrong guess two", "wrong guess three", PASSWORD):
            response = _login(client, username, password)
            text = response.content.decode().replace(username, "EMAIL")
            text = re.sub(r'name="csrfmiddlewaretoken" value="[^"]+"', "", text)
            out.append((response.status_code, text))
        return out

    with time_machine.travel("2026-03-01 10:00:00Z", tick=False):
        assert answers(VICTIM) == answers("nobody@example.com")


def test_lock_expires_after_the_cool_off(client, victim) -> None:
    with time_machine.travel("2026-03-01 10:00:00Z", tick=False) as traveller:
        _fail_three_times(client)
        traveller.shift(timedelta(minutes=59))
        assert _login(client, VICTIM, PASSWORD).status_code == 429  # and this restarts the hour
        traveller.shift(timedelta(minutes=59))
        assert _login(client, VICTIM, PASSWORD).status_code == 429
        traveller.shift(timedelta(minutes=61))
        assert _login(client, VICTIM, PASSWORD).status_code == 302


def test_cool_off_is_a_setting(client, victim, settings) -> None:
    settings.AXES_COOLOFF_TIME = 2
    with time_machine.travel("2026-03-01 10:00:00Z", tick=False):
        _fail_three_times(client)
        response = _login(client, VICTIM, PASSWORD)
    assert response["Retry-After"] == "7200"


def test_failures_on_different_accounts_add_up(client, victim) -> None:
    User.objects.create_user("bob@example.com", PASSWORD)
    statuses = [
        _login(client, name, "wrong guess here").status_code
        for name in (VICTIM, "bob@example.com", "x@example.com")
    ]
    assert statuses == [200, 200, 429]
    assert _login(client, VICTIM, PASSWORD).status_code == 429


def test_other_addresses_are_not_locked(client, victim) -> None:
    _fail_three_times(client)
    other = Client(REMOTE_ADDR="198.51.100.7")
    assert _login(other, VICTIM, PASSWORD).status_code == 302


def test_spoofed_forwarded_for_from_a_direct_client_does_not_escape(
    client, victim, settings
) -> None:
    settings.TRUSTED_PROXIES = []
    settings.TRUSTED_PROXY_COUNT = 0
    for n in range(3):
        _login(client, VICTIM, "wrong guess", HTTP_X_FORWARDED_FOR=f"203.0.113.{n}")
    response = _login(client, VICTIM, PASSWORD, HTTP_X_FORWARDED_FOR="203.0.113.99")
    assert response.status_code == 429
    assert set(AccessAttempt.objects.values_list("ip_address", flat=True)) == {"127.0.0.1"}


def test_spoofed_forwarded_for_does_not_escape_behind_a_trusted_proxy(victim, settings) -> None:
    settings.TRUSTED_PROXIES = ["10.0.0.0/8"]
    proxy = Client(REMOTE_ADDR="10.0.0.2")
    # The proxy appends the real client (192.0.2.50); what the client itself sent comes before.
    for n in range(3):
        _login(proxy, VICTIM, "wrong guess", HTTP_X_FORWARDED_FOR=f"203.0.113.{n}, 192.0.2.50")
    assert (
        _login(proxy, VICTIM, PASSWORD, HTTP_X_FORWARDED_FOR="203.0.113.99, 192.0.2.50").status_code
        == 429
    )
    # A different real client behind the same proxy is not locked.
    assert _login(proxy, VICTIM, PASSWORD, HTTP_X_FORWARDED_FOR="192.0.2.51").status_code == 302


def test_axes_reset_ip_unlocks_and_is_logged(client, victim, capsys) -> None:
    _fail_three_times(client)

    call_command("axes_reset_ip", "127.0.0.1")

    assert "127.0.0.1: unlocked; 3 failed logins removed." in capsys.readouterr().out
    assert _login(client, VICTIM, PASSWORD).status_code == 302
    event = SecurityEvent.objects.get(event_type="unlock")
    assert event.target == "127.0.0.1" and event.detail["failed_logins_removed"] == 3


def test_axes_reset_ip_refuses_garbage(victim) -> None:
    from django.core.management.base import CommandError

    with pytest.raises(CommandError):
        call_command("axes_reset_ip", "not-an-address")


def test_active_lockouts_are_visible_in_the_admin(client, victim) -> None:
    _fail_three_times(client, username="x@example.com")
    operator = Client(REMOTE_ADDR="198.51.100.1")
    login_verified(operator, User.objects.create_superuser("root@example.com", PASSWORD))
    response = operator.get("/admin/axes/accessattempt/?locked_out=yes")
    assert response.status_code == 200
    assert "127.0.0.1" in response.content.decode()


def test_owner_of_the_targeted_account_gets_one_email(
    client, victim, django_capture_on_commit_callbacks
) -> None:
    with django_capture_on_commit_callbacks(execute=True):
        _fail_three_times(client)
        _login(client, VICTIM, PASSWORD)  # refused while locked: no second email
    assert [m.to for m in mail.outbox] == [[VICTIM]]
    message = mail.outbox[0]
    assert "127.0.0.1" in message.body and "wrong guess" not in message.body
    assert message.alternatives  # HTML part next to the text


def test_no_email_for_an_unknown_account_and_the_same_refusal(
    client, django_capture_on_commit_callbacks
) -> None:
    with django_capture_on_commit_callbacks(execute=True):
        statuses = _fail_three_times(client, username="nobody@example.com")
    assert statuses == [200, 200, 429]
    assert mail.outbox == []


def test_attempt_records_keep_no_password(client, victim) -> None:
    _fail_three_times(client)
    stored = " ".join(str(v) for v in AccessAttempt.objects.values_list("post_data", "get_data"))
    assert "wrong guess" not in stored


def test_lockout_limit_is_three_in_settings(settings) -> None:
    assert settings.AXES_FAILURE_LIMIT == 3
    assert settings.AXES_LOCKOUT_PARAMETERS == ["ip_address"]
    assert settings.AXES_HANDLER == "axes.handlers.database.AxesDatabaseHandler"
    assert settings.AUTHENTICATION_BACKENDS[0] == "axes.backends.AxesStandaloneBackend"


# --- Gaps found in testing: IPv6 per /64, a limit per account, one warning email an hour ------


def test_ipv6_addresses_of_one_64_share_one_lock(victim) -> None:
    for n in range(1, 4):
        _login(Client(REMOTE_ADDR=f"2001:db8:1:2::{n}"), VICTIM, f"wrong guess {n}")

    fourth = Client(REMOTE_ADDR="2001:db8:1:2:ffff:ffff:ffff:fff0")
    assert _login(fourth, VICTIM, PASSWORD).status_code == 429
    # Another /64 of the same provider is another customer line.
    assert _login(Client(REMOTE_ADDR="2001:db8:1:3::1"), VICTIM, PASSWORD).status_code == 302


def test_axes_reset_ip_lifts_the_lock_of_the_whole_64(victim, capsys) -> None:
    for n in range(1, 4):
        _login(Client(REMOTE_ADDR=f"2001:db8:1:2::{n}"), VICTIM, f"wrong guess {n}")

    call_command("axes_reset_ip", "2001:db8:1:2::beef")

    assert "unlocked; 3 failed logins removed" in capsys.readouterr().out
    assert _login(Client(REMOTE_ADDR="2001:db8:1:2::1"), VICTIM, PASSWORD).status_code == 302


def _spread_guesses(count: int, *, username: str = VICTIM) -> None:
    """`count` wrong passwords, two from each address: never enough to lock any one address."""
    for n in range(count):
        client = Client(REMOTE_ADDR=f"198.51.100.{n // 2 + 1}")
        assert _login(client, username, f"spread guess {n}").status_code == 200


def test_many_addresses_together_lock_the_account(victim, settings) -> None:
    settings.LOCKOUT_ACCOUNT_FAILURE_LIMIT = 10
    _spread_guesses(10)

    # A fresh address with the right password: refused like a wrong one (nothing says why,
    # so nothing tells an attacker the account exists) and no session.
    fresh = Client(REMOTE_ADDR="203.0.113.9")
    response = _login(fresh, VICTIM, PASSWORD)
    assert response.status_code == 200 and "_auth_user_id" not in fresh.session
    assert SecurityEvent.objects.filter(event_type="account_lockout", target=VICTIM).count() == 1


def test_an_account_lock_costs_no_password_hashing(victim, settings, hash_calls) -> None:
    settings.LOCKOUT_ACCOUNT_FAILURE_LIMIT = 4
    _spread_guesses(4)
    hash_calls.clear()

    _login(Client(REMOTE_ADDR="203.0.113.9"), VICTIM, PASSWORD)

    assert hash_calls == []


def test_below_the_account_limit_the_right_password_works(victim, settings) -> None:
    settings.LOCKOUT_ACCOUNT_FAILURE_LIMIT = 10
    _spread_guesses(9)
    assert _login(Client(REMOTE_ADDR="203.0.113.9"), VICTIM, PASSWORD).status_code == 302


def test_the_owner_still_logs_in_from_an_address_that_logged_in_before(victim, settings) -> None:
    settings.LOCKOUT_ACCOUNT_FAILURE_LIMIT = 10
    office = Client(REMOTE_ADDR="192.0.2.77")
    assert _login(office, VICTIM, PASSWORD).status_code == 302
    _spread_guesses(12)

    assert _login(Client(REMOTE_ADDR="192.0.2.77"), VICTIM, PASSWORD).status_code == 302
    assert _login(Client(REMOTE_ADDR="203.0.113.9"), VICTIM, PASSWORD).status_code == 200


def test_the_account_lock_lifts_an_hour_after_the_last_guess(victim, settings) -> None:
    settings.LOCKOUT_ACCOUNT_FAILURE_LIMIT = 10
    with time_machine.travel("2026-03-01 10:00:00Z", tick=False) as traveller:
        _spread_guesses(10)
        traveller.shift(timedelta(minutes=59))
        assert _login(Client(REMOTE_ADDR="203.0.113.9"), VICTIM, PASSWORD).status_code == 200
        traveller.shift(timedelta(minutes=61))
        assert _login(Client(REMOTE_ADDR="203.0.113.10"), VICTIM, PASSWORD).status_code == 302


def test_the_account_limit_ignores_how_the_address_is_spelt(victim, settings) -> None:
    settings.LOCKOUT_ACCOUNT_FAILURE_LIMIT = 4
    for n, spelling in enumerate(
        ["ADA@example.com", " ada@EXAMPLE.com", "Ada@Example.Com", VICTIM]
    ):
        _login(Client(REMOTE_ADDR=f"198.51.100.{n + 1}"), spelling, f"guess {n}")
    assert _login(Client(REMOTE_ADDR="203.0.113.9"), VICTIM, PASSWORD).status_code == 200


def test_the_owner_gets_at_most_one_lockout_email_an_hour(
    victim, settings, django_capture_on_commit_callbacks
) -> None:
    settings.LOCKOUT_ACCOUNT_FAILURE_LIMIT = 100
    with time_machine.travel("2026-03-01 10:00:00Z", tick=False) as traveller:
        with django_capture_on_commit_callbacks(execute=True):
            for address in ("192.0.2.1", "192.0.2.2", "192.0.2.3"):
                _fail_three_times(Client(REMOTE_ADDR=address))
        assert [m.to for m in mail.outbox] == [[VICTIM]]
        traveller.shift(timedelta(minutes=61))
        with django_capture_on_commit_callbacks(execute=True):
            _fail_three_times(Client(REMOTE_ADDR="192.0.2.4"))
    assert len(mail.outbox) == 2
