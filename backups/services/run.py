"""The backup run (C21): snapshot, encrypt, sign, store on every destination, fill gaps."""

from __future__ import annotations

import logging
import shutil
import tempfile
from concurrent.futures import Future, ThreadPoolExecutor, as_completed
from dataclasses import dataclass, field
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
from backups.models import BackupLog, CopyState
from backups.selectors import complete_ids
from backups.services.base import (
    BackupError,
    Progress,
    alert,
    backup_lock,
    closing,
    journal,
    journal_read_back,
    public_key,
    purge_cutoff,
    quiet,
    regular,
    signer,
    trusted_keys,
    work_dir,
)
from backups.services.copies import (
    CopyCheck,
    CopyProblem,
    Findings,
    HashingReader,
    clean_work_dir,
    cleanup,
    fetch_verified,
    read_manifest,
    store_copy,
)
from backups.signing import TrustedKeys
from backups.snapshot import Target, pg_dump_to, sqlite_dump_to

logger = logging.getLogger("backups")


@dataclass
class RunResult:
    backup_id: str
    stored: list[str] = field(default_factory=list)
    failed: dict[str, str] = field(default_factory=dict)
    filled: list[str] = field(default_factory=list)


def _snapshot(data_path: Path, recipient: str) -> Manifest:
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
    )


def backup_run(*, progress: Progress = quiet) -> RunResult:
    """1. take the lock, clean what a killed run left, find the newest backup that verifies
    (the new one follows it; a clock behind it refuses); 2. snapshot, compress, encrypt into the
    work folder and sign the manifest (a failure alerts); 3. store on every destination at once
    (data, read back, manifest), each within its time budget, alerting about a destination the
    moment it fails; 4. fill gaps: copy recent backups a destination misses from a copy that
    verifies, and repair the damaged copies found on the way; 5. one alert about those."""
    recipient = public_key()
    sign_with, trust = signer(), trusted_keys()
    findings = Findings("backup_run")
    with closing(regular()) as destinations, backup_lock():
        clean_work_dir()
        held: dict[str, list[str]] = {}
        for destination in destinations:
            try:
                held[destination.label] = sorted(cleanup(destination, progress))
            except Exception as exc:  # the store step below reports it, at once
                progress(f"  cannot list {destination.label}: {exc}")
        now = timezone.now()
        backup_id = new_backup_id(now)
        previous = _newest_verified(destinations, held, trust, findings)
        if previous and backup_time(previous) > backup_time(backup_id):
            alert(
                "backup refused: this server's clock is behind the newest backup",
                f"The newest backup, {previous}, is later than now ({backup_id}). Fix the clock "
                "(NTP) of the server that runs the backups.",
            )
            raise BackupError(
                f"the clock says {backup_id}, but backup {previous} is later: refusing (check "
                "the clock)"
            )
        result = RunResult(backup_id)
        folder = work_dir() / backup_id
        folder.mkdir()
        try:
            progress(f"snapshot {backup_id} ...")
            try:
                manifest = _snapshot(folder / DATA_FILE, recipient)
            except Exception as exc:
                alert(
                    "backup failed: dumping or encrypting the database failed",
                    f"Backup {backup_id} was not made: {type(exc).__name__}: {exc}",
                    backup_id=backup_id,
                )
                raise BackupError(
                    f"backup {backup_id} failed while dumping and encrypting: {exc}"
                ) from exc
            manifest.backup_id, manifest.created_at, manifest.previous = backup_id, now, previous
            manifest.sign(sign_with)
            progress(
                f"  {manifest.file(DATA_FILE).size:,} bytes encrypted, "
                f"{sum(manifest.row_counts.values()):,} rows"
            )
            _store_everywhere(destinations, manifest, folder / DATA_FILE, result, progress)
        finally:
            shutil.rmtree(folder, ignore_errors=True)
        result.filled = _fill_gaps(destinations, trust, findings, progress)
    findings.report()
    if not result.stored:
        raise BackupError(f"backup {backup_id} reached no destination")
    return result


def _newest_verified(
    destinations: list[Destination],
    held: dict[str, list[str]],
    trust: TrustedKeys,
    findings: Findings,
) -> str:
    """The newest backup with a manifest that verifies on some destination (manifests only: a
    few kilobytes each). Forged ones are passed over, and reported. One signed by a trusted key
    but dated in the future means a wrong clock: the run refuses rather than make a backup that
    sorts before it."""
    for backup_id in sorted({b for ids in held.values() for b in ids}, reverse=True):
        for destination in destinations:
            if backup_id not in held.get(destination.label, []):
                continue
            try:
                read_manifest(destination, backup_id, trust)
            except CopyProblem as problem:
                if problem.from_the_future:
                    return backup_id
                findings.found(
                    CopyCheck(backup_id, destination.label, problem.code, problem.detail)
                )
                continue
            return backup_id
    return ""


def _store_everywhere(
    destinations: list[Destination],
    manifest: Manifest,
    data_path: Path,
    result: RunResult,
    progress: Progress,
) -> None:
    """Each destination on its own thread: one slow or dead server delays nobody, and the
    fsyncs and read-backs overlap. The operators hear of a failed destination the moment it
    fails; one that is still busy when its budget (plus one I/O timeout for the operation in
    flight) is over is cancelled and counts as failed. Journal rows and alerts are written
    here, on this thread's database connection."""
    backup_id, total = manifest.backup_id, len(destinations)
    progress(f"  storing on {', '.join(d.label for d in destinations)} ...")
    pool = ThreadPoolExecutor(max_workers=total, thread_name_prefix="backup-store")
    futures: dict[Future[None], Destination] = {
        pool.submit(store_copy, d, manifest, data_path): d for d in destinations
    }

    def failed(destination: Destination, error: str) -> None:
        result.failed[destination.label] = error
        journal(
            BackupLog.Action.RUN,
            backup_id=backup_id,
            destination=destination.label,
            ok=False,
            detail=error,
        )
        progress(f"  FAILED on {destination.label}: {error}")
        alert(
            f"backup {backup_id} is on at most {total - len(result.failed)} of {total} "
            f"destinations: {destination.label} failed",
            f"{destination.label}: {error}",
            backup_id=backup_id,
        )

    wait = settings.BACKUP_DESTINATION_BUDGET_SECONDS + settings.BACKUP_IO_TIMEOUT_SECONDS + 5
    try:
        for future in as_completed(futures, timeout=wait):
            destination, error = futures[future], future.exception()
            if error is not None and not isinstance(error, Exception):
                raise error  # an interrupt stays an interrupt
            if error is None:
                result.stored.append(destination.label)
                journal(
                    BackupLog.Action.RUN,
                    backup_id=backup_id,
                    destination=destination.label,
                    ok=True,
                )
                journal_read_back(backup_id, destination.label)
            else:
                failed(destination, str(error))
    except TimeoutError:
        for future, destination in futures.items():
            if not future.done():
                destination.cancel()
                failed(
                    destination,
                    f"{destination.label}: not done within its time budget of "
                    f"{destination.budget_seconds or 0:.0f} s",
                )
    except BaseException:
        for destination in futures.values():
            destination.cancel()
        pool.shutdown(wait=True, cancel_futures=True)
        raise
    # A cancelled thread stops at its next chunk or operation; nothing waits for it.
    pool.shutdown(wait=False, cancel_futures=True)
    result.stored.sort(key=[d.label for d in destinations].index)


def _fill_gaps(
    destinations: list[Destination], trust: TrustedKeys, findings: Findings, progress: Progress
) -> list[str]:
    """A destination that was down misses backups the others hold: copy those the purge keeps
    to it, from a copy that verifies, checked like a fresh copy; a damaged copy found on the
    way is repaired from the same verified one."""
    cutoff = purge_cutoff(timezone.now())
    held: dict[str, set[str]] = {}
    for destination in destinations:
        try:
            held[destination.label] = set(complete_ids(destination))
        except Exception as exc:  # still down (alerted by the store step): the next run
            progress(f"  cannot list {destination.label}: {exc}")
    reachable = [d for d in destinations if d.label in held]
    everything = set().union(*held.values()) if held else set()
    filled = []
    for backup_id in sorted(b for b in everything if backup_time(b) >= cutoff):
        targets = [d for d in reachable if backup_id not in held[d.label]]
        if not targets:
            continue
        holders = [d for d in reachable if backup_id in held[d.label]]
        with tempfile.TemporaryDirectory(dir=work_dir()) as temp:
            fetched, bad = fetch_verified(
                holders, backup_id, Path(temp), trust=trust, progress=progress
            )
            for check in bad:
                findings.found(check)
            if fetched is None:
                if any(c.code != CopyState.UNREACHABLE for c in bad):
                    findings.note(
                        f"{backup_id}: no copy verifies, so it was not copied to "
                        + ", ".join(d.label for d in targets)
                    )
                continue
            for target in targets:
                try:
                    store_copy(target, fetched.manifest, fetched.path)
                except Exception as exc:
                    progress(f"  could not fill {backup_id} on {target.label}: {exc}")
                    findings.note(f"{backup_id}: could not be copied to {target.label}: {exc}")
                    continue
                progress(f"  filled gap: {backup_id} copied to {target.label}")
                journal(
                    BackupLog.Action.COPY,
                    backup_id=backup_id,
                    destination=target.label,
                    ok=True,
                    detail=f"from {fetched.source.label}",
                )
                journal_read_back(backup_id, target.label)
                filled.append(f"{backup_id} -> {target.label}")
            findings.repair_all(bad, fetched, reachable, progress=progress)
    return filled
