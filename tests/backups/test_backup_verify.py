"""manage.py backup_verify: every failure has its own exit code (CommandError.returncode):
3 missing, 4 truncated, 5 tampered, 6 wrong key."""

from __future__ import annotations

import json
from io import StringIO
from pathlib import Path

import pytest
from django.core.management import CommandError, call_command

from backups import services
from backups.crypto import generate_identity_file
from backups.format import DATA_FILE, MANIFEST
from backups.models import BackupLog


@pytest.fixture
def backup(backup_settings, some_data) -> str:
    return services.backup_run().backup_id


def _file(settings, index: int, backup_id: str, name: str = DATA_FILE) -> Path:
    return Path(settings.BACKUP_DESTINATIONS[index]) / backup_id / name


def _exit_code(*args: str) -> int:
    with pytest.raises(CommandError) as failure:
        call_command("backup_verify", *args)
    return failure.value.returncode


def test_good_backup_verifies_with_decryption(backup, backup_settings, capsys) -> None:
    call_command("backup_verify", backup)
    assert "3 copies verified" in capsys.readouterr().out
    decrypted = BackupLog.objects.filter(
        action="verify", code="ok", detail="signature and checksums verified, decrypted"
    )
    assert decrypted.count() == 3


def test_a_flipped_byte_is_tampered(backup, backup_settings) -> None:
    path = _file(backup_settings, 1, backup)
    raw = bytearray(path.read_bytes())
    raw[len(raw) // 2] ^= 0x01
    path.write_bytes(bytes(raw))
    assert _exit_code(backup) == 5
    assert (
        BackupLog.objects.get(action="verify", code="tampered").destination
        == backup_settings.BACKUP_DESTINATIONS[1]
    )


def test_an_edited_manifest_is_tampered(backup, backup_settings) -> None:
    path = _file(backup_settings, 0, backup, MANIFEST)
    path.write_bytes(path.read_bytes().replace(b'"booking_partner": 1', b'"booking_partner": 2'))
    assert _exit_code(backup) == 5


def test_a_shortened_file_is_truncated(backup, backup_settings) -> None:
    path = _file(backup_settings, 2, backup)
    path.write_bytes(path.read_bytes()[:-100])
    assert _exit_code(backup) == 4


def test_a_deleted_file_is_missing(backup, backup_settings) -> None:
    _file(backup_settings, 0, backup).unlink()
    assert _exit_code(backup) == 3


def test_a_backup_absent_from_a_destination_is_missing(backup, backup_settings) -> None:
    import shutil

    shutil.rmtree(Path(backup_settings.BACKUP_DESTINATIONS[0]) / backup)
    assert _exit_code("--all") == 3


def test_another_identity_is_a_wrong_key(backup, backup_settings, tmp_path) -> None:
    generate_identity_file(tmp_path / "other.txt")
    backup_settings.BACKUP_IDENTITY_FILE = str(tmp_path / "other.txt")
    assert _exit_code(backup) == 6


def test_without_the_identity_checksums_are_still_verified(backup, backup_settings, capsys) -> None:
    backup_settings.BACKUP_IDENTITY_FILE = ""
    call_command("backup_verify", "--all")
    assert "not decrypted" in capsys.readouterr().out
    path = _file(backup_settings, 1, backup)
    raw = path.read_bytes()
    path.write_bytes(raw[:-1] + bytes([raw[-1] ^ 0x01]))  # always a change (b"\0" may be the byte)
    assert _exit_code("--all") == 5


def test_when_copies_fail_differently_the_highest_code_wins(backup, backup_settings) -> None:
    _file(backup_settings, 0, backup).unlink()  # missing (3)
    path = _file(backup_settings, 1, backup)
    path.write_bytes(path.read_bytes()[:-10])  # truncated (4)
    assert _exit_code(backup) == 4


def test_the_offline_copy_is_verified_too(backup, backup_settings) -> None:
    services.offline_copy()
    path = Path(backup_settings.BACKUP_OFFLINE_DESTINATION) / backup / DATA_FILE
    path.write_bytes(path.read_bytes()[:50])
    assert _exit_code("--all") == 4


def _verify_json(*args: str) -> tuple[dict, int, str]:
    out, err = StringIO(), StringIO()
    code = 0
    try:
        call_command("backup_verify", "--json", *args, stdout=out, stderr=err)
    except CommandError as failure:
        code = failure.returncode
    return json.loads(out.getvalue()), code, err.getvalue()


def test_json_reports_every_copy_in_one_document_and_keeps_progress_off_stdout(
    backup, backup_settings
) -> None:
    document, code, progress = _verify_json(backup)

    assert code == 0 and document["ok"] is True
    assert [c["result"] for c in document["checks"]] == ["ok", "ok", "ok"]
    assert {c["backup_id"] for c in document["checks"]} == {backup}
    assert sorted(c["destination"] for c in document["checks"]) == sorted(
        backup_settings.BACKUP_DESTINATIONS
    )
    assert "verifying" in progress


def test_json_on_failure_still_exits_with_the_code_of_the_worst_copy(
    backup, backup_settings
) -> None:
    _file(backup_settings, 2, backup).write_bytes(b"short")

    document, code, _ = _verify_json(backup)

    assert code == 4 and document["ok"] is False
    assert sorted(c["result"] for c in document["checks"]) == ["ok", "ok", "truncated"]
