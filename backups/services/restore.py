"""Restore by one command, and the daily restore drill (C23)."""

from __future__ import annotations

import logging
import secrets
import shutil
import sqlite3
import tempfile
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

from django.db import connection
from django.db.migrations.loader import MigrationLoader

from backups import crypto
from backups.destinations import Destination, destination_for
from backups.format import (
    DATA_FILE,
    HashingWriter,
    Writable,
    unknown_migrations,
)
from backups.models import BackupLog
from backups.selectors import (
    complete_ids,
    regular_destinations,
)
from backups.services.base import BackupError, Progress, alert, identity, journal, quiet, work_dir
from backups.services.copies import check_copy, download, read_manifest
from backups.snapshot import (
    Target,
    pg_create_database,
    pg_drop_database,
    pg_restore_from,
    pg_row_counts,
    sqlite_restored_copy,
    sqlite_row_counts,
)

logger = logging.getLogger("backups")


@dataclass
class RestoreResult:
    backup_id: str
    source: str
    target: str
    row_counts: dict[str, int]


def _known_migrations() -> dict[str, set[str]]:
    known: dict[str, set[str]] = {}
    for app, name in MigrationLoader(None, ignore_no_migrations=True).disk_migrations:
        known.setdefault(app, set()).add(name)
    return known


def latest_complete(source: str | None = None) -> tuple[Destination, str]:
    candidates = [destination_for(source)] if source else regular_destinations()
    best: tuple[Destination, str] | None = None
    for destination in candidates:
        try:
            ids = complete_ids(destination)
        except Exception as exc:
            logger.warning(
                "backup destination unavailable",
                extra={"destination": destination.label, "error": str(exc)},
            )
            continue
        if ids and (best is None or ids[-1] > best[1]):
            best = (destination, ids[-1])
    if best is None:
        raise BackupError("no complete backup found on " + ", ".join(d.label for d in candidates))
    return best


def backup_restore(
    *,
    backup_id: str | None = None,
    source: str | None = None,
    target_url: str | None = None,
    confirm: Callable[[str], bool] = lambda prompt: False,
    progress: Progress = quiet,
    action: str = "restore",
) -> RestoreResult:
    """1. pick the copy (newest complete, or `backup_id` from the first destination that
    verifies); 2. verify it: manifest, size, SHA-256, key; 3. refuse another engine or a schema
    newer than this code; 4. ask `confirm`; 5. stream decrypt into pg_restore (or a SQLite
    copy); 6. compare the target's row counts with the manifest."""
    key = identity()
    if key is None:
        raise BackupError("no identity to decrypt with: set BACKUP_IDENTITY_FILE on this machine")
    target = (
        Target.from_url(target_url)
        if target_url
        else Target.from_settings(connection.settings_dict)
    )
    if backup_id is None:
        chosen, backup_id = latest_complete(source)
        candidates = [chosen]
    else:
        candidates = [destination_for(source)] if source else regular_destinations()
    problems = []
    for destination in candidates:
        check = check_copy(destination, backup_id, key)
        if check.code == "ok":
            break
        problems.append(f"{destination.label}: {check.code} ({check.detail})")
    else:
        raise BackupError(f"no good copy of {backup_id}: " + "; ".join(problems))
    manifest = read_manifest(destination, backup_id)
    if manifest.engine != target.engine:
        raise BackupError(
            f"backup {backup_id} is a {manifest.engine} dump; the target is {target.engine}: refused"
        )
    newer = unknown_migrations(manifest.migrations, _known_migrations())
    if newer:
        raise BackupError(
            f"backup {backup_id} has a newer schema than this code (unknown migrations: {', '.join(newer[:5])}): refused"
        )
    if not confirm(
        f"Restore {backup_id} from {destination.label} into {target.label}, replacing its content?"
    ):
        raise BackupError("restore not confirmed")
    progress(f"restoring {backup_id} from {destination.label} into {target.label} ...")
    with tempfile.TemporaryDirectory(dir=work_dir()) as temp:
        data = download(destination, manifest, Path(temp))
        expected = manifest.file(DATA_FILE).plaintext_sha256

        def decrypt_into(stream: Writable) -> None:
            writer = HashingWriter(stream)
            with open(data, "rb") as handle:
                crypto.decrypt_stream(handle, writer, key)
            if writer.hexdigest() != expected:
                raise BackupError("decrypted dump does not match its checksum")

        if target.engine == "postgresql":
            if target.name == connection.settings_dict["NAME"]:
                connection.close()
            pg_restore_from(target, decrypt_into, clean=True)
            with target.connect() as conn:
                counts = pg_row_counts(conn, list(manifest.row_counts))
        else:
            with sqlite_restored_copy(Path(temp), decrypt_into) as copy:
                live = target.name == str(connection.settings_dict["NAME"]) and not target_url
                if live:
                    connection.ensure_connection()
                    copy.backup(connection.connection)
                    counts = sqlite_row_counts(connection.connection, list(manifest.row_counts))
                else:
                    with sqlite3.connect(target.name) as out:
                        copy.backup(out)
                        counts = sqlite_row_counts(out, list(manifest.row_counts))
                    out.close()
    if counts != manifest.row_counts:
        diff = {
            t: (manifest.row_counts[t], counts.get(t))
            for t in manifest.row_counts
            if counts.get(t) != manifest.row_counts[t]
        }
        raise BackupError(f"row counts differ from the manifest after restore: {diff}")
    progress(f"  restored; row counts match the manifest ({sum(counts.values()):,} rows)")
    if action == "restore":
        journal(
            "restore",
            backup_id=backup_id,
            destination=destination.label,
            ok=True,
            detail=f"into {target.label}",
        )
    return RestoreResult(backup_id, destination.label, target.label, counts)


def backup_drill(*, progress: Progress = quiet) -> BackupLog:
    """C23: restores the newest backup into a scratch database, compares the row counts with
    the manifest, drops the scratch database, records the result and alerts on failure."""
    live = Target.from_settings(connection.settings_dict)
    scratch_name = f"{live.name}_drill_{secrets.token_hex(4)}"[:63]
    backup_id, scratch_url, temp_dir = "", None, None
    try:
        _destination, backup_id = latest_complete()
        if live.engine == "postgresql":
            scratch = pg_create_database(live, scratch_name)
            scratch_url = f"postgres://{scratch.user}@{scratch.host or 'localhost'}:{scratch.port or 5432}/{scratch.name}"
            if scratch.password:
                scratch_url = scratch_url.replace("@", f":{scratch.password}@", 1)
        else:
            temp_dir = tempfile.mkdtemp(dir=work_dir())
            scratch_url = f"sqlite:///{temp_dir}/drill.sqlite3"
        result = backup_restore(
            backup_id=backup_id,
            target_url=scratch_url,
            confirm=lambda prompt: True,
            progress=progress,
            action="drill",
        )
        row = BackupLog.objects.create(
            action="drill",
            backup_id=backup_id,
            destination=result.source,
            ok=True,
            code="ok",
            detail=f"{sum(result.row_counts.values())} rows match the manifest",
        )
    except Exception as exc:
        row = BackupLog.objects.create(
            action="drill", backup_id=backup_id, ok=False, code="failed", detail=str(exc)[:5000]
        )
        alert("restore drill failed", str(exc), backup_id=backup_id)
    finally:
        if live.engine == "postgresql" and scratch_url:
            pg_drop_database(live, scratch_name)
        if temp_dir:
            shutil.rmtree(temp_dir, ignore_errors=True)
    return row
