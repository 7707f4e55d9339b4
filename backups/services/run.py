"""The backup run (C21): snapshot, encrypt, store on every destination, fill gaps."""

from __future__ import annotations

import logging
import shutil
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from datetime import timedelta
from pathlib import Path

from django.conf import settings
from django.db import connection
from django.utils import timezone

from backups import crypto
from backups.destinations import Destination
from backups.format import (
    DATA_FILE,
    FileEntry,
    HashingWriter,
    Manifest,
    Readable,
    backup_time,
    new_backup_id,
)
from backups.selectors import (
    complete_ids,
    regular_destinations,
)
from backups.services.base import (
    BackupError,
    Progress,
    alert,
    backup_lock,
    closing,
    journal,
    journal_read_back,
    public_key,
    quiet,
    work_dir,
)
from backups.services.copies import HashingReader, clean_work_dir, cleanup, copy_between, store_copy
from backups.snapshot import (
    Target,
    pg_dump_to,
    sqlite_dump_to,
)

logger = logging.getLogger("backups")


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
            reader = HashingReader(stream)
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


def backup_run(*, progress: Progress = quiet) -> RunResult:
    """1. take the lock, clean what a killed run left; 2. snapshot, compress, encrypt into the
    work folder; 3. store on every destination independently (data, read back, manifest);
    4. copy recent backups a destination missed from one that has them; 5. alert if fewer
    than all destinations hold the new backup."""
    recipient = public_key()
    with closing(regular_destinations()) as destinations, backup_lock():
        clean_work_dir()
        for destination in destinations:
            try:
                cleanup(destination, progress)
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
                    d.label: pool.submit(store_copy, d, manifest, folder / DATA_FILE)
                    for d in destinations
                }
            for label, future in futures.items():
                error = future.exception()
                if error is not None and not isinstance(error, Exception):
                    raise error  # an interrupt stays an interrupt
                if error is None:
                    result.stored.append(label)
                    journal("run", backup_id=backup_id, destination=label, ok=True)
                    journal_read_back(backup_id, label)
                else:
                    result.failed[label] = str(error)
                    journal(
                        "run", backup_id=backup_id, destination=label, ok=False, detail=str(error)
                    )
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
                copy_between(source, destination, backup_id)
            except Exception as exc:
                progress(f"  could not fill {backup_id} on {destination.label}: {exc}")
                continue
            progress(f"  filled gap: {backup_id} copied to {destination.label}")
            journal(
                "copy",
                backup_id=backup_id,
                destination=destination.label,
                ok=True,
                detail=f"from {source.label}",
            )
            journal_read_back(backup_id, destination.label)
            filled.append(f"{backup_id} -> {destination.label}")
    return filled
