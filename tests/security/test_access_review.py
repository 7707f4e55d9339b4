"""`manage.py access_review` (C16): every staff and partner account with roles, partner, MFA,
last login and open support grants; flags unused, unenrolled and superuser accounts; sign-off is
a security event the compliance check reads; stale accounts are deactivated after confirmation;
a quarterly job mails the report."""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta
from io import StringIO

import pytest
import time_machine
from django.contrib.auth import get_user_model
from django.core import mail
from django.core.management import CommandError, call_command
from django.test import Client

from security.compliance import Status, evaluate
from security.models import SecurityEvent
from security.tasks import access_review_mail
from tests.booking.admin_world import build_world
from tests.otp_login import login_verified, mfa_device

pytestmark = pytest.mark.django_db
User = get_user_model()
START = datetime(2026, 1, 5, 9, tzinfo=UTC)


@pytest.fixture
def world():
    with time_machine.travel(START, tick=False):
        world = build_world()
    for user in (world.owner, world.support_granted, world.superuser):
        mfa_device(user)
    return world


def _run(*args: str, **kwargs) -> str:
    out = StringIO()
    call_command("access_review", *args, stdout=out, **kwargs)
    return out.getvalue()


def test_the_report_lists_every_account_with_roles_partner_mfa_and_grants(world) -> None:
    with time_machine.travel(START + timedelta(hours=1), tick=False):
        document = json.loads(_run("--json"))
    accounts = {a["email"]: a for a in document["accounts"]}
    assert set(accounts) == {
        "owner@zephyrine.example",
        "member@yodelmark.example",
        "support@platform.example",
        "stylist@zephyrine.example",
        "helper@platform.example",
        "root@platform.example",
    }
    owner = accounts["owner@zephyrine.example"]
    assert owner["roles"] == ["Partner owner"] and owner["mfa"] is True
    assert owner["extra"]["partner"] == "Zephyrine Atelier (owner)"
    helper = accounts["helper@platform.example"]
    assert helper["extra"]["open_support_grants"].startswith("Zephyrine Atelier until ")
    assert accounts["member@yodelmark.example"]["flags"] == ["no_mfa"]
    assert accounts["root@platform.example"]["flags"] == ["superuser"]


def test_accounts_unused_for_90_days_are_flagged(world) -> None:
    User.objects.filter(pk=world.owner.pk).update(last_login=START + timedelta(days=5))
    with time_machine.travel(START + timedelta(days=94), tick=False):
        text = _run()
    assert "owner@zephyrine.example" in text
    owner_line = next(line for line in text.splitlines() if line.startswith("owner@"))
    assert "unused_90_days" not in owner_line  # logged in 89 days ago
    support_line = next(line for line in text.splitlines() if line.startswith("support@"))
    assert "unused_90_days" in support_line and "MFA NO" in support_line


def test_sign_off_is_a_security_event_and_satisfies_c16_for_92_days(world) -> None:
    assert evaluate(["C16"])[0].status == Status.FAIL  # never signed off
    with time_machine.travel(START, tick=False) as traveller:
        out = _run("--sign-off", "Grace Hopper")
        assert out.rstrip().endswith("Review signed off by Grace Hopper.")
        event = SecurityEvent.objects.get(event_type="access_review")
        assert event.detail["reviewer"] == "Grace Hopper" and event.detail["accounts"] == 6
        assert len(event.detail["report_sha256"]) == 64
        traveller.shift(timedelta(days=92))
        assert evaluate(["C16"])[0].status == Status.PASS
        traveller.shift(timedelta(days=1))
        result = evaluate(["C16"])[0]
    assert result.status == Status.FAIL and "93 days ago" in result.reason


def test_an_empty_reviewer_name_is_refused(world) -> None:
    with pytest.raises(CommandError, match="reviewer's name"):
        _run("--sign-off", " ")


def test_deactivate_stale_asks_first_and_logs_each_account(world, monkeypatch) -> None:
    monkeypatch.setattr("builtins.input", lambda prompt: "no")
    with time_machine.travel(START + timedelta(days=91), tick=False):
        with pytest.raises(CommandError, match="Nothing deactivated"):
            _run("--deactivate-stale")
        assert User.objects.filter(is_active=False).count() == 0
        monkeypatch.setattr("builtins.input", lambda prompt: "yes")
        out = _run("--deactivate-stale")
    assert "Deactivated support@platform.example." in out
    assert User.objects.filter(is_active=False).count() == 6
    events = SecurityEvent.objects.filter(event_type="account_deactivated")
    assert events.count() == 6


def test_a_deactivated_account_loses_its_session(world) -> None:
    client = Client()
    with time_machine.travel(START + timedelta(days=91), tick=False):
        login_verified(client, world.support_granted)  # a session from before the review
        User.objects.filter(pk=world.support_granted.pk).update(last_login=START)
        assert client.get("/admin/").status_code == 200
        _run("--deactivate-stale", "--yes")
        assert client.get("/admin/").status_code == 302


def test_the_quarterly_job_mails_the_report_to_the_operators(world, settings) -> None:
    settings.ADMINS = [("Operators", "ops@booking.example")]
    assert access_review_mail() == 6
    (message,) = mail.outbox
    assert message.to == ["ops@booking.example"] and "access review" in message.subject
    assert "root@platform.example" in message.body and "--sign-off" in message.body


def test_superusers_record_agreements_and_trainings_in_the_admin(world) -> None:
    client = Client()
    login_verified(client, world.superuser)
    response = client.post(
        "/admin/security/personnelrecord/add/",
        {"user": world.support.pk, "kind": "security_training", "on": "2026-01-02", "note": "v3"},
    )
    assert response.status_code == 302
    event = SecurityEvent.objects.get(event_type="personnel_record")
    assert event.actor == world.superuser and event.target == "support@platform.example"
    owner = Client()
    login_verified(owner, world.owner)
    assert owner.get("/admin/security/personnelrecord/").status_code == 403
