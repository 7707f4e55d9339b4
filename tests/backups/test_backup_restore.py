from __future__ import annotations

import secrets
import sqlite3
from collections.abc import Iterator
from pathlib import Path

import pytest
from django.core.management import CommandError, call_command
from django.db import connection

from backups import services
from backups.format import MANIFEST, Manifest
from backups.snapshot import (
    Target,
    pg_create_database,
    pg_drop_database,
    pg_row_counts,
    sqlite_row_counts,
)


@pytest.fixture
def backup(backup_settings, some_data) -> str:
    return services.backup_run().backup_id


@pytest.fixture
def scratch_url(tmp_path: Path) -> Iterator[str]:
    """An empty database of the test's engine, made by the test: a file on SQLite, a database
    on the same PostgreSQL server otherwise."""
    live = Target.from_settings(connection.settings_dict)
    if live.engine == "sqlite":
        yield f"sqlite:///{tmp_path / 'scratch.sqlite3'}"
        return
    name = f"{live.name}_scratch_{secrets.token_hex(3)}"
    scratch = pg_create_database(live, name)
    try:
        yield f"postgres://{scratch.user}@{scratch.host}:{scratch.port or 5432}/{name}"
    finally:
        pg_drop_database(live, name)


def _counts(url: str, tables: list[str]) -> dict[str, int]:
    target = Target.from_url(url)
    if target.engine == "sqlite":
        with sqlite3.connect(target.name) as conn:
            return sqlite_row_counts(conn, tables)
    with target.connect() as conn:
        return pg_row_counts(conn, tables)


def _manifest(settings, backup_id: str) -> Manifest:
    return Manifest.from_bytes(
        (Path(settings.BACKUP_DESTINATIONS[0]) / backup_id / MANIFEST).read_bytes()
    )


def test_restore_into_a_scratch_database_matches_the_manifest(
    backup, backup_settings, scratch_url, capsys
) -> None:
    call_command("backup_restore", backup, "--target-database", scratch_url, "--yes")
    assert "row counts match the manifest" in capsys.readouterr().out
    manifest = _manifest(backup_settings, backup)
    assert _counts(scratch_url, list(manifest.row_counts)) == manifest.row_counts
    assert manifest.row_counts["booking_partner"] == 1


@pytest.mark.postgres
def test_restore_into_a_scratch_postgres_database_created_by_the_test(
    backup, backup_settings, scratch_url
) -> None:
    assert scratch_url.startswith("postgres://")
    result = services.backup_restore(
        backup_id=backup, target_url=scratch_url, confirm=lambda prompt: True
    )
    assert result.row_counts == _manifest(backup_settings, backup).row_counts
    with Target.from_url(scratch_url).connect() as conn:
        assert conn.execute("SELECT slug FROM booking_partner").fetchall() == [("salon",)]


def test_restore_from_any_single_destination_alone(backup, backup_settings, scratch_url) -> None:
    import shutil

    only = backup_settings.BACKUP_DESTINATIONS[2]
    for url in backup_settings.BACKUP_DESTINATIONS[:2]:
        shutil.rmtree(url)
    backup_settings.BACKUP_DESTINATIONS = []  # a fresh server: nothing configured but the key
    call_command(
        "backup_restore", "--latest", "--from", only, "--target-database", scratch_url, "--yes"
    )
    assert _counts(scratch_url, ["booking_partner"]) == {"booking_partner": 1}


def test_a_damaged_copy_is_skipped_for_a_good_one(backup, backup_settings, scratch_url) -> None:
    path = Path(backup_settings.BACKUP_DESTINATIONS[0]) / backup / "db.dump.age"
    path.write_bytes(path.read_bytes()[:-5])
    result = services.backup_restore(
        backup_id=backup, target_url=scratch_url, confirm=lambda prompt: True
    )
    assert result.source == backup_settings.BACKUP_DESTINATIONS[1]


def test_restore_refuses_a_dump_of_another_engine(backup, backup_settings, tmp_path) -> None:
    other = (
        "postgres://postgres@127.0.0.1:5432/never_touched"
        if connection.vendor == "sqlite"
        else f"sqlite:///{tmp_path / 'x.sqlite3'}"
    )
    with pytest.raises(CommandError, match="refused"):
        call_command("backup_restore", backup, "--target-database", other, "--yes")
    assert not (tmp_path / "x.sqlite3").exists()


def test_restore_refuses_a_newer_schema(backup_settings, some_data, scratch_url) -> None:
    from django.db.migrations.recorder import MigrationRecorder

    recorder = MigrationRecorder(connection)
    recorder.record_applied("booking", "9999_from_the_future")
    try:  # django_migrations is not flushed between tests: clean up by hand
        backup_id = services.backup_run().backup_id
    finally:
        recorder.record_unapplied("booking", "9999_from_the_future")
    with pytest.raises(CommandError, match="newer schema"):
        call_command("backup_restore", backup_id, "--target-database", scratch_url, "--yes")


def test_without_yes_and_without_a_terminal_it_refuses(
    backup, backup_settings, scratch_url
) -> None:
    with pytest.raises(CommandError, match="pass --yes"):
        call_command("backup_restore", "--latest", "--target-database", scratch_url)


def test_restore_refuses_without_the_identity(backup, backup_settings, scratch_url) -> None:
    backup_settings.BACKUP_IDENTITY_FILE = ""
    with pytest.raises(CommandError, match="BACKUP_IDENTITY_FILE"):
        call_command("backup_restore", "--latest", "--target-database", scratch_url, "--yes")


def test_an_unconfirmed_restore_changes_nothing(backup, backup_settings, scratch_url) -> None:
    with pytest.raises(services.BackupError, match="not confirmed"):
        services.backup_restore(
            backup_id=backup, target_url=scratch_url, confirm=lambda prompt: False
        )
    if scratch_url.startswith("sqlite"):
        assert not Path(Target.from_url(scratch_url).name).exists()
    else:
        with Target.from_url(scratch_url).connect() as conn:
            assert (
                conn.execute(
                    "SELECT count(*) FROM pg_tables WHERE schemaname = 'public'"
                ).fetchone()[0]
                == 0
            )
