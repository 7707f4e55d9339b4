"""`manage.py axes_reset_ip ADDRESS ...`: an operator lifts the login lockout of addresses and is
told, for each, what there was to lift, in words that never contradict each other; --json gives
the same as one document. Every call is a logged unlock event."""

from __future__ import annotations

import json
from io import StringIO

import pytest
from django.contrib.auth import get_user_model
from django.core.management import CommandError, call_command
from django.test import Client

from security.models import SecurityEvent

pytestmark = pytest.mark.django_db
PASSWORD = "the real passphrase 2026"
VICTIM = "ada@example.com"


@pytest.fixture
def locked_client() -> Client:
    get_user_model().objects.create_user(VICTIM, PASSWORD, is_staff=True)
    client = Client(REMOTE_ADDR="192.0.2.10")
    for n in range(3):
        client.post("/admin/login/", {"username": VICTIM, "password": f"wrong {n}"})
    # The fourth attempt is refused, and counts as a failure too (it restarts the cool-off).
    assert (
        client.post("/admin/login/", {"username": VICTIM, "password": PASSWORD}).status_code == 429
    )
    return client


def _run(*args: str) -> str:
    out = StringIO()
    call_command("axes_reset_ip", *args, stdout=out)
    return out.getvalue()


def test_a_locked_address_is_unlocked_and_the_operator_is_told_so(locked_client) -> None:
    output = _run("192.0.2.10")

    assert output == "192.0.2.10: unlocked; 4 failed logins removed.\n"
    response = locked_client.post("/admin/login/", {"username": VICTIM, "password": PASSWORD})
    assert response.status_code == 302
    event = SecurityEvent.objects.get(event_type="unlock")
    assert event.target == "192.0.2.10"
    assert event.detail["failed_logins_removed"] == 4 and event.detail["was_locked"] is True


def test_an_address_without_failures_says_one_thing_only(db) -> None:
    output = _run("192.0.2.11")

    assert output == "192.0.2.11: no failed logins recorded; nothing to unlock.\n"
    assert SecurityEvent.objects.get(event_type="unlock").target == "192.0.2.11"


def test_failures_below_the_limit_are_removed_without_claiming_a_lock(db) -> None:
    get_user_model().objects.create_user(VICTIM, PASSWORD, is_staff=True)
    client = Client(REMOTE_ADDR="192.0.2.12")
    client.post("/admin/login/", {"username": VICTIM, "password": "wrong"})

    assert _run("192.0.2.12") == "192.0.2.12: 1 failed login removed (it was not locked).\n"


def test_several_addresses_get_one_line_each(locked_client) -> None:
    assert _run("192.0.2.10", "2001:db8::1").splitlines() == [
        "192.0.2.10: unlocked; 4 failed logins removed.",
        "2001:db8::1: no failed logins recorded; nothing to unlock.",
    ]


def test_json_reports_each_address_in_one_document(locked_client) -> None:
    document = json.loads(_run("--json", "192.0.2.10", "192.0.2.11"))

    assert document == {
        "addresses": [
            {"ip": "192.0.2.10", "was_locked": True, "failed_logins_removed": 4},
            {"ip": "192.0.2.11", "was_locked": False, "failed_logins_removed": 0},
        ]
    }


def test_a_malformed_address_is_refused_before_anything_is_changed(locked_client) -> None:
    with pytest.raises(CommandError, match="'not-an-address' is not an IP address"):
        _run("192.0.2.10", "not-an-address")
    assert not SecurityEvent.objects.filter(event_type="unlock").exists()
