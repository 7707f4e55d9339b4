from __future__ import annotations

import json
import logging
from pathlib import Path

import pytest
from django.core.management import CommandError, call_command
from django.db import connection

from backups import services, tasks
from backups.crypto import load_identity, public_key_of
from backups.destinations import destination_for
from backups.format import DATA_FILE, MANIFEST, Manifest, partial_name
from backups.models import BackupLog
from backups.selectors import backup_list, complete_ids
from backups.services import copies
from security.models import SecurityEvent


def _manifest(url: str, backup_id: str) -> Manifest:
    return Manifest.from_bytes(
        destination_for(url).read_bytes(f"{backup_id}/{MANIFEST}"), services.trusted_keys()
    )


def test_backup_lands_complete_on_three_destinations_with_a_manifest(
    backup_settings, some_data
) -> None:
    result = services.backup_run()
    assert len(result.stored) == 3 and not result.failed
    for url in backup_settings.BACKUP_DESTINATIONS:
        assert complete_ids(destination_for(url)) == [result.backup_id]
        manifest = _manifest(url, result.backup_id)
        assert manifest.engine == connection.vendor.replace("postgresql", "postgresql")
        assert (
            manifest.row_counts["booking_partner"] == 1
            and manifest.row_counts["booking_service"] == 1
        )
        assert manifest.row_counts["accounts_user"] == 1
        assert "0001_initial" in manifest.migrations["booking"]
        assert manifest.key_id == backup_settings.BACKUP_PUBLIC_KEY
        assert manifest.file(DATA_FILE).size == destination_for(url).stat(
            f"{result.backup_id}/{DATA_FILE}"
        )
    assert BackupLog.objects.filter(action="run", ok=True, backup_id=result.backup_id).count() == 3
    assert list(Path(backup_settings.BACKUP_WORK_DIR).iterdir()) == []  # no plaintext left behind


def test_three_kinds_of_destination_on_real_servers(
    backup_settings, some_data, sftp_server, s3_bucket, tmp_path
) -> None:
    backup_settings.BACKUP_DESTINATIONS = [str(tmp_path / "local"), sftp_server.url(), s3_bucket]
    result = services.backup_run()
    assert len(result.stored) == 3
    checks = services.backup_verify(backup_id=result.backup_id)
    assert [c.code for c in checks] == ["ok", "ok", "ok"]


def test_one_destination_down_the_others_hold_it_the_alert_fires_the_next_run_fills_the_gap(
    backup_settings, some_data, sftp_server, s3_bucket, tmp_path, mailoutbox, caplog
) -> None:
    sftp_url = sftp_server.url()
    backup_settings.BACKUP_DESTINATIONS = [str(tmp_path / "local"), sftp_url, s3_bucket]
    sftp_server.stop()
    with caplog.at_level(logging.ERROR, logger="backups"):
        first = services.backup_run()
    assert sorted(first.failed) == [destination_for(sftp_url).label]
    assert len(first.stored) == 2
    assert len(mailoutbox) == 1 and "2 of 3" in mailoutbox[0].subject
    assert mailoutbox[0].to == ["ops@example.com"]
    alerts = [r for r in caplog.records if r.name == "backups" and r.levelno == logging.ERROR]
    assert alerts and alerts[0].event == "backup_alert"
    event = SecurityEvent.objects.get(event_type="ops_alert")
    assert event.target == "backups" and "2 of 3" in event.detail["subject"]

    sftp_server.start()
    second = services.backup_run()
    assert len(second.stored) == 3
    assert f"{first.backup_id} -> {destination_for(sftp_url).label}" in second.filled
    assert complete_ids(destination_for(sftp_url)) == sorted([first.backup_id, second.backup_id])
    assert len(mailoutbox) == 1  # no new alert


def test_a_second_concurrent_run_is_refused(backup_settings, some_data) -> None:
    with services.backup_lock():
        with pytest.raises(services.BackupLocked):
            services.backup_run()
        with pytest.raises(CommandError, match="another backup job is running"):
            call_command("backup")
        assert tasks.backup_run.delay().get() is None  # the scheduled job skips
    assert services.backup_run().stored  # free again


def test_a_run_killed_half_way_leaves_nothing_complete_and_the_next_run_cleans_up(
    backup_settings, some_data, monkeypatch
) -> None:
    def killed(destination, manifest) -> None:
        raise KeyboardInterrupt("SIGKILL stand-in: the process dies before any manifest is written")

    monkeypatch.setattr(copies, "write_manifest", killed)
    with pytest.raises(KeyboardInterrupt):
        services.backup_run()
    monkeypatch.undo()
    first = destination_for(backup_settings.BACKUP_DESTINATIONS[0])
    leftovers = [e.key for e in first.list()]
    assert leftovers and all(key.endswith(DATA_FILE) for key in leftovers)  # data, no manifest
    # What a real kill also leaves: a half-written temporary file and the work folder's content.
    dest_b = Path(backup_settings.BACKUP_DESTINATIONS[1])
    half = dest_b / leftovers[0].split("/")[0] / partial_name(MANIFEST)
    half.parent.mkdir(parents=True, exist_ok=True)
    half.write_bytes(b"{half")
    (Path(backup_settings.BACKUP_WORK_DIR) / "20260101T000000Z-000000").mkdir(parents=True)
    assert backup_list().copies == []  # nothing looks complete
    killed_id = leftovers[0].split("/")[0]
    assert {c.code for c in services.backup_verify(backup_id=killed_id)} == {"missing"}

    result = services.backup_run()
    for url in backup_settings.BACKUP_DESTINATIONS:
        assert [e.key.split("/")[0] for e in destination_for(url).list()] == [result.backup_id] * 2
    assert list(Path(backup_settings.BACKUP_WORK_DIR).iterdir()) == []


def test_offline_copy_takes_the_newest_backup_once(backup_settings, some_data) -> None:
    result = services.backup_run()
    assert services.offline_copy() == result.backup_id
    offline = destination_for(backup_settings.BACKUP_OFFLINE_DESTINATION)
    assert complete_ids(offline) == [result.backup_id]
    before = {
        e.key: Path(backup_settings.BACKUP_OFFLINE_DESTINATION, e.key).stat().st_mtime_ns
        for e in offline.list()
    }
    assert services.offline_copy() == result.backup_id  # already there: not written again
    assert before == {
        e.key: Path(backup_settings.BACKUP_OFFLINE_DESTINATION, e.key).stat().st_mtime_ns
        for e in offline.list()
    }
    assert (
        services.check_copy(
            offline, result.backup_id, load_identity(backup_settings.BACKUP_IDENTITY_FILE)
        ).code
        == "ok"
    )


def test_ensure_fresh_backs_up_when_nothing_is_recent_and_alerts_on_the_missing_offline_copy(
    backup_settings, some_data, mailoutbox
) -> None:
    status = services.ensure_fresh()
    assert all(s.ok for s in status[:3]) and not status[3].ok
    assert len(complete_ids(destination_for(backup_settings.BACKUP_DESTINATIONS[0]))) == 1
    assert len(mailoutbox) == 1 and "stale" in mailoutbox[0].subject
    services.offline_copy()
    assert all(s.ok for s in services.ensure_fresh())
    assert (
        len(complete_ids(destination_for(backup_settings.BACKUP_DESTINATIONS[0]))) == 1
    )  # fresh: no new run
    assert len(mailoutbox) == 1


def test_ensure_fresh_runs_a_backup_when_the_newest_is_older_than_12_hours(
    backup_settings, some_data
) -> None:
    import time_machine
    from django.utils import timezone

    start = timezone.now()
    with time_machine.travel(start - __import__("datetime").timedelta(hours=13)):
        services.backup_run()
    services.ensure_fresh()
    assert len(complete_ids(destination_for(backup_settings.BACKUP_DESTINATIONS[0]))) == 2


def test_development_generates_a_key_pair_on_first_use(
    backup_settings, some_data, tmp_path
) -> None:
    backup_settings.DEBUG = True
    backup_settings.BACKUP_PUBLIC_KEY = ""
    backup_settings.BACKUP_IDENTITY_FILE = ""
    backup_settings.DATA_DIR = tmp_path / "data"
    result = services.backup_run()
    identity_file = tmp_path / "data" / "backups" / "dev-identity.txt"
    key = public_key_of(load_identity(identity_file))
    assert _manifest(backup_settings.BACKUP_DESTINATIONS[0], result.backup_id).key_id == key
    assert services.backup_verify()[0].detail == "signature and checksums verified, decrypted"


def test_production_refuses_to_back_up_without_a_public_key(backup_settings, some_data) -> None:
    backup_settings.BACKUP_PUBLIC_KEY = ""
    with pytest.raises(services.BackupError, match="BACKUP_PUBLIC_KEY"):
        services.backup_run()


def test_the_backup_command_shows_progress_and_a_closing_sentence(
    backup_settings, some_data, capsys
) -> None:
    call_command("backup")

    lines = capsys.readouterr().out.splitlines()
    assert lines[0].startswith("snapshot ")
    backup_id = BackupLog.objects.filter(action="run").first().backup_id
    assert lines[-1] == f"Backup {backup_id} stored on 3 of 3 destinations, each read back."


def test_the_backup_command_with_json_prints_one_document_and_progress_on_stderr(
    backup_settings, some_data, capsys
) -> None:
    call_command("backup", "--json")

    captured = capsys.readouterr()
    document = json.loads(captured.out)
    assert sorted(document["stored"]) == sorted(backup_settings.BACKUP_DESTINATIONS)
    assert document["failed"] == {} and document["backup_id"]
    assert "snapshot" in captured.err


def test_ensure_fresh_with_json_reports_each_destination(
    backup_settings, some_data, capsys
) -> None:
    services.backup_run()
    services.offline_copy()

    call_command("backup", "--ensure-fresh", "--json")

    document = json.loads(capsys.readouterr().out)
    assert len(document["destinations"]) == 4
    assert all(d["ok"] and d["age_hours"] < 1 for d in document["destinations"])


def test_a_system_check_error_elsewhere_does_not_stop_a_backup(backup_settings, some_data) -> None:
    from django.core.checks import Error, registry
    from django.core.management import load_command_class

    def broken(app_configs: object = None, **kwargs: object) -> list[Error]:
        return [Error("something unrelated is misconfigured", id="elsewhere.E001")]

    registry.registry.register(broken)
    try:  # the way manage.py runs a command, system checks included
        load_command_class("backups", "backup").run_from_argv(["manage.py", "backup"])
    finally:
        registry.registry.registered_checks.discard(broken)
    assert BackupLog.objects.filter(action="run", ok=True).count() == 3
