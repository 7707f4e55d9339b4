"""Corruption is found by a schedule and repaired from a verified copy: the daily verification,
gap filling in the backup run, and the offline copy each take a source that verifies, rewrite a
damaged copy from it and tell the operators what was repaired. The drill fails when it had to
skip a copy. Against real SFTP and S3 servers."""

from __future__ import annotations

from datetime import timedelta
from pathlib import Path

import pytest
import time_machine
from _backup_helpers import flip_byte
from django.core.management import CommandError, call_command
from django.utils import timezone

from backups import services, tasks
from backups.destinations import destination_for
from backups.format import DATA_FILE
from backups.models import BackupLog
from backups.selectors import complete_ids
from security.models import SecurityEvent


@pytest.fixture
def three_servers(backup_settings, sftp_server, s3_bucket, tmp_path: Path) -> list[str]:
    backup_settings.BACKUP_DESTINATIONS = [str(tmp_path / "local"), sftp_server.url(), s3_bucket]
    return backup_settings.BACKUP_DESTINATIONS


def _alerts() -> list[str]:
    return [
        f"{e.detail['subject']}\n{e.detail['message']}"
        for e in SecurityEvent.objects.filter(event_type="ops_alert").order_by("id")
    ]


def _codes(backup_id: str) -> dict[str, str]:
    return {c.destination: c.code for c in services.backup_verify(backup_id=backup_id)}


def test_the_daily_verification_finds_a_damaged_copy_and_repairs_it_from_a_good_one(
    three_servers, some_data
) -> None:
    backup_id = services.backup_run().backup_id
    s3 = destination_for(three_servers[2]).label
    flip_byte(three_servers[2], f"{backup_id}/{DATA_FILE}")
    assert _codes(backup_id)[s3] == "tampered"
    SecurityEvent.objects.all().delete()

    tasks.backup_verify_scheduled.delay().get()

    assert set(_codes(backup_id).values()) == {"ok"}
    repaired = BackupLog.objects.get(action="repair")
    assert repaired.ok and repaired.backup_id == backup_id and repaired.destination == s3
    alert = _alerts()[-1]
    assert "repaired" in alert and backup_id in alert and s3 in alert


def test_the_daily_verification_checks_older_backups_in_rotation(
    backup_settings, some_data
) -> None:
    backup_settings.BACKUP_VERIFY_SAMPLE = 1
    start = timezone.now() - timedelta(days=3)
    ids = []
    for hours in (0, 12, 24, 36):
        with time_machine.travel(start + timedelta(hours=hours)):
            ids.append(services.backup_run().backup_id)
    BackupLog.objects.all().delete()
    seen: set[str] = set()
    for day in range(3):
        with time_machine.travel(timezone.now() + timedelta(days=day)):
            services.backup_verify_scheduled()
        seen |= set(BackupLog.objects.filter(action="verify").values_list("backup_id", flat=True))
    assert seen == set(ids)  # the newest each day, and each older one in turn


def test_the_daily_verification_is_scheduled() -> None:
    from django.conf import settings

    tasks_scheduled = {entry["task"] for entry in settings.CELERY_BEAT_SCHEDULE.values()}
    assert "backups.tasks.backup_verify_scheduled" in tasks_scheduled


def test_the_drill_fails_when_it_had_to_skip_a_damaged_copy(
    three_servers, some_data, mailoutbox
) -> None:
    backup_id = services.backup_run().backup_id
    flip_byte(three_servers[0], f"{backup_id}/{DATA_FILE}")

    with pytest.raises(CommandError, match="Restore drill failed"):
        call_command("backup", "--drill")

    row = BackupLog.objects.get(action="drill")
    assert not row.ok and backup_id in row.detail and "tampered" in row.detail
    assert three_servers[0] in row.detail
    assert any("drill" in m.subject for m in mailoutbox)


def test_gap_filling_copies_from_a_verified_source_and_repairs_the_damaged_one(
    three_servers, some_data, sftp_server
) -> None:
    local, sftp, s3 = three_servers
    sftp_server.stop()
    with time_machine.travel(timezone.now() - timedelta(hours=12)):
        missed = services.backup_run().backup_id
    sftp_server.start()
    flip_byte(local, f"{missed}/{DATA_FILE}")  # the first holder's copy is bad; S3's is good
    SecurityEvent.objects.all().delete()

    result = services.backup_run()

    assert f"{missed} -> {destination_for(sftp).label}" in result.filled
    assert BackupLog.objects.get(action="copy", backup_id=missed).detail.endswith(
        destination_for(s3).label
    )
    assert set(_codes(missed).values()) == {"ok"}  # the local copy was rewritten too
    assert BackupLog.objects.filter(action="repair", backup_id=missed, destination=local).exists()
    assert any("repaired" in a and missed in a and local in a for a in _alerts())


def test_the_offline_copy_takes_a_verified_source_when_the_first_copy_is_bad(
    three_servers, backup_settings, some_data
) -> None:
    backup_id = services.backup_run().backup_id
    flip_byte(three_servers[0], f"{backup_id}/{DATA_FILE}")

    call_command("backup", "--offline")

    offline = destination_for(backup_settings.BACKUP_OFFLINE_DESTINATION)
    assert complete_ids(offline) == [backup_id]
    assert services.check_copy(offline, backup_id).code == "ok"
    assert _codes(backup_id)[three_servers[0]] == "ok"  # repaired on the way
    assert any("repaired" in a for a in _alerts())
