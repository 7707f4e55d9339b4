"""Restore by one command, and the daily restore drill (C23)."""

from __future__ import annotations

import logging
import secrets
import shutil
import sqlite3
import tempfile
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

import psycopg
from django.db import connection
from django.db.migrations.loader import MigrationLoader
from pyrage import x25519

from backups import crypto
from backups.destinations import Destination, destination_for
from backups.events import BackupEvent
from backups.format import DATA_FILE, HashingWriter, Writable, unknown_migrations
from backups.models import BackupLog, CopyState
from backups.selectors import complete_ids
from backups.services.base import (
    BackupError,
    Progress,
    alert,
    closing,
    identity,
    journal,
    quiet,
    regular,
    trusted_keys,
    work_dir,
)
from backups.services.copies import CopyCheck, Fetched, fetch_verified
from backups.signing import TrustedKeys
from backups.snapshot import (
    SnapshotError,
    Target,
    pg_create_database,
    pg_drop_database,
    pg_restore_from,
    pg_row_counts,
    sqlite_restored_copy,
    sqlite_row_counts,
)
from security.actors import Actor
from security.events import record_event

logger = logging.getLogger("backups")


@dataclass
class RestoreResult:
    backup_id: str
    source: str
    target: str
    row_counts: dict[str, int]
    # Copies that did not verify and were passed over for another one.
    skipped: list[CopyCheck] = field(default_factory=list)


def _known_migrations() -> dict[str, set[str]]:
    known: dict[str, set[str]] = {}
    for app, name in MigrationLoader(None, ignore_no_migrations=True).disk_migrations:
        known.setdefault(app, set()).add(name)
    return known


def _require_database(target: Target) -> None:
    """pg_restore into a database that is not there dies at once, and what the operator then
    sees is the decryptor's broken pipe; say what is wrong instead, before reading anything."""
    try:
        target.connect(connect_timeout=10).close()
    except psycopg.OperationalError as exc:
        host, port = target.host or "localhost", target.port or "5432"
        if "does not exist" in str(exc):
            raise BackupError(
                f"the database {target.name!r} does not exist on {host}:{port}: create it "
                f"first (createdb -h {host} -p {port} -U {target.user or 'postgres'} "
                f"{target.name}), then restore again"
            ) from exc
        raise BackupError(f"cannot connect to {target.label}: {exc}".strip()) from exc


def _choose(
    destinations: list[Destination],
    backup_id: str | None,
    into: Path,
    trust: TrustedKeys,
    progress: Progress,
) -> tuple[Fetched, list[CopyCheck]]:
    """The copy to restore, downloaded and verified: `backup_id` from the first destination
    whose copy verifies; without an id the newest backup that has a copy that verifies, walking
    every destination that holds it before going back to an older backup."""
    if backup_id is not None:
        candidates = [(backup_id, destinations)]
    else:
        held: dict[str, list[str]] = {}
        for destination in destinations:
            try:
                held[destination.label] = complete_ids(destination)
            except Exception as exc:
                progress(f"  {destination.label} cannot be listed: {exc}")
        ids = sorted({b for ids in held.values() for b in ids}, reverse=True)
        if not ids:
            raise BackupError(
                "no complete backup found on " + ", ".join(d.label for d in destinations)
            )
        candidates = [
            (bid, [d for d in destinations if bid in held.get(d.label, [])]) for bid in ids
        ]
    skipped: list[CopyCheck] = []
    for bid, holders in candidates:
        fetched, bad = fetch_verified(holders, bid, into, trust=trust, progress=progress)
        skipped.extend(bad)
        if fetched is not None:
            return fetched, skipped
        reasons = "; ".join(f"{c.destination}: {c.code} ({c.detail})" for c in bad)
        if backup_id is not None:
            raise BackupError(f"no good copy of {bid}: {reasons}")
        progress(f"{bid}: no good copy ({reasons}); trying the next older backup")
    raise BackupError("no good copy of any backup on " + ", ".join(d.label for d in destinations))


def backup_restore(
    *,
    actor: Actor,
    backup_id: str | None = None,
    source: str | None = None,
    target_url: str | None = None,
    confirm: Callable[[str], bool] = lambda prompt: False,
    progress: Progress = quiet,
    action: BackupLog.Action = BackupLog.Action.RESTORE,
) -> RestoreResult:
    """1. the target database must exist; 2. pick the copy (`backup_id`, or the newest backup
    with a copy that verifies), download it and verify it: signed manifest, size, SHA-256;
    damaged copies passed over are alerted; 3. refuse another key, another engine or a schema
    newer than this code; 4. ask `confirm`; 5. stream the decryption into pg_restore (or a
    SQLite copy), checking the plaintext checksum; 6. compare the target's row counts with the
    manifest; 7. journal it and record it in the security event log."""
    key = identity()
    if key is None:
        raise BackupError("no identity to decrypt with: set BACKUP_IDENTITY_FILE on this machine")
    trust = trusted_keys()
    target = (
        Target.from_url(target_url)
        if target_url
        else Target.from_settings(connection.settings_dict)
    )
    destinations = [destination_for(source)] if source else regular(budget=False)
    with closing(destinations), tempfile.TemporaryDirectory(dir=work_dir()) as temp:
        fetched, skipped = _choose(destinations, backup_id, Path(temp), trust, progress)
        manifest, backup_id = fetched.manifest, fetched.manifest.backup_id
        damaged = [c for c in skipped if c.code not in (CopyState.UNREACHABLE, CopyState.MISSING)]
        if damaged and action == BackupLog.Action.RESTORE:  # the drill reports them itself
            alert(
                f"{action}: {len(damaged)} copies do not verify",
                "\n".join(str(c) for c in damaged),
                backup_id=backup_id,
            )
        if crypto.public_key_of(key) != manifest.key_id:
            raise BackupError(
                f"backup {backup_id} is encrypted to {manifest.key_id}; the identity here is "
                f"{crypto.public_key_of(key)}"
            )
        if manifest.engine != target.engine:
            raise BackupError(
                f"backup {backup_id} is a {manifest.engine} dump; the target is {target.engine}: refused"
            )
        newer = unknown_migrations(manifest.migrations, _known_migrations())
        if newer:
            raise BackupError(
                f"backup {backup_id} has a newer schema than this code (unknown migrations: {', '.join(newer[:5])}): refused"
            )
        if target.engine == "postgresql":
            _require_database(target)
        source_label = fetched.source.label
        if not confirm(
            f"Restore {backup_id} from {source_label} into {target.label}, replacing its content?"
        ):
            raise BackupError("restore not confirmed")
        progress(f"restoring {backup_id} from {source_label} into {target.label} ...")
        try:
            counts = _restore_file(fetched, key, target, Path(temp), live_default=not target_url)
        except SnapshotError as exc:
            raise BackupError(str(exc)) from exc
    if counts != manifest.row_counts:
        diff = {
            t: (manifest.row_counts[t], counts.get(t))
            for t in manifest.row_counts
            if counts.get(t) != manifest.row_counts[t]
        }
        raise BackupError(f"row counts differ from the manifest after restore: {diff}")
    progress(f"  restored; row counts match the manifest ({sum(counts.values()):,} rows)")
    if action == BackupLog.Action.RESTORE:
        journal(
            BackupLog.Action.RESTORE,
            backup_id=backup_id,
            destination=source_label,
            ok=True,
            detail=f"into {target.label}",
        )
        record_event(
            event_type=BackupEvent.RESTORED,
            actor=actor,
            target=f"backup {backup_id}",
            detail={"source": source_label, "into": target.label},
        )
    return RestoreResult(backup_id, source_label, target.label, counts, skipped)


def _restore_file(
    fetched: Fetched, key: x25519.Identity, target: Target, temp: Path, *, live_default: bool
) -> dict[str, int]:
    """Decrypts the verified local file into the target; returns the target's row counts."""
    manifest = fetched.manifest
    expected = manifest.file(DATA_FILE).plaintext_sha256

    def decrypt_into(stream: Writable) -> None:
        writer = HashingWriter(stream)
        with open(fetched.path, "rb") as handle:
            crypto.decrypt_stream(handle, writer, key)
        if writer.hexdigest() != expected:
            raise BackupError("decrypted dump does not match its checksum")

    if target.engine == "postgresql":
        if target.name == connection.settings_dict["NAME"]:
            connection.close()
        pg_restore_from(target, decrypt_into, clean=True)
        with target.connect() as conn:
            return pg_row_counts(conn, list(manifest.row_counts))
    with sqlite_restored_copy(temp, decrypt_into) as copy:
        if live_default and target.name == str(connection.settings_dict["NAME"]):
            connection.ensure_connection()
            copy.backup(connection.connection)
            return sqlite_row_counts(connection.connection, list(manifest.row_counts))
        with sqlite3.connect(target.name) as out:
            copy.backup(out)
            counts = sqlite_row_counts(out, list(manifest.row_counts))
        out.close()
        return counts


def backup_drill(*, progress: Progress = quiet) -> BackupLog:
    """C23: restores the newest backup that verifies into a scratch database, compares the row
    counts with the manifest, drops the scratch database, records the result and alerts on
    failure. Having had to pass over a damaged copy is a failure too: the restore worked, the
    backups are not as they should be."""
    live = Target.from_settings(connection.settings_dict)
    scratch_name = f"{live.name}_drill_{secrets.token_hex(4)}"[:63]
    backup_id, scratch_url, temp_dir = "", None, None
    try:
        if live.engine == "postgresql":
            scratch = pg_create_database(live, scratch_name)
            scratch_url = f"postgres://{scratch.user}@{scratch.host or 'localhost'}:{scratch.port or 5432}/{scratch.name}"
            if scratch.password:
                scratch_url = scratch_url.replace("@", f":{scratch.password}@", 1)
        else:
            temp_dir = tempfile.mkdtemp(dir=work_dir())
            scratch_url = f"sqlite:///{temp_dir}/drill.sqlite3"
        result = backup_restore(
            actor=Actor.system("backup_drill"),
            target_url=scratch_url,
            confirm=lambda prompt: True,
            progress=progress,
            action=BackupLog.Action.DRILL,
        )
        backup_id = result.backup_id
        damaged = [c for c in result.skipped if c.code != CopyState.UNREACHABLE]
        if damaged:
            raise BackupError(
                f"restored {backup_id} from {result.source}, but had to pass over copies that "
                "do not verify: " + "; ".join(str(c) for c in damaged)
            )
        row = BackupLog.objects.create(
            action=BackupLog.Action.DRILL,
            backup_id=backup_id,
            destination=result.source,
            ok=True,
            code="ok",
            detail=f"{sum(result.row_counts.values())} rows match the manifest",
        )
    except Exception as exc:
        row = BackupLog.objects.create(
            action=BackupLog.Action.DRILL,
            backup_id=backup_id,
            ok=False,
            code="failed",
            detail=str(exc)[:5000],
        )
        alert("restore drill failed", str(exc), backup_id=backup_id)
    finally:
        if live.engine == "postgresql" and scratch_url:
            pg_drop_database(live, scratch_name)
        if temp_dir:
            shutil.rmtree(temp_dir, ignore_errors=True)
    return row
