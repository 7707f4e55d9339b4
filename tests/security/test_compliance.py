"""Continuous compliance (C30): the registry's checks judge live evidence, so making a control
fail for real (an unsafe CSP source, an expired security.txt, a passed support date, a staff
user without MFA) turns its result to fail; the hourly job alerts once per change; the report
command speaks text, JSON and Markdown and exits 1 when a control fails."""

from __future__ import annotations

import json
from datetime import timedelta
from io import StringIO

import pytest
import time_machine
from csp.constants import SELF
from django.contrib.auth import get_user_model
from django.core import mail
from django.core.exceptions import ImproperlyConfigured
from django.core.management import CommandError, call_command
from django.test import Client

from security.compliance import Check, Status, evaluate, failed, register_checks
from security.compliance.checks import SUPPORT_ENDS, lock_file_facts
from security.compliance.services import compliance_run
from security.models import ComplianceResult, ComplianceState, SecurityEvent
from tests.otp_login import login_verified, mfa_device

pytestmark = pytest.mark.django_db
User = get_user_model()


def _one(control: str):
    (result,) = evaluate([control])
    return result


@pytest.fixture
def operators(settings):
    settings.ADMINS = [("Operators", "ops@booking.example")]


def _strict_csp(settings, **changes):
    policy = {"DIRECTIVES": {**settings.CONTENT_SECURITY_POLICY["DIRECTIVES"], **changes}}
    settings.CONTENT_SECURITY_POLICY = policy


def test_an_unsafe_csp_source_fails_c06(settings) -> None:
    assert _one("C06").status == Status.PASS
    _strict_csp(settings, **{"script-src": [SELF, "'unsafe-inline'"]})
    result = _one("C06")
    assert result.status == Status.FAIL and "unsafe" in result.reason
    assert result.evidence["policy_errors"]


def test_csp_reports_of_the_last_day_warn(client) -> None:
    body = {"csp-report": {"document-uri": "http://x/", "violated-directive": "script-src"}}
    client.post("/security/csp-report", json.dumps(body), content_type="application/csp-report")
    result = _one("C06")
    assert result.status == Status.WARN and result.evidence["reports_24h"] == 1


def test_an_expired_security_txt_fails_c34(settings) -> None:
    assert _one("C34").status == Status.PASS
    settings.SECURITY_TXT_EXPIRES_DAYS = -1
    result = _one("C34")
    assert result.status == Status.FAIL and "expired" in result.reason


def test_a_passed_support_date_fails_c02_and_warns_half_a_year_ahead() -> None:
    running = _one("C02").evidence
    first_end = min(SUPPORT_ENDS[name][running[name]["version"]] for name in ("Django", "Python"))
    with time_machine.travel(f"{first_end - timedelta(days=100)} 12:00Z", tick=False):
        assert _one("C02").status == Status.WARN
    with time_machine.travel(f"{first_end + timedelta(days=1)} 12:00Z", tick=False):
        result = _one("C02")
    assert result.status == Status.FAIL and "lost security support" in result.reason
    assert first_end.isoformat() in result.reason


def test_a_staff_user_without_a_second_factor_fails_c13() -> None:
    enrolled = User.objects.create_user("ann@example.com", "x" * 20, is_staff=True)
    mfa_device(enrolled)
    assert _one("C13").status == Status.PASS
    User.objects.create_user("bob@example.com", "x" * 20, is_staff=True)
    result = _one("C13")
    assert result.status == Status.FAIL
    assert result.evidence["without_second_factor"] == ["bob@example.com"]


def test_older_password_hashes_warn_c10(settings) -> None:
    settings.PASSWORD_HASHERS = settings.PASSWORD_HASHERS[1:]  # production's list: bcrypt first
    User.objects.create_user("new@example.com", "a fine passphrase 1")
    assert _one("C10").status == Status.PASS
    old = User.objects.create_user("old@example.com", "a fine passphrase 2")
    User.objects.filter(pk=old.pk).update(password="pbkdf2_sha256$1$salt$hash")
    result = _one("C10")
    assert result.status == Status.WARN and result.evidence["users_with_older_hashes"] == 1


def test_lock_file_facts_find_pins_without_hashes() -> None:
    text = "a==1 \\\n    --hash=sha256:abc\n    # via x\nb==2\n    # via y\nc>=3\n"
    assert lock_file_facts(text) == {"pinned": 2, "without_hash": ["b"], "unpinned": ["c>=3"]}


@pytest.fixture
def registry(monkeypatch):
    """Checks registered by a test are gone after it."""
    import security.compliance as compliance

    monkeypatch.setattr(compliance, "_registry", dict(compliance._registry))


def test_a_check_that_raises_fails_with_its_error(registry) -> None:
    def broken(now):
        raise RuntimeError("no evidence")

    register_checks(Check("C98", "broken", broken))
    result = _one("C98")
    assert result.status == Status.FAIL and "RuntimeError: no evidence" in result.reason


def test_one_control_has_one_check(registry) -> None:
    def other(now):
        return failed("x")

    with pytest.raises(ImproperlyConfigured):
        register_checks(Check("C06", "another CSP check", other))


# --- the hourly job ------------------------------------------------------------------------


def test_the_hourly_job_alerts_once_per_change_and_when_it_passes_again(
    settings, operators
) -> None:
    staff = User.objects.create_user("ann@example.com", "x" * 20, is_staff=True)

    def c13_alerts() -> list[str]:
        return [line for m in mail.outbox for line in m.body.splitlines() if line.startswith("C13")]

    with time_machine.travel("2026-03-01 10:05:00Z", tick=False) as traveller:
        compliance_run()
        assert c13_alerts() == [
            "C13 MFA for staff and partners: new -> fail. "
            "1 of 1 staff and partner users have no second factor"
        ]
        mail.outbox.clear()

        traveller.shift(timedelta(hours=1))
        compliance_run()
        assert c13_alerts() == []  # still failing: no new alert

        mfa_device(staff)
        traveller.shift(timedelta(hours=1))
        compliance_run()
        assert c13_alerts() == [
            "C13 MFA for staff and partners: fail -> pass. all 1 staff and partner users use a second factor"
        ]
        assert mail.outbox[-1].subject.endswith("[compliance] C13 passes again")

    state = ComplianceState.objects.get(control="C13")
    assert state.status == "pass"
    history = list(
        ComplianceResult.objects.filter(control="C13")
        .order_by("evaluated_at")
        .values_list("status", "changed")
    )
    assert history == [("fail", True), ("fail", False), ("pass", True)]
    alerts = SecurityEvent.objects.filter(event_type="ops_alert", target="compliance")
    assert [a.detail["controls"].get("C13") for a in alerts.order_by("id")] == [
        "fail",
        None,
        "pass",
    ]


def test_a_control_that_passes_from_the_start_sends_nothing(operators) -> None:
    compliance_run()
    assert not any("C06" in m.subject for m in mail.outbox)
    assert ComplianceState.objects.get(control="C06").status == "pass"


def test_c30_fails_when_the_hourly_job_stopped() -> None:
    assert _one("C30").status == Status.WARN  # never ran
    with time_machine.travel("2026-03-01 10:05:00Z", tick=False) as traveller:
        compliance_run()
        assert _one("C30").status == Status.PASS
        traveller.shift(timedelta(hours=3))
        assert _one("C30").status == Status.FAIL


def test_old_history_is_forgotten(settings) -> None:
    with time_machine.travel("2026-01-01 10:00:00Z", tick=False) as traveller:
        compliance_run()
        traveller.shift(timedelta(days=settings.COMPLIANCE_HISTORY_DAYS + 1))
        compliance_run()
    assert {
        r.date().isoformat()
        for r in ComplianceResult.objects.values_list("evaluated_at", flat=True)
    } == {"2027-02-06"}


# --- the command ---------------------------------------------------------------------------


def _report(*args: str) -> tuple[str, str]:
    out = StringIO()
    try:
        call_command("compliance_report", *args, stdout=out)
    except CommandError as exc:
        return out.getvalue(), str(exc)
    return out.getvalue(), ""


def test_the_report_exits_zero_when_nothing_fails() -> None:
    out, error = _report("--control", "C02", "--control", "C06")
    assert error == ""
    assert "PASS  C02" in out and "PASS  C06" in out and "2 pass, 0 warn, 0 fail." in out


def test_the_report_fails_naming_the_failing_controls(settings) -> None:
    settings.SECURITY_TXT_EXPIRES_DAYS = -1
    out, error = _report("--control", "C34", "--control", "C02")
    assert "FAIL  C34" in out
    assert error == "1 control fails: C34."


def test_the_json_report_has_the_evidence(settings) -> None:
    out, _ = _report("--format", "json", "--control", "C13")
    document = json.loads(out)
    (control,) = document["controls"]
    assert control["control"] == "C13" and control["status"] == "pass"
    assert set(control) == {"control", "title", "status", "reason", "evidence", "evaluated_at"}
    assert document["summary"] == {"pass": 1, "warn": 0, "fail": 0}


def test_the_markdown_report_names_the_event_log_head() -> None:
    User.objects.create_user("ann@example.com", "x" * 20, is_staff=True).set_password("y" * 20)
    call_command("axes_reset_ip", "192.0.2.1", stdout=StringIO())  # writes an event
    head = SecurityEvent.objects.order_by("-id").first()
    out, _ = _report("--format", "markdown", "--control", "C31")
    assert out.startswith("# Compliance report")
    assert f"hash `{head.hash}`" in out
    assert "| C31 | **WARN** |" in out and "`head_hash`" in out  # no anchor yet


def test_an_unknown_control_is_a_clear_error() -> None:
    _, error = _report("--control", "C99")
    assert error.startswith("Unknown control C99; checked controls: C01,")


# --- the admin page ------------------------------------------------------------------------


def test_superusers_see_each_controls_state_and_history() -> None:
    compliance_run()
    root = User.objects.create_superuser("root@example.com", "x" * 20)
    client = Client()
    login_verified(client, root)
    listing = client.get("/admin/security/compliancestate/")
    assert listing.status_code == 200 and "C13" in listing.content.decode()
    state = ComplianceState.objects.get(control="C13")
    page = client.get(f"/admin/security/compliancestate/{state.pk}/change/")
    assert page.status_code == 200 and "history" in page.content.decode()


def test_staff_who_are_not_superusers_do_not_see_it() -> None:
    compliance_run()
    staff = User.objects.create_user("staff@example.com", "x" * 20, is_staff=True)
    client = Client()
    login_verified(client, staff)
    assert client.get("/admin/security/compliancestate/").status_code == 403
