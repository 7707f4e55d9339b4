"""backups' compliance checks (C21-C25) judge the real destinations and job results: a stale
backup, a missing offline copy, a failed or old drill, a tampered copy and an expired backup each
fail their control, and the hourly job alerts the operators once."""

from __future__ import annotations

from datetime import timedelta
from pathlib import Path

import pytest
import time_machine
from django.core import mail
from django.utils import timezone

from backups import services
from backups.format import DATA_FILE
from security.compliance import Status, evaluate
from security.compliance.services import compliance_run

pytestmark = pytest.mark.django_db(transaction=True)


def _status(control: str) -> tuple[Status, str]:
    (result,) = evaluate([control])
    return result.status, result.reason


def test_a_fresh_backup_passes_and_turns_stale_after_13_hours(backup_settings, some_data) -> None:
    assert _status("C21")[0] == Status.FAIL  # nothing yet
    start = timezone.now()
    with time_machine.travel(start, tick=False) as traveller:
        services.backup_run()
        services.offline_copy()
        assert _status("C21")[0] == Status.PASS
        assert _status("C22")[0] == Status.PASS
        traveller.shift(timedelta(hours=13, minutes=30))
        status, reason = _status("C21")
        assert status == Status.FAIL and "limit 13 h" in reason
        assert _status("C22")[0] == Status.PASS  # 25 h for the offline copy
        traveller.shift(timedelta(hours=12))
        assert _status("C22")[0] == Status.FAIL


def test_a_stale_backup_is_alerted_once(backup_settings, some_data) -> None:
    start = timezone.now()
    with time_machine.travel(start, tick=False) as traveller:
        services.backup_run()
        compliance_run()
        traveller.shift(timedelta(hours=14))
        mail.outbox.clear()
        compliance_run()
        compliance_run()
    lines = [line for m in mail.outbox for line in m.body.splitlines() if line.startswith("C21")]
    assert len(lines) == 1 and "pass -> fail" in lines[0]


def test_the_drill_result_and_its_age_judge_c23(backup_settings, some_data) -> None:
    start = timezone.now()
    with time_machine.travel(start, tick=False) as traveller:
        services.backup_run()
        assert services.backup_drill().ok
        status, reason = _status("C23")
        assert status == Status.PASS and "rows match" in reason
        traveller.shift(timedelta(hours=27))
        assert _status("C23") == (Status.FAIL, "the last restore drill ran 27 h ago")


def test_a_tampered_copy_fails_c24_once_verified(backup_settings, some_data) -> None:
    result = services.backup_run()
    assert _status("C24")[0] == Status.PASS
    data = Path(backup_settings.BACKUP_DESTINATIONS[1]) / result.backup_id / DATA_FILE
    raw = data.read_bytes()
    data.write_bytes(raw[:-1] + bytes([raw[-1] ^ 0x01]))  # always a change (b"!" may be the byte)
    services.backup_verify()
    status, reason = _status("C24")
    assert status == Status.FAIL and "tampered" in reason


def test_a_backup_older_than_the_retention_fails_c25(backup_settings, some_data) -> None:
    old = timezone.now() - timedelta(days=40)
    with time_machine.travel(old, tick=False):
        services.backup_run()
    services.backup_run()
    status, reason = _status("C25")
    assert status == Status.FAIL and "older than 30 days" in reason
    services.backup_purge()
    assert _status("C25")[0] == Status.PASS


def test_c25_allows_the_hourly_purge_one_late_run_not_a_day(backup_settings, some_data) -> None:
    # The purge runs hourly; a backup three hours past the retention means it is not working.
    with time_machine.travel(timezone.now() - timedelta(days=30, hours=3), tick=False):
        services.backup_run()
    services.backup_run()
    status, reason = _status("C25")
    assert status == Status.FAIL and "older than 30 days" in reason
