"""One copy of a backup on one destination: write it, check it, fetch it from whichever copy
verifies, and repair a damaged one from a verified one.

A copy verifies when its manifest is signed by a trusted key and its claims hold (its id, its
time, not dated in the future, later than the backup it follows), and its data file has exactly
the size and SHA-256 the manifest gives; with the identity it is also decrypted and the plaintext
checked. Nothing is copied, restored or kept as "the last good backup" on less than that.
"""

from __future__ import annotations

import hashlib
import logging
import shutil
from collections.abc import Iterable
from dataclasses import dataclass
from pathlib import Path

from django.utils import timezone
from pyrage import x25519

from backups import crypto
from backups.destinations import Destination, DestinationError
from backups.events import BackupEvent
from backups.format import (
    CHUNK,
    DATA_FILE,
    MANIFEST,
    HashingWriter,
    Manifest,
    ManifestError,
    ManifestFromTheFuture,
    Readable,
    is_complete,
    is_partial,
    key_of,
)
from backups.models import BackupLog, CopyState
from backups.selectors import copies_on
from backups.services.base import (
    BackupError,
    Progress,
    alert,
    journal,
    quiet,
    trusted_keys,
    work_dir,
)
from backups.signing import TrustedKeys
from security.actors import Actor
from security.events import record_event

logger = logging.getLogger("backups")

# The exit codes of `manage.py backup_verify`, one per kind of finding.
VERIFY_EXIT_CODES = {
    CopyState.OK: 0,
    CopyState.MISSING: 3,
    CopyState.TRUNCATED: 4,
    CopyState.TAMPERED: 5,
    CopyState.WRONG_KEY: 6,
    CopyState.UNREACHABLE: 7,
}


@dataclass
class CopyCheck:
    backup_id: str
    destination: str
    code: CopyState
    detail: str = ""

    @property
    def ok(self) -> bool:
        return self.code == CopyState.OK

    def __str__(self) -> str:
        return f"{self.backup_id} on {self.destination}: {self.code} ({self.detail})"


class CopyProblem(Exception):
    """A copy that does not verify, and why."""

    def __init__(self, code: CopyState, detail: str, *, from_the_future: bool = False) -> None:
        super().__init__(detail)
        self.code, self.detail = code, detail
        # Signed by a trusted key but dated in the future: a clock is wrong somewhere.
        self.from_the_future = from_the_future


class HashingReader:
    def __init__(self, source: Readable) -> None:
        self.source, self.digest = source, hashlib.sha256()

    def read(self, size: int = -1) -> bytes:
        data = self.source.read(size)
        self.digest.update(data)
        return data


def read_back_sha(destination: Destination, key: str) -> str:
    with destination.open(key) as handle:
        digest = hashlib.sha256()
        while chunk := handle.read(CHUNK):
            digest.update(chunk)
    return digest.hexdigest()


def read_manifest(
    destination: Destination, backup_id: str, trust: TrustedKeys | None = None
) -> Manifest:
    """The copy's manifest, believed only when it verifies (raises CopyProblem otherwise)."""
    try:
        raw = destination.read_bytes(key_of(backup_id, MANIFEST))
    except FileNotFoundError:
        raise CopyProblem(
            CopyState.MISSING, "no manifest: the copy is absent or incomplete"
        ) from None
    except DestinationError as exc:
        raise CopyProblem(CopyState.UNREACHABLE, str(exc)) from exc
    try:
        manifest = Manifest.from_bytes(raw, trust if trust is not None else trusted_keys())
        manifest.check_claims(backup_id, timezone.now())
        manifest.file(DATA_FILE)
    except ManifestError as exc:
        raise CopyProblem(
            CopyState(exc.code),
            f"manifest: {exc}",
            from_the_future=isinstance(exc, ManifestFromTheFuture),
        ) from exc
    return manifest


# --- writing ---------------------------------------------------------------------------------
def write_manifest(destination: Destination, manifest: Manifest) -> None:
    """Stores the signed bytes as they are (a copy or repair never re-signs) and reads them
    back."""
    if not manifest.raw:
        raise BackupError(f"manifest of {manifest.backup_id} is not signed")
    key = key_of(manifest.backup_id, MANIFEST)
    destination.put_bytes(key, manifest.raw)
    if destination.read_bytes(key) != manifest.raw:
        destination.delete(key)
        raise BackupError(f"{destination.label}: manifest read back differs")


def store_copy(destination: Destination, manifest: Manifest, data_path: Path) -> None:
    """Data file first, read back and checksummed; the manifest last, so a copy is only ever
    complete once everything under it is durable and correct."""
    entry = manifest.file(DATA_FILE)
    key = key_of(manifest.backup_id, DATA_FILE)
    destination.put_file(key, data_path)
    if destination.stat(key) != entry.size or read_back_sha(destination, key) != entry.sha256:
        destination.delete(key)
        raise BackupError(f"{destination.label}: {key} read back differs from what was written")
    write_manifest(destination, manifest)


def delete_copy(destination: Destination, backup_id: str, names: Iterable[str]) -> None:
    """The manifest goes first: a deletion cut short leaves an incomplete copy, which nothing
    uses and the next run cleans up, never a manifest without its data."""
    for name in sorted(names, key=lambda n: n != MANIFEST):
        destination.delete(key_of(backup_id, name))


def cleanup(destination: Destination, progress: Progress) -> dict[str, dict[str, int]]:
    """Removes what a killed run left: partial files and incomplete copies. Runs only under the
    lock, so nothing found here can belong to a live run. Returns what the destination holds."""
    if hasattr(destination, "abort_incomplete_uploads"):
        destination.abort_incomplete_uploads()
    held = copies_on(destination)
    for backup_id, files in held.items():
        incomplete = not is_complete(files)
        for name in sorted(files, key=lambda n: n != MANIFEST):
            if incomplete or is_partial(name):
                progress(f"  cleaning {destination.label}: {backup_id}/{name}")
                destination.delete(key_of(backup_id, name))
    return copies_on(destination)


def clean_work_dir() -> None:
    for path in work_dir().iterdir():
        if path.is_dir():
            shutil.rmtree(path, ignore_errors=True)
        else:
            path.unlink(missing_ok=True)


# --- reading ---------------------------------------------------------------------------------
def download(source: Destination, manifest: Manifest, into: Path) -> Path:
    """Fetches the data file to `into`, checking size and SHA-256 against the (verified)
    manifest; raises CopyProblem when the copy does not match."""
    entry = manifest.file(DATA_FILE)
    path = into / f"{manifest.backup_id}.age"
    try:
        with (
            source.open(key_of(manifest.backup_id, DATA_FILE)) as remote,
            open(path, "wb") as local,
        ):
            writer = HashingWriter(local)
            while chunk := remote.read(CHUNK):
                writer.write(chunk)
    except FileNotFoundError:
        raise CopyProblem(CopyState.MISSING, f"{DATA_FILE} is missing") from None
    except DestinationError as exc:
        path.unlink(missing_ok=True)
        raise CopyProblem(CopyState.UNREACHABLE, str(exc)) from exc
    if writer.size < entry.size:
        path.unlink()
        raise CopyProblem(
            CopyState.TRUNCATED, f"{DATA_FILE} has {writer.size} of {entry.size} bytes"
        )
    if writer.size != entry.size or writer.hexdigest() != entry.sha256:
        path.unlink()
        raise CopyProblem(CopyState.TAMPERED, f"{DATA_FILE} does not match its SHA-256")
    return path


@dataclass
class Fetched:
    """A backup fetched from a copy that verifies: its source, manifest and local file."""

    source: Destination
    manifest: Manifest
    path: Path


def fetch_verified(
    holders: list[Destination],
    backup_id: str,
    into: Path,
    *,
    trust: TrustedKeys | None = None,
    progress: Progress = quiet,
) -> tuple[Fetched | None, list[CopyCheck]]:
    """Tries the holders in turn until one copy verifies and downloads it; returns it (or None
    when no copy does) and the copies that failed on the way."""
    trust = trust if trust is not None else trusted_keys()
    bad = []
    for source in holders:
        try:
            manifest = read_manifest(source, backup_id, trust)
            path = download(source, manifest, into)
        except CopyProblem as problem:
            check = CopyCheck(backup_id, source.label, problem.code, problem.detail)
            progress(f"  skipped {check}")
            bad.append(check)
            continue
        return Fetched(source, manifest, path), bad
    return None, bad


def check_copy(
    destination: Destination,
    backup_id: str,
    key: x25519.Identity | None = None,
    *,
    trust: TrustedKeys | None = None,
) -> CopyCheck:
    """Reads one copy back: signed manifest, size, SHA-256; with the identity it is decrypted in
    the same pass and the plaintext checksum compared too. Never raises for a bad or unreachable
    copy: the result says what is wrong."""

    def result(code: CopyState, detail: str) -> CopyCheck:
        return CopyCheck(backup_id, destination.label, code, detail)

    try:
        manifest = read_manifest(destination, backup_id, trust)
    except CopyProblem as problem:
        return result(problem.code, problem.detail)
    entry = manifest.file(DATA_FILE)
    data_key = key_of(backup_id, DATA_FILE)
    if key is not None and crypto.public_key_of(key) != manifest.key_id:
        return result(
            CopyState.WRONG_KEY,
            f"encrypted to {manifest.key_id}, the identity is {crypto.public_key_of(key)}",
        )
    decrypt_error: Exception | None = None
    sink = HashingWriter()
    try:
        size = destination.stat(data_key)
        if size is None:
            return result(CopyState.MISSING, f"{DATA_FILE} is missing")
        if size < entry.size:
            return result(CopyState.TRUNCATED, f"{DATA_FILE} has {size} of {entry.size} bytes")
        with destination.open(data_key) as handle:
            reader = HashingReader(handle)
            if key is not None:
                try:
                    crypto.decrypt_stream(reader, sink, key)
                except (crypto.WrongKeyError, crypto.DecryptionError) as exc:
                    decrypt_error = exc
            while reader.read(CHUNK):  # the rest, for the checksum of the whole file
                pass
    except FileNotFoundError:
        return result(CopyState.MISSING, f"{DATA_FILE} is missing")
    except DestinationError as exc:
        return result(CopyState.UNREACHABLE, str(exc))
    if size != entry.size or reader.digest.hexdigest() != entry.sha256:
        return result(CopyState.TAMPERED, f"{DATA_FILE} does not match its SHA-256")
    if key is None:
        return result(
            CopyState.OK, "signature and checksums verified (no identity here: not decrypted)"
        )
    if isinstance(decrypt_error, crypto.WrongKeyError):
        return result(CopyState.WRONG_KEY, str(decrypt_error))
    if decrypt_error is not None:
        return result(CopyState.TAMPERED, f"decryption failed: {decrypt_error}")
    if sink.hexdigest() != entry.plaintext_sha256:
        return result(CopyState.TAMPERED, "decrypted content does not match its SHA-256")
    return result(CopyState.OK, "signature and checksums verified, decrypted")


# --- repair ----------------------------------------------------------------------------------
def repair(
    target: Destination, found: CopyCheck, fetched: Fetched, *, job: str, progress: Progress
) -> bool:
    """Rewrites a damaged or missing copy from a verified one (the caller holds the lock):
    whatever is there goes, manifest first, then the copy is stored and read back like a new
    one. Journaled and recorded in the security event log; False when it failed."""
    backup_id = fetched.manifest.backup_id
    try:
        present = copies_on(target).get(backup_id, {})
        delete_copy(target, backup_id, present)
        store_copy(target, fetched.manifest, fetched.path)
    except (BackupError, DestinationError) as exc:
        progress(f"  could not repair {backup_id} on {target.label}: {exc}")
        journal(
            BackupLog.Action.REPAIR,
            backup_id=backup_id,
            destination=target.label,
            ok=False,
            code=found.code,
            detail=f"from {fetched.source.label} failed: {exc}",
        )
        return False
    progress(f"  repaired {backup_id} on {target.label} from {fetched.source.label}")
    detail = f"was {found.code} ({found.detail}); rewritten from {fetched.source.label}"
    journal(
        BackupLog.Action.REPAIR,
        backup_id=backup_id,
        destination=target.label,
        ok=True,
        code=found.code,
        detail=detail,
    )
    record_event(
        event_type=BackupEvent.COPY_REPAIRED,
        actor=Actor.system(job),
        target=f"backup {backup_id}",
        detail={"destination": target.label, "source": fetched.source.label, "was": found.code},
    )
    return True


class Findings:
    """What one job found wrong with copies, and what it repaired: one alert at the end of the
    job, naming every copy (the alerts about unreachable destinations go out at once)."""

    def __init__(self, job: str) -> None:
        self.job = job  # the job's name, as in the security event log: backup_run, ...
        self.bad: dict[tuple[str, str], CopyCheck] = {}
        self.repaired: dict[tuple[str, str], str] = {}
        self.notes: list[str] = []

    def found(self, check: CopyCheck) -> None:
        if not check.ok and check.code != CopyState.UNREACHABLE:
            self.bad.setdefault((check.backup_id, check.destination), check)

    def was_repaired(self, check: CopyCheck, source: str) -> None:
        self.repaired[(check.backup_id, check.destination)] = source

    def note(self, line: str) -> None:
        self.notes.append(line)

    def repair_all(
        self,
        checks: list[CopyCheck],
        fetched: Fetched,
        destinations: list[Destination],
        *,
        progress: Progress,
    ) -> None:
        """Rewrites every damaged or missing copy in `checks` from `fetched`."""
        by_label = {d.label: d for d in destinations}
        for check in checks:
            target = by_label.get(check.destination)
            # A wrong key is this machine's identity, not the copy: rewriting changes nothing.
            skip = (CopyState.OK, CopyState.UNREACHABLE, CopyState.WRONG_KEY)
            if check.code in skip or target is None:
                continue
            self.found(check)
            if repair(target, check, fetched, job=self.job, progress=progress):
                self.was_repaired(check, fetched.source.label)

    def report(self) -> None:
        if not self.bad and not self.notes:
            return
        lines = []
        for key, check in sorted(self.bad.items()):
            source = self.repaired.get(key)
            state = f"repaired from {source}" if source else "NOT repaired"
            lines.append(f"{check}: {state}")
        lines.extend(self.notes)
        repaired, title = len(self.repaired), self.job.replace("_", " ")
        subject = (
            f"{title}: {len(self.bad)} damaged or untrusted copies found, {repaired} repaired"
            if self.bad
            else f"{title}: {self.notes[0]}"
        )
        alert(subject, "\n".join(lines))
