from __future__ import annotations

from django.core.management import call_command

from backups import services


def test_lists_each_copy_with_age_size_and_verification(backup_settings, some_data, capsys) -> None:
    call_command("backup_list")
    assert "no backups" in capsys.readouterr().out
    backup_id = services.backup_run().backup_id
    services.offline_copy()
    services.backup_verify(backup_id=backup_id)
    call_command("backup_list")
    lines = [line for line in capsys.readouterr().out.splitlines() if line.startswith(backup_id)]
    assert len(lines) == 4
    assert sum("(offline)" in line for line in lines) == 1
    assert all("complete" in line for line in lines)
    assert sum(" ok " in line for line in lines) == 4  # the offline copy was verified too
