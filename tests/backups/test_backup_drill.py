from __future__ import annotations

from pathlib import Path

from django.core.management import CommandError, call_command
from django.db import connection

from backups import services
from backups.models import BackupLog


def _scratch_databases() -> list[str]:
    if connection.vendor != "postgresql":
        return []
    with connection.cursor() as cursor:
        cursor.execute("SELECT datname FROM pg_database WHERE datname LIKE %s", ["%\\_drill\\_%"])
        return [row[0] for row in cursor.fetchall()]


def test_the_drill_restores_the_latest_backup_and_records_the_result(
    backup_settings, some_data, capsys
) -> None:
    backup_id = services.backup_run().backup_id
    call_command("backup", "--drill")
    assert "Restore drill ok" in capsys.readouterr().out
    row = BackupLog.objects.get(action="drill")
    assert row.ok and row.backup_id == backup_id and "rows match the manifest" in row.detail
    assert _scratch_databases() == []
    assert list(Path(backup_settings.BACKUP_WORK_DIR).iterdir()) == []


def test_a_failed_drill_is_recorded_and_alerted(backup_settings, some_data, mailoutbox) -> None:
    backup_id = services.backup_run().backup_id
    for url in backup_settings.BACKUP_DESTINATIONS:
        path = Path(url) / backup_id / "db.dump.age"
        path.write_bytes(path.read_bytes()[:-3])
    try:
        call_command("backup", "--drill")
    except CommandError as failure:
        assert "Restore drill failed" in str(failure)
    else:
        raise AssertionError("the drill should fail")
    row = BackupLog.objects.get(action="drill")
    assert not row.ok and "no good copy" in row.detail
    assert len(mailoutbox) == 1 and "drill failed" in mailoutbox[0].subject
    assert _scratch_databases() == []


def test_the_drill_task_reports_its_result(backup_settings, some_data) -> None:
    from backups import tasks

    services.backup_run()
    assert tasks.backup_drill.delay().get() is True
