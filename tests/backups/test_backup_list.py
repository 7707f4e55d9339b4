"""`manage.py backup_list`: each copy on each destination with its time (UTC), age, size, state
and its latest verification (a backup run reads every copy back: that counts); --json gives the
same as one document; a destination that cannot be listed is a clear failure, after the rest."""

from __future__ import annotations

import json
from io import StringIO

import pytest
import time_machine
from django.core.management import CommandError, call_command

from backups import services


def _run(*args: str) -> str:
    out = StringIO()
    call_command("backup_list", *args, stdout=out)
    return out.getvalue()


def test_lists_each_copy_with_age_size_and_verification(backup_settings, some_data) -> None:
    assert "No backups" in _run()
    backup_id = services.backup_run().backup_id
    services.offline_copy()
    services.backup_verify(backup_id=backup_id)
    lines = [line for line in _run().splitlines() if line.startswith(backup_id)]
    assert len(lines) == 4
    assert sum("(offline)" in line for line in lines) == 1
    assert all("complete" in line for line in lines)
    assert sum(" ok " in line for line in lines) == 4  # the offline copy was verified too


def test_a_backup_run_counts_as_a_verification_of_each_copy(backup_settings, some_data) -> None:
    with time_machine.travel("2026-03-05T10:00:00Z", tick=False):
        backup_id = services.backup_run().backup_id
    with time_machine.travel("2026-03-05T11:30:00Z", tick=False):
        output = _run()

    lines = [line for line in output.splitlines() if line.startswith(backup_id)]
    assert len(lines) == 3
    assert not any("never" in line for line in lines), output
    assert all("2026-03-05 10:00:00 UTC" in line for line in lines), output  # created
    assert all("ok 2026-03-05 10:00:00 UTC" in line for line in lines), output  # verified
    assert all("1.5h" in line for line in lines), output
    assert "(UTC)" in output.splitlines()[0]


def test_an_offline_copy_made_by_copying_counts_as_verified(backup_settings, some_data) -> None:
    backup_id = services.backup_run().backup_id
    services.offline_copy()

    offline = [line for line in _run().splitlines() if "(offline)" in line]
    assert len(offline) == 1 and offline[0].startswith(backup_id) and " ok " in offline[0]


def test_json_gives_every_copy_in_one_document(backup_settings, some_data) -> None:
    with time_machine.travel("2026-03-05T10:00:00Z", tick=False):
        backup_id = services.backup_run().backup_id
    with time_machine.travel("2026-03-05T11:30:00Z", tick=False):
        document = json.loads(_run("--json"))

    copies = document["copies"]
    assert len(copies) == 3 and document["unreachable"] == {}
    first = copies[0]
    assert first["backup_id"] == backup_id and first["complete"] is True
    assert first["created_at"] == "2026-03-05T10:00:00+00:00" and first["age_hours"] == 1.5
    assert first["size"] > 0 and first["offline"] is False
    assert first["verification"]["result"] == "ok"
    assert first["verification"]["at"] == "2026-03-05T10:00:00+00:00"
    assert sorted(c["destination"] for c in copies) == sorted(backup_settings.BACKUP_DESTINATIONS)


def test_json_without_backups_is_an_empty_list(backup_settings, db) -> None:
    assert json.loads(_run("--json")) == {"copies": [], "unreachable": {}}


def test_an_unreachable_destination_fails_clearly_after_listing_the_rest(
    backup_settings, some_data
) -> None:
    backup_id = services.backup_run().backup_id
    unreachable = "sftp://backup@127.0.0.1:9/srv?host_key=SHA256:abc"
    backup_settings.BACKUP_OFFLINE_DESTINATION = unreachable
    out = StringIO()

    with pytest.raises(CommandError, match="sftp://backup@127.0.0.1:9/srv"):
        call_command("backup_list", stdout=out)

    assert sum(line.startswith(backup_id) for line in out.getvalue().splitlines()) == 3
