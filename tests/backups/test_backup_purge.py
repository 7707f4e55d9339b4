from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta
from pathlib import Path

import time_machine
from django.core.management import call_command

from backups import services
from backups.destinations import destination_for
from backups.format import DATA_FILE
from backups.selectors import copies_on

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
