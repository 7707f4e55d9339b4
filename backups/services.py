"""Backup jobs: run, verify, restore, drill, offline copy, purge, freshness (C21-C25).

Every job that writes to destinations holds one lock (a PostgreSQL advisory lock, or a file lock
on SQLite), so two never overlap; a second copy is refused with BackupLocked. Alerts go to the
operators (mail_admins) and to the "backups" logger at ERROR level.
"""

from __future__ import annotations

import fcntl
import hashlib
import logging
import secrets
import shutil
import sqlite3
import tempfile
from collections.abc import Callable, Iterator
from concurrent.futures import ThreadPoolExecutor
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import timedelta
from pathlib import Path

from django.conf import settings
from django.core.mail import mail_admins
from django.db import connection
from django.db.migrations.loader import MigrationLoader
from django.utils import timezone
from pyrage import x25519

from backups import crypto
from backups.destinations import Destination, destination_for
from backups.format import (
    CHUNK,
    DATA_FILE,
    MANIFEST,
    FileEntry,
    HashingWriter,
    Manifest,
    ManifestError,
    Readable,
    Writable,
    backup_time,
    is_partial,
    key_of,
    new_backup_id,
    unknown_migrations,
)
from backups.models import BackupLog
from backups.selectors import (
    Freshness,
    backup_freshness,
    complete_ids,
    copies_on,
    offline_destination,
    regular_destinations,
)
from backups.snapshot import (
    Target,
    first_value,
    pg_create_database,
    pg_drop_database,
    pg_dump_to,
    pg_restore_from,
    pg_row_counts,
    sqlite_dump_to,
    sqlite_restored_copy,
    sqlite_row_counts,
)
from security.events import SecurityEventType, record_event

logger = logging.getLogger("backups")
Progress = Callable[[str], None]
LOCK_KEY = 0x6261636B7570  # "backup": the advisory lock id shared by every writing job

# Distinct results of checking one copy; the exit codes of `manage.py backup_verify`.
VERIFY_EXIT_CODES = {"ok": 0, "missing": 3, "truncated": 4, "tampered": 5, "wrong_key": 6}


class BackupError(Exception):
    pass


class BackupLocked(BackupError):
    """Another backup job holds the lock."""


def _quiet(message: str) -> None:
    pass


@contextmanager
def _closing(destinations: list[Destination]) -> Iterator[list[Destination]]:
    """Destinations keep a connection (SFTP, S3) for the length of one job."""
    try:
        yield destinations
    finally:
        for destination in destinations:
            destination.close()


# --- keys, places, alerts --------------------------------------------------------------------
def work_dir() -> Path:
    path = Path(settings.BACKUP_WORK_DIR)
    path.mkdir(parents=True, exist_ok=True)
    return path


def dev_identity_path() -> Path:
    return Path(settings.DATA_DIR) / "backups" / "dev-identity.txt"


def public_key() -> str:
    """The recipient backups are encrypted to. Development without a configured key gets a key
    pair generated under DATA_DIR on first use; anything else refuses to back up unencrypted."""
    if settings.BACKUP_PUBLIC_KEY:
        return settings.BACKUP_PUBLIC_KEY
    if settings.DEBUG:
        path = dev_identity_path()
        if path.exists():
            return crypto.public_key_of(crypto.load_identity(path))
        return crypto.generate_identity_file(path)
    raise BackupError(
        "BACKUP_PUBLIC_KEY is not set; refusing to write backups (see manage.py check --deploy)."
    )


def identity() -> x25519.Identity | None:
    """The private key, on machines that verify and restore; None elsewhere."""
    if settings.BACKUP_IDENTITY_FILE:
        return crypto.load_identity(settings.BACKUP_IDENTITY_FILE)
    if settings.DEBUG and not settings.BACKUP_PUBLIC_KEY and dev_identity_path().exists():
        return crypto.load_identity(dev_identity_path())
    return None


def alert(subject: str, message: str, **fields: object) -> None:
    """Tell the operators: an ERROR log line, an email, and an ops_alert security event."""
    logger.error(
        "backup alert: %s",
        subject,
        extra={"event": "backup_alert", "subject": subject, "detail": message, **fields},
    )
    mail_admins(f"[backups] {subject}", message, fail_silently=True)
    try:
        record_event(
            event_type=SecurityEventType.OPS_ALERT,
            target="backups",
            detail={"subject": subject, "message": message[:2000]},
        )
    except Exception:  # the alert must reach the operators even when the database does not answer
        logger.exception("backup alert not written to the security event log")


def _log(
    action: str,
    *,
    backup_id: str = "",
    destination: str = "",
    ok: bool,
    code: str = "",
    detail: str = "",
) -> None:
    BackupLog.objects.create(
        action=action,
        backup_id=backup_id,
        destination=destination[:300],
        ok=ok,
        code=code,
        detail=detail[:5000],
    )


def _log_read_back(backup_id: str, destination: str) -> None:
    """A copy this job wrote was read back and its size and SHA-256 checked before its manifest
    made it complete (_store_copy): that is a verification, the one backup_verify does without
    the identity, so backup_list shows it as such."""
    _log(
        "verify",
        backup_id=backup_id,
        destination=destination,
        ok=True,
        code="ok",
        detail="read back after writing: size and SHA-256 match",
    )


@contextmanager
def backup_lock() -> Iterator[None]:
    """Session-level advisory lock on PostgreSQL (released when the process dies with its
    connection); flock on a file otherwise (released by the kernel likewise)."""
    if connection.vendor == "postgresql":
        conn = Target.from_settings(connection.settings_dict).connect(autocommit=True)
        try:
            if not first_value(
                conn.execute("SELECT pg_try_advisory_lock(%s)", (LOCK_KEY,)).fetchone()
            ):
                raise BackupLocked("another backup job is running (advisory lock held)")
            yield
        finally:
            conn.close()
        return
    path = Path(settings.DATA_DIR) / "backups" / "backups.lock"
    path.parent.mkdir(parents=True, exist_ok=True)
    with open(path, "a") as handle:
        try:
            fcntl.flock(handle, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            raise BackupLocked("another backup job is running (lock file held)") from None
        try:
            yield
        finally:
            fcntl.flock(handle, fcntl.LOCK_UN)


# --- writing and checking one copy -----------------------------------------------------------
class _HashingReader:
    def __init__(self, source: Readable) -> None:
        self.source, self.digest = source, hashlib.sha256()

    def read(self, size: int = -1) -> bytes:
        data = self.source.read(size)
        self.digest.update(data)
        return data


def _read_back_sha(destination: Destination, key: str) -> str:
    with destination.open(key) as handle:
        digest = hashlib.sha256()
        while chunk := handle.read(CHUNK):
            digest.update(chunk)
    return digest.hexdigest()


def _write_manifest(destination: Destination, manifest: Manifest) -> None:
    raw = manifest.to_bytes()
    key = key_of(manifest.backup_id, MANIFEST)
    destination.put_bytes(key, raw)
    if destination.read_bytes(key) != raw:
        destination.delete(key)
        raise BackupError(f"{destination.label}: manifest read back differs")


def _store_copy(destination: Destination, manifest: Manifest, data_path: Path) -> None:
    """Data file first, read back and checksummed; the manifest last, so a copy is only ever
    complete once everything under it is durable and correct."""
    entry = manifest.file(DATA_FILE)
    key = key_of(manifest.backup_id, DATA_FILE)
    destination.put_file(key, data_path)
    if destination.stat(key) != entry.size or _read_back_sha(destination, key) != entry.sha256:
        destination.delete(key)
        raise BackupError(f"{destination.label}: {key} read back differs from what was written")
    _write_manifest(destination, manifest)


def _cleanup(destination: Destination, progress: Progress) -> None:
    """Removes what a killed run left: partial files and copies without a manifest. Runs only
    under the lock, so nothing found here can belong to a live run."""
    if hasattr(destination, "abort_incomplete_uploads"):
        destination.abort_incomplete_uploads()
    for backup_id, files in copies_on(destination).items():
        incomplete = MANIFEST not in files
        for name in files:
            if incomplete or is_partial(name):
                progress(f"  cleaning {destination.label}: {backup_id}/{name}")
                destination.delete(key_of(backup_id, name))


def _clean_work_dir() -> None:
    for path in work_dir().iterdir():
        if path.is_dir():
            shutil.rmtree(path, ignore_errors=True)
        else:
            path.unlink(missing_ok=True)


def _download(source: Destination, manifest: Manifest, into: Path) -> Path:
    """Fetches the data file to `into`, checking size and SHA-256 against the manifest."""
    entry = manifest.file(DATA_FILE)
    path = into / f"{manifest.backup_id}.age"
    with source.open(key_of(manifest.backup_id, DATA_FILE)) as remote, open(path, "wb") as local:
        writer = HashingWriter(local)
        while chunk := remote.read(CHUNK):
            writer.write(chunk)
    if writer.size != entry.size or writer.hexdigest() != entry.sha256:
        raise BackupError(f"{source.label}: {manifest.backup_id} does not match its manifest")
    return path


def read_manifest(destination: Destination, backup_id: str) -> Manifest:
    return Manifest.from_bytes(destination.read_bytes(key_of(backup_id, MANIFEST)))


def _copy_between(source: Destination, target: Destination, backup_id: str) -> None:
    manifest = read_manifest(source, backup_id)
    with tempfile.TemporaryDirectory(dir=work_dir()) as temp:
        _store_copy(target, manifest, _download(source, manifest, Path(temp)))


# --- backup run ---------------------------------------------------------------------------------
@dataclass
class RunResult:
    backup_id: str
    stored: list[str] = field(default_factory=list)
    failed: dict[str, str] = field(default_factory=dict)
    filled: list[str] = field(default_factory=list)


def _snapshot(data_path: Path, recipient: str) -> tuple[Manifest, str]:
    """Dump -> (compress) -> encrypt into data_path; returns the manifest (without id/time)."""
    target = Target.from_settings(connection.settings_dict)
    plain: dict[str, str] = {}
    with open(data_path, "wb") as handle:
        writer = HashingWriter(handle)

        def write(stream: Readable) -> None:
            reader = _HashingReader(stream)
            crypto.encrypt_stream(reader, writer, recipient)
            plain["sha"] = reader.digest.hexdigest()

        if target.engine == "postgresql":
            info = pg_dump_to(target, write)
        else:
            connection.ensure_connection()
            info = sqlite_dump_to(connection.connection, data_path.parent, write)
        handle.flush()
    entry = FileEntry(DATA_FILE, writer.size, writer.hexdigest(), plain["sha"])
    return Manifest(
        backup_id="",
        created_at=timezone.now(),
        engine=target.engine,
        database=target.name.rsplit("/", 1)[-1],
        migrations=info.migrations,
        row_counts=info.row_counts,
        files=[entry],
        key_id=recipient,
        compression=info.compression,
    ), target.engine


def backup_run(*, progress: Progress = _quiet) -> RunResult:
    """1. take the lock, clean what a killed run left; 2. snapshot, compress, encrypt into the
    work folder; 3. store on every destination independently (data, read back, manifest);
    4. copy recent backups a destination missed from one that has them; 5. alert if fewer
    than all destinations hold the new backup."""
    recipient = public_key()
    with _closing(regular_destinations()) as destinations, backup_lock():
        _clean_work_dir()
        for destination in destinations:
            try:
                _cleanup(destination, progress)
            except Exception as exc:
                progress(f"  cannot clean {destination.label}: {exc}")
        now = timezone.now()
        backup_id = new_backup_id(now)
        result = RunResult(backup_id)
        folder = work_dir() / backup_id
        folder.mkdir()
        try:
            progress(f"snapshot {backup_id} ...")
            manifest, _engine = _snapshot(folder / DATA_FILE, recipient)
            manifest.backup_id, manifest.created_at = backup_id, now
            progress(
                f"  {manifest.file(DATA_FILE).size:,} bytes encrypted, {sum(manifest.row_counts.values()):,} rows"
            )
            # Each destination on its own thread: one slow or dead server delays nobody, and
            # the fsyncs and read-backs overlap. Threads touch only their destination; the
            # journal rows are written here, on the request's database connection.
            progress(f"  storing on {', '.join(d.label for d in destinations)} ...")
            with ThreadPoolExecutor(max_workers=len(destinations)) as pool:
                futures = {
                    d.label: pool.submit(_store_copy, d, manifest, folder / DATA_FILE)
                    for d in destinations
                }
            for label, future in futures.items():
                error = future.exception()
                if error is not None and not isinstance(error, Exception):
                    raise error  # an interrupt stays an interrupt
                if error is None:
                    result.stored.append(label)
                    _log("run", backup_id=backup_id, destination=label, ok=True)
                    _log_read_back(backup_id, label)
                else:
                    result.failed[label] = str(error)
                    _log("run", backup_id=backup_id, destination=label, ok=False, detail=str(error))
                    progress(f"  FAILED on {label}: {error}")
        finally:
            shutil.rmtree(folder, ignore_errors=True)
        result.filled = _fill_gaps(destinations, progress)
    if result.failed:
        alert(
            f"backup {backup_id} is on {len(result.stored)} of {len(destinations)} destinations",
            "\n".join(f"{label}: {error}" for label, error in result.failed.items()),
            backup_id=backup_id,
        )
    if not result.stored:
        raise BackupError(f"backup {backup_id} reached no destination")
    return result


def _fill_gaps(destinations: list[Destination], progress: Progress) -> list[str]:
    """A destination that was down misses backups the others hold: copy those still within
    the retention period to it, checked the same way as a fresh copy."""
    cutoff = timezone.now() - timedelta(days=settings.BACKUP_RETENTION_DAYS)
    held: dict[str, set[str]] = {}
    for destination in destinations:
        try:
            held[destination.label] = set(complete_ids(destination))
        except Exception:
            held[destination.label] = set()  # still down: next run
    filled = []
    for destination in destinations:
        wanted = set().union(*held.values()) - held[destination.label]
        for backup_id in sorted(b for b in wanted if backup_time(b) >= cutoff):
            source = next(d for d in destinations if backup_id in held[d.label])
            try:
                _copy_between(source, destination, backup_id)
            except Exception as exc:
                progress(f"  could not fill {backup_id} on {destination.label}: {exc}")
                continue
            progress(f"  filled gap: {backup_id} copied to {destination.label}")
            _log(
                "copy",
                backup_id=backup_id,
                destination=destination.label,
                ok=True,
                detail=f"from {source.label}",
            )
            _log_read_back(backup_id, destination.label)
            filled.append(f"{backup_id} -> {destination.label}")
    return filled


# --- offline copy ---------------------------------------------------------------------------------
def offline_copy(*, progress: Progress = _quiet) -> str:
    """C22: once a day, the newest complete backup goes to the offline destination (nothing
    else writes there, except the purge). Returns the backup id copied (or already there)."""
    with (
        _closing([offline_destination(), *regular_destinations()]) as (target, *sources),
        backup_lock(),
    ):
        try:
            _cleanup(target, progress)
            present = set(complete_ids(target))
            for source in sources:
                try:
                    ids = complete_ids(source)
                except Exception as exc:
                    progress(f"  {source.label} unavailable: {exc}")
                    continue
                if not ids:
                    continue
                newest = ids[-1]
                if newest not in present:
                    progress(f"copying {newest} from {source.label} to {target.label} ...")
                    _copy_between(source, target, newest)
                    _log_read_back(newest, target.label)
                _log(
                    "offline",
                    backup_id=newest,
                    destination=target.label,
                    ok=True,
                    detail=f"from {source.label}",
                )
                return newest
            raise BackupError("no complete backup on any destination to copy offline")
        except Exception as exc:
            _log("offline", destination=target.label, ok=False, detail=str(exc))
            alert("offline copy failed", str(exc))
            raise


# --- verification --------------------------------------------------------------------------------
@dataclass
class CopyCheck:
    backup_id: str
    destination: str
    code: str  # a key of VERIFY_EXIT_CODES
    detail: str = ""


def check_copy(
    destination: Destination, backup_id: str, key: x25519.Identity | None = None
) -> CopyCheck:
    """Reads one copy back: manifest, size, SHA-256; with the identity also decrypts it and
    checks the plaintext checksum. Never raises for a bad copy: the result says what is wrong."""

    def result(code: str, detail: str = "") -> CopyCheck:
        return CopyCheck(backup_id, destination.label, code, detail)

    try:
        raw = destination.read_bytes(key_of(backup_id, MANIFEST))
    except FileNotFoundError:
        return result("missing", "no manifest: the copy is absent or incomplete")
    try:
        manifest = Manifest.from_bytes(raw)
        entry = manifest.file(DATA_FILE)
    except ManifestError as exc:
        return result(
            "truncated" if "not valid JSON" in str(exc) else "tampered", f"manifest: {exc}"
        )
    if manifest.backup_id != backup_id:
        return result("tampered", f"manifest names another backup ({manifest.backup_id})")
    data_key = key_of(backup_id, DATA_FILE)
    size = destination.stat(data_key)
    if size is None:
        return result("missing", f"{DATA_FILE} is missing")
    if size < entry.size:
        return result("truncated", f"{DATA_FILE} has {size} of {entry.size} bytes")
    if size > entry.size or _read_back_sha(destination, data_key) != entry.sha256:
        return result("tampered", f"{DATA_FILE} does not match its SHA-256")
    if key is None:
        return result("ok", "checksums verified (no identity here: not decrypted)")
    if crypto.public_key_of(key) != manifest.key_id:
        return result(
            "wrong_key",
            f"encrypted to {manifest.key_id}, the identity is {crypto.public_key_of(key)}",
        )
    sink = HashingWriter()
    try:
        with destination.open(data_key) as handle:
            crypto.decrypt_stream(handle, sink, key)
    except crypto.WrongKeyError as exc:
        return result("wrong_key", str(exc))
    except crypto.DecryptionError as exc:
        return result("tampered", f"decryption failed: {exc}")
    if sink.hexdigest() != entry.plaintext_sha256:
        return result("tampered", "decrypted content does not match its SHA-256")
    return result("ok", "checksums verified, decrypted")


def backup_verify(
    *,
    backup_id: str | None = None,
    all_backups: bool = False,
    source: str | None = None,
    progress: Progress = _quiet,
) -> list[CopyCheck]:
    """Checks the copies of one backup (default: the newest) or of all backups on every
    destination, or on `source` only. A backup absent from a regular destination is reported
    missing there; the offline destination is checked for the backups it holds."""
    destinations = [destination_for(source)] if source else regular_destinations()
    offline = None if source else offline_destination()
    with _closing([*destinations, *([offline] if offline else [])]):
        return _verify(destinations, offline, backup_id, all_backups, progress)


def _verify(
    destinations: list[Destination],
    offline: Destination | None,
    backup_id: str | None,
    all_backups: bool,
    progress: Progress,
) -> list[CopyCheck]:
    held = {d.label: copies_on(d) for d in destinations}
    offline_held = copies_on(offline) if offline else {}
    if backup_id:
        ids = [backup_id]
    else:
        every = sorted(set().union(*(set(h) for h in held.values()), set(offline_held)))
        if not every:
            return [
                CopyCheck(backup_id or "", d.label, "missing", "no backup at all")
                for d in destinations
            ]
        ids = every if all_backups else [every[-1]]
    key = identity()
    checks = []
    for bid in ids:
        targets = list(destinations)
        if offline and (bid in offline_held):
            targets.append(offline)
        for destination in targets:
            progress(f"verifying {bid} on {destination.label} ...")
            check = check_copy(destination, bid, key)
            checks.append(check)
            _log(
                "verify",
                backup_id=bid,
                destination=destination.label,
                ok=check.code == "ok",
                code=check.code,
                detail=check.detail,
            )
            progress(f"  {check.code}: {check.detail}")
    return checks


# --- restore ---------------------------------------------------------------------------------------
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
    progress: Progress = _quiet,
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
        data = _download(destination, manifest, Path(temp))
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
        _log(
            "restore",
            backup_id=backup_id,
            destination=destination.label,
            ok=True,
            detail=f"into {target.label}",
        )
    return RestoreResult(backup_id, destination.label, target.label, counts)


def backup_drill(*, progress: Progress = _quiet) -> BackupLog:
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


# --- purge ---------------------------------------------------------------------------------------
@dataclass
class PurgeResult:
    deleted: dict[str, list[str]] = field(default_factory=dict)
    kept_only_backup: str | None = None


def backup_purge(*, progress: Progress = _quiet) -> PurgeResult:
    """C25: deletes every backup older than BACKUP_RETENTION_DAYS from every destination, the
    offline one included, then lists again to check they are gone. If no complete backup would
    remain, the newest complete one is kept and the operators are alerted."""
    cutoff = timezone.now() - timedelta(days=settings.BACKUP_RETENTION_DAYS)
    result = PurgeResult()
    with _closing([*regular_destinations(), offline_destination()]) as destinations, backup_lock():
        held = {d.label: copies_on(d) for d in destinations}
        complete = {
            bid
            for copies in held.values()
            for bid, files in copies.items()
            if MANIFEST in files and DATA_FILE in files
        }
        keep: set[str] = set()
        if complete and not any(backup_time(b) >= cutoff for b in complete):
            result.kept_only_backup = max(complete)
            keep.add(result.kept_only_backup)
            alert(
                "purge kept an expired backup: it is the only complete one",
                f"{result.kept_only_backup} is older than {settings.BACKUP_RETENTION_DAYS} days but no newer complete backup exists.",
                backup_id=result.kept_only_backup,
            )
        failures = []
        for destination in destinations:
            expired = sorted(
                b for b in held[destination.label] if backup_time(b) < cutoff and b not in keep
            )
            for backup_id in expired:
                progress(f"deleting {backup_id} from {destination.label}")
                for name in held[destination.label][backup_id]:
                    destination.delete(key_of(backup_id, name))
            left = set(copies_on(destination)) & set(expired)
            if left:
                failures.append(f"{destination.label}: still holds {sorted(left)}")
            result.deleted[destination.label] = expired
            _log(
                "purge",
                destination=destination.label,
                ok=not left,
                detail=f"deleted {len(expired)}: {', '.join(expired)}",
            )
    if failures:
        alert("purge left expired backups behind", "\n".join(failures))
        raise BackupError("; ".join(failures))
    return result


# --- freshness ------------------------------------------------------------------------------------
def ensure_fresh(*, progress: Progress = _quiet) -> list[Freshness]:
    """Hourly: beat skips runs missed while it was down, so run a backup when the newest one is
    older than 12 hours, then alert about any destination over its age limit (13 h; 25 h for
    the offline copy)."""
    status = backup_freshness()
    newest = min((s.age_hours for s in status[:-1] if s.age_hours is not None), default=None)
    if newest is None or newest > settings.BACKUP_INTERVAL_HOURS:
        progress("newest backup is missing or too old: running one now")
        try:
            backup_run(progress=progress)
        except BackupLocked:
            progress("a backup is already running")
        except Exception as exc:  # reported below through the freshness check and the alert
            progress(f"backup failed: {exc}")
        status = backup_freshness()
    stale = [s for s in status if not s.ok]
    if stale:
        alert(
            "backups are stale or missing",
            "\n".join(
                f"{s.destination}: newest {s.newest or 'none'}, {s.error or f'{s.age_hours:.1f} h old' if s.age_hours is not None else 'no backup'} (limit {s.limit_hours} h)"
                for s in stale
            ),
        )
    return status
