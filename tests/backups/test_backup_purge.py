from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
import time_machine
from _backup_helpers import flip_byte
from django.core.management import CommandError, call_command

from backups import services
from backups.destinations import destination_for
from backups.format import DATA_FILE
from backups.selectors import copies_on
from security.models import SecurityEvent

T0 = datetime(2026, 1, 1, 12, 0, tzinfo=UTC)


def _ids(url: str) -> set[str]:
    return set(copies_on(destination_for(url)))


def test_purge_deletes_exactly_the_backups_older_than_30_days_everywhere(
    backup_settings, some_data, capsys
) -> None:
    with time_machine.travel(T0, tick=False):
        old = services.backup_run().backup_id
        services.offline_copy()
    with time_machine.travel(T0 + timedelta(days=5), tick=False):
        younger = services.backup_run().backup_id
        services.offline_copy()
    with time_machine.travel(T0 + timedelta(days=30, hours=1), tick=False):
        recent = services.backup_run().backup_id
        # An abandoned incomplete copy of the same age goes as well.
        (Path(backup_settings.BACKUP_DESTINATIONS[0]) / "20251201T000000Z-aaaaaa").mkdir()
        (
            Path(backup_settings.BACKUP_DESTINATIONS[0]) / "20251201T000000Z-aaaaaa" / DATA_FILE
        ).write_bytes(b"x")
        call_command("backup_purge")
    assert "Deleted 5 copies older than 30 days" in capsys.readouterr().out
    for url in backup_settings.BACKUP_DESTINATIONS:
        assert _ids(url) == {younger, recent}
    assert _ids(backup_settings.BACKUP_OFFLINE_DESTINATION) == {younger}
    assert old not in str(list(Path(backup_settings.BACKUP_DESTINATIONS[0]).rglob("*")))


def test_a_backup_29_days_old_is_kept(backup_settings, some_data) -> None:
    with time_machine.travel(T0, tick=False):
        kept = services.backup_run().backup_id
    with time_machine.travel(T0 + timedelta(days=29, hours=23), tick=False):
        services.backup_purge()
    assert all(kept in _ids(url) for url in backup_settings.BACKUP_DESTINATIONS)


def test_the_only_complete_backup_is_never_deleted_the_operators_are_alerted(
    backup_settings, some_data, mailoutbox
) -> None:
    with time_machine.travel(T0, tick=False):
        only = services.backup_run().backup_id
    with time_machine.travel(T0 + timedelta(days=40), tick=False):
        result = services.backup_purge()
    assert result.kept_only_backup == only
    assert all(_ids(url) == {only} for url in backup_settings.BACKUP_DESTINATIONS)
    assert len(mailoutbox) == 1 and "only complete one" in mailoutbox[0].subject


def test_purge_with_json_lists_what_was_deleted_where(backup_settings, some_data, capsys) -> None:
    with time_machine.travel(T0, tick=False):
        old = services.backup_run().backup_id
    with time_machine.travel(T0 + timedelta(days=31), tick=False):
        services.backup_run()
        call_command("backup_purge", "--json")

    document = json.loads(capsys.readouterr().out)
    assert document["kept_only_backup"] is None
    assert document["deleted"] == {
        **{url: [old] for url in backup_settings.BACKUP_DESTINATIONS},
        backup_settings.BACKUP_OFFLINE_DESTINATION: [],
    }


def test_purge_says_when_there_was_nothing_to_delete(backup_settings, some_data, capsys) -> None:
    services.backup_run()
    call_command("backup_purge")
    assert capsys.readouterr().out.splitlines()[-1] == (
        "Nothing to delete: no backup is older than 30 days."
    )


def _on_three_servers(backup_settings, sftp_server, s3_bucket, tmp_path) -> list[str]:
    backup_settings.BACKUP_DESTINATIONS = [str(tmp_path / "local"), sftp_server.url(), s3_bucket]
    return backup_settings.BACKUP_DESTINATIONS


def _ops_alerts() -> list[str]:
    return [
        f"{e.detail['subject']}\n{e.detail['message']}"
        for e in SecurityEvent.objects.filter(event_type="ops_alert").order_by("id")
    ]


def test_purge_deletes_on_every_reachable_destination_while_one_is_down_and_retries_it(
    backup_settings, some_data, sftp_server, s3_bucket, tmp_path, mailoutbox
) -> None:
    local, sftp, s3 = _on_three_servers(backup_settings, sftp_server, s3_bucket, tmp_path)
    with time_machine.travel(T0, tick=False):
        old = services.backup_run().backup_id
    with time_machine.travel(T0 + timedelta(days=20), tick=False):
        recent = services.backup_run().backup_id
    sftp_server.stop()

    with time_machine.travel(T0 + timedelta(days=31), tick=False):
        with pytest.raises(CommandError) as failure:
            call_command("backup_purge")
    assert destination_for(sftp).label in str(failure.value)
    assert _ids(local) == {recent} and _ids(s3) == {recent}
    alerts = _ops_alerts()
    assert len(alerts) == 1 and destination_for(sftp).label in alerts[0]
    assert mailoutbox and destination_for(sftp).label in mailoutbox[-1].body

    sftp_server.start()
    with time_machine.travel(T0 + timedelta(days=31, hours=1), tick=False):
        call_command("backup_purge")
    assert _ids(sftp) == {recent}
    assert old not in str(list((sftp_server.root / "backups").rglob("*")))


def test_purge_keeps_the_newest_backup_that_verifies_when_the_recent_ones_are_corrupt(
    backup_settings, some_data, sftp_server, s3_bucket, tmp_path
) -> None:
    destinations = _on_three_servers(backup_settings, sftp_server, s3_bucket, tmp_path)
    with time_machine.travel(T0, tick=False):
        good = services.backup_run().backup_id
    corrupt = []
    for days in (10, 20, 34):
        with time_machine.travel(T0 + timedelta(days=days), tick=False):
            corrupt.append(services.backup_run().backup_id)
    for backup_id in corrupt:
        for url in destinations:
            flip_byte(url, f"{backup_id}/{DATA_FILE}")

    with time_machine.travel(T0 + timedelta(days=35), tick=False):
        result = services.backup_purge()

    assert result.kept_only_backup == good
    for url in destinations:
        assert _ids(url) == {good, *corrupt}
    alert = _ops_alerts()[-1]
    assert good in alert and "verifies" in alert and all(b in alert for b in corrupt)


def test_a_versioned_bucket_keeps_no_old_version_of_a_purged_backup(
    backup_settings, some_data, s3_server, s3_bucket, tmp_path
) -> None:
    import boto3

    client = boto3.client("s3", endpoint_url=s3_server, region_name="us-east-1")
    bucket = destination_for(s3_bucket).bucket
    client.put_bucket_versioning(Bucket=bucket, VersioningConfiguration={"Status": "Enabled"})
    backup_settings.BACKUP_DESTINATIONS = [str(tmp_path / "a"), str(tmp_path / "b"), s3_bucket]
    with time_machine.travel(T0, tick=False):
        old = services.backup_run().backup_id
    with time_machine.travel(T0 + timedelta(days=31), tick=False):
        services.backup_run()
        services.backup_purge()

    listing = client.list_object_versions(Bucket=bucket, Prefix=f"nightly/{old}")
    assert listing.get("Versions", []) == [] and listing.get("DeleteMarkers", []) == []


def test_a_missing_offline_medium_is_a_failure_not_nothing_to_delete(
    backup_settings, some_data, tmp_path, mailoutbox
) -> None:
    with time_machine.travel(T0, tick=False):
        services.backup_run()
        services.offline_copy()
    backup_settings.BACKUP_OFFLINE_DESTINATION = str(tmp_path / "unplugged" / "booking")

    with time_machine.travel(T0 + timedelta(days=31), tick=False):
        with pytest.raises(CommandError, match="unplugged"):
            call_command("backup_purge")
    assert any("unplugged" in a for a in _ops_alerts())
    assert not (tmp_path / "unplugged").exists()  # nothing written where the medium should be


def test_when_no_backup_verifies_the_purge_deletes_no_complete_one_and_says_why(
    backup_settings, some_data, tmp_path
) -> None:
    from _backup_helpers import signing_key_pair

    with time_machine.travel(T0, tick=False):
        old = services.backup_run().backup_id
    with time_machine.travel(T0 + timedelta(days=20), tick=False):
        recent = services.backup_run().backup_id
    # This machine trusts another key than the one the backups were signed with: every copy
    # "fails", and that must not cost the backups.
    backup_settings.BACKUP_SIGNING_PUBLIC_KEYS = [signing_key_pair()[1]]

    with time_machine.travel(T0 + timedelta(days=35), tick=False):
        result = services.backup_purge()

    assert all(_ids(url) == {old, recent} for url in backup_settings.BACKUP_DESTINATIONS)
    assert result.deleted[backup_settings.BACKUP_DESTINATIONS[0]] == []
    assert "none verifies" in _ops_alerts()[-1]
