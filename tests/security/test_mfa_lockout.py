"""C11 at the MFA step, as the attacker who has the password and guesses codes: wrong codes count
towards the same 3-failure lock of the address as wrong passwords; once locked, even the right
code is refused, unchecked (the device sees no attempt and no backup code is used up)."""

from __future__ import annotations

import io
from collections.abc import Iterator
from typing import Any

import pytest
import time_machine
from axes.models import AccessAttempt
from django.contrib.auth import get_user_model
from django.core.management import call_command
from django.test import Client

from accounts import services
from accounts.models import BackupCode
from security.models import SecurityEvent
from tests.otp_login import mfa_device, password_login, totp_code

pytestmark = pytest.mark.django_db
EMAIL = "ada@platform.example"
PASSWORD = "the real passphrase 2026"
VERIFY = "/account/mfa/verify/"


@pytest.fixture(autouse=True)
def clock() -> Iterator[Any]:
    with time_machine.travel("2026-03-02 08:00:05Z", tick=False) as traveller:
        yield traveller


@pytest.fixture
def ada() -> Any:
    return get_user_model().objects.create_user(EMAIL, PASSWORD, is_staff=True)


@pytest.fixture
def device(ada):
    return mfa_device(ada)


@pytest.fixture
def attacker(ada, device) -> Client:
    client = Client(REMOTE_ADDR="203.0.113.66")
    assert password_login(client, EMAIL, PASSWORD).status_code == 302
    return client


def _wrong(device) -> str:
    right = {totp_code(device, steps=s) for s in (-1, 0, 1)}
    return next(c for c in ("000000", "111111", "222222", "333333") if c not in right)


def _guess_three_times(client: Client, device) -> list[int]:
    return [client.post(VERIFY, {"code": _wrong(device)}).status_code for _ in range(3)]


def test_the_fourth_code_is_refused_even_when_right_and_is_not_checked(attacker, device) -> None:
    assert _guess_three_times(attacker, device) == [200, 200, 429]  # the third failure locks
    device.refresh_from_db()
    seen_by_device = (device.throttling_failure_count, device.last_t)

    response = attacker.post(VERIFY, {"code": totp_code(device)})

    assert response.status_code == 429 and "locked" in response.content.decode()
    assert int(response["Retry-After"]) > 3500
    assert attacker.get("/admin/").status_code == 302
    device.refresh_from_db()
    assert (device.throttling_failure_count, device.last_t) == seen_by_device  # never checked


def test_a_right_backup_code_is_refused_and_not_used_up_while_locked(attacker, ada, device) -> None:
    codes = services.mfa_backup_codes_regenerate(user=ada, ip="")
    _guess_three_times(attacker, device)

    assert attacker.post(VERIFY, {"code": codes[0]}).status_code == 429
    assert BackupCode.objects.filter(device__user=ada).count() == 10


def test_wrong_passwords_and_wrong_codes_add_up(ada, device) -> None:
    client = Client(REMOTE_ADDR="203.0.113.67")
    assert password_login(client, EMAIL, "wrong guess one").status_code == 200
    assert password_login(client, EMAIL, "wrong guess two").status_code == 200
    assert password_login(client, EMAIL, PASSWORD).status_code == 302  # a success forgives nothing

    assert client.post(VERIFY, {"code": _wrong(device)}).status_code == 429
    assert client.post(VERIFY, {"code": totp_code(device)}).status_code == 429


def test_after_wrong_codes_the_password_login_is_locked_too(attacker, device) -> None:
    _guess_three_times(attacker, device)
    assert password_login(Client(REMOTE_ADDR="203.0.113.66"), EMAIL, PASSWORD).status_code == 429


def test_a_locked_address_gets_the_lock_page_for_the_step_itself(attacker, device) -> None:
    _guess_three_times(attacker, device)
    assert attacker.get(VERIFY).status_code == 429
    response = attacker.post(VERIFY, {"code": totp_code(device)}, HTTP_ACCEPT="application/json")
    assert response.status_code == 429 and response.json()["error"] == "locked_out"


def test_other_addresses_are_not_locked(attacker, device, clock) -> None:
    _guess_three_times(attacker, device)
    clock.shift(5)  # past django-otp's own back-off on the device after three failures
    owner = Client(REMOTE_ADDR="198.51.100.20")
    password_login(owner, EMAIL, PASSWORD)
    assert owner.post(VERIFY, {"code": totp_code(device)}).status_code == 302
    assert owner.get("/admin/").status_code == 200


def test_failures_and_the_lock_are_logged_without_codes(attacker, device) -> None:
    guesses = _guess_three_times(attacker, device)
    right = totp_code(device)
    attacker.post(VERIFY, {"code": right})

    failures = SecurityEvent.objects.filter(event_type="mfa_failure").order_by("id")
    assert [e.detail["reason"] for e in failures] == ["invalid_code"] * 3 + ["locked_out"]
    assert {e.actor_email for e in failures} == {EMAIL} and {e.ip for e in failures} == {
        "203.0.113.66"
    }
    assert SecurityEvent.objects.filter(event_type="lockout").count() == 1
    assert not SecurityEvent.objects.filter(
        event_type__in=["mfa_success", "login_failure"]
    ).exists()
    stored = " ".join(str(v) for v in AccessAttempt.objects.values_list("post_data", "get_data"))
    assert right not in stored and _wrong(device) not in stored
    assert guesses == [200, 200, 429]


def test_unlocking_the_address_lets_the_right_code_in(attacker, device, clock) -> None:
    _guess_three_times(attacker, device)
    call_command("axes_reset_ip", "203.0.113.66", stdout=io.StringIO())
    clock.shift(5)
    assert attacker.post(VERIFY, {"code": totp_code(device)}).status_code == 302
