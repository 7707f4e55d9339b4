"""Writing, reading and checking one copy of a backup on one destination."""

from __future__ import annotations

import hashlib
import logging
import shutil
import tempfile
from dataclasses import dataclass
from pathlib import Path

from pyrage import x25519

from backups import crypto
from backups.destinations import Destination
from backups.format import (
    CHUNK,
    DATA_FILE,
    MANIFEST,
    HashingWriter,
    Manifest,
    ManifestError,
    Readable,
    is_partial,
    key_of,
)
from backups.selectors import (
    copies_on,
)
from backups.services.base import BackupError, Progress, work_dir

logger = logging.getLogger("backups")

# Distinct results of checking one copy; the exit codes of `manage.py backup_verify`.
VERIFY_EXIT_CODES = {"ok": 0, "missing": 3, "truncated": 4, "tampered": 5, "wrong_key": 6}


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


def write_manifest(destination: Destination, manifest: Manifest) -> None:
    raw = manifest.to_bytes()
    key = key_of(manifest.backup_id, MANIFEST)
    destination.put_bytes(key, raw)
    if destination.read_bytes(key) != raw:
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


def cleanup(destination: Destination, progress: Progress) -> None:
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


def clean_work_dir() -> None:
    for path in work_dir().iterdir():
        if path.is_dir():
            shutil.rmtree(path, ignore_errors=True)
        else:
            path.unlink(missing_ok=True)


def download(source: Destination, manifest: Manifest, into: Path) -> Path:
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


def copy_between(source: Destination, target: Destination, backup_id: str) -> None:
    manifest = read_manifest(source, backup_id)
    with tempfile.TemporaryDirectory(dir=work_dir()) as temp:
        store_copy(target, manifest, download(source, manifest, Path(temp)))


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
    if size > entry.size or read_back_sha(destination, data_key) != entry.sha256:
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
