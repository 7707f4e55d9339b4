"""No destination can keep the operators waiting: network operations have timeouts, each
destination has a time budget per run, and the "destination failed" alert goes out as soon as
the store step is over, before gap filling. A failing dump or encryption step alerts too."""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
import time
from datetime import timedelta
from pathlib import Path

import pytest
import time_machine
from django.db import connection
from django.utils import timezone

from backups import services
from backups.destinations import destination_for
from backups.models import BackupLog
from security.models import SecurityEvent

ROOT = Path(__file__).resolve().parents[2]
BUDGET = 4  # seconds per destination per run, in these tests
# Without the budget, a hanging destination fails only after its retries: 3 attempts of 1 s with
# pauses of 30 s and 60 s, over 90 s. The bounds below leave room for a loaded machine (the dump
# and the other destinations take their time too) and still prove that the budget, not the
# retries, ended the wait.
SLACK = 12


@pytest.fixture
def tight_budget(backup_settings):
    backup_settings.BACKUP_IO_TIMEOUT_SECONDS = 1
    backup_settings.BACKUP_RETRY_ATTEMPTS = 3
    backup_settings.BACKUP_RETRY_BACKOFF_SECONDS = 30.0
    backup_settings.BACKUP_DESTINATION_BUDGET_SECONDS = BUDGET
    return backup_settings


@pytest.mark.parametrize("kind", ["s3", "sftp"])
def test_a_hanging_destination_is_alerted_within_its_time_budget_before_gap_filling(
    kind, tight_budget, some_data, hanging_server, tmp_path
) -> None:
    a, b = str(tmp_path / "a"), str(tmp_path / "b")
    tight_budget.BACKUP_DESTINATIONS = [a, b]
    with time_machine.travel(timezone.now() - timedelta(hours=12)):
        earlier = services.backup_run().backup_id
    shutil.rmtree(Path(b) / earlier)  # a gap the next run fills
    hung = hanging_server.s3_url() if kind == "s3" else hanging_server.sftp_url()
    tight_budget.BACKUP_DESTINATIONS = [a, b, hung]

    start = timezone.now()
    began = time.monotonic()
    result = services.backup_run()
    took = time.monotonic() - began

    assert list(result.failed) == [destination_for(hung).label]
    alert = SecurityEvent.objects.get(event_type="ops_alert")
    assert destination_for(hung).label in alert.detail["message"]
    assert (alert.created_at - start).total_seconds() <= BUDGET + SLACK
    filled = BackupLog.objects.get(action="copy", backup_id=earlier)
    assert alert.created_at <= filled.created_at  # the alert did not wait for gap filling
    # Gap filling and listing do not start the hung destination's clock again.
    assert took <= 2 * BUDGET + 2 * SLACK


def test_a_failing_encryption_step_alerts(backup_settings, some_data, mailoutbox) -> None:
    backup_settings.BACKUP_PUBLIC_KEY = "age1notakeyatall"
    with pytest.raises(services.BackupError, match="encrypt"):
        services.backup_run()
    assert len(mailoutbox) == 1 and "backup failed" in mailoutbox[0].subject
    assert SecurityEvent.objects.filter(event_type="ops_alert").count() == 1


def _can_mount_in_a_namespace() -> bool:
    unshare = shutil.which("unshare")
    if not unshare:
        return False
    probe = subprocess.run([unshare, "-rm", "true"], capture_output=True, check=False, timeout=10)
    return probe.returncode == 0


@pytest.mark.skipif(
    not _can_mount_in_a_namespace(), reason="needs unshare -rm (user and mount namespaces)"
)
def test_a_full_work_disk_fails_the_backup_command_with_one_line_and_an_alert(
    backup_settings, some_data, tmp_path
) -> None:
    """The whole `manage.py backup`, with its work folder on a 4 KiB tmpfs mounted in a private
    mount namespace: the dump step runs out of space."""
    data_dir = tmp_path / "data"
    work = data_dir / "backups" / "work"
    work.mkdir(parents=True)
    db = connection.settings_dict
    if connection.vendor == "sqlite":
        database_url = f"sqlite:///{db['NAME']}"
    else:
        database_url = (
            f"postgres://{db['USER']}@{db['HOST'] or '127.0.0.1'}:{db['PORT'] or 5432}/{db['NAME']}"
        )
    env = {
        **os.environ,
        "DJANGO_SETTINGS_MODULE": "settings.test",
        "DATA_DIR": str(data_dir),
        "DATABASE_URL": database_url,
        "EMAIL_BACKEND": "file",
        "OPERATOR_EMAILS": "ops@example.com",
        "BACKUP_DESTINATIONS": ",".join(backup_settings.BACKUP_DESTINATIONS),
        "BACKUP_OFFLINE_DESTINATION": backup_settings.BACKUP_OFFLINE_DESTINATION,
        "BACKUP_PUBLIC_KEY": backup_settings.BACKUP_PUBLIC_KEY,
        "BACKUP_SIGNING_KEY": backup_settings.BACKUP_SIGNING_KEY,
        "BACKUP_SIGNING_PUBLIC_KEYS": ",".join(backup_settings.BACKUP_SIGNING_PUBLIC_KEYS),
        "BACKUP_WORK_DIR": str(work),
    }
    script = 'mount -t tmpfs -o size=4k tmpfs "$0" && exec "$@"'
    done = subprocess.run(
        ["unshare", "-rm", "sh", "-c", script, str(work), sys.executable, "manage.py", "backup"],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )

    assert done.returncode == 1, done.stderr
    assert "Traceback" not in done.stderr
    assert "No space left on device" in done.stderr or "full" in done.stderr
    alert = SecurityEvent.objects.get(event_type="ops_alert")
    assert "backup failed" in alert.detail["subject"]
    mails = list((data_dir / "mail").glob("*.eml"))
    assert len(mails) == 1 and "backup failed" in mails[0].read_text()
