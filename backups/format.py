"""The backup file format: naming, manifest schema and checksums. Pure Python, no Django.

A backup is a folder named by its id on every destination:

    <id>/db.dump.age      the snapshot, compressed, then encrypted with age to a public key
    <id>/manifest.json    written last: a backup without it is incomplete and never used

The id starts with the UTC time of the snapshot (``20250131T120000Z-1a2b3c``), so ids sort by age
and a backup's age is known without reading anything. While a file is being written it has a
temporary name (``<name>.partial-<random>``); only a complete file is renamed to its real name.
The manifest is signed (Ed25519, backups/signing.py) over its whole content, which holds the
SHA-256 of every file: a manifest is only believed when a trusted key signed it, so neither an
edited manifest nor a backup someone else made can pass for ours. One definition of a complete
copy (`is_complete`): its data file and its manifest are there under their real names.
"""

from __future__ import annotations

import hashlib
import json
import re
import secrets
from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from typing import Any, Protocol

from backups.signing import SignatureError, Signer, TrustedKeys

FORMAT_VERSION = 2
# How far ahead of our clock a backup's time may be before it counts as dated in the future: app
# servers keep time by NTP, so minutes of difference already mean a wrong clock or a forgery.
CLOCK_SKEW = timedelta(minutes=5)
DATA_FILE = "db.dump.age"
MANIFEST = "manifest.json"
PARTIAL_MARK = ".partial-"
CHUNK = 1024 * 1024

_ID = re.compile(r"^(\d{8}T\d{6}Z)-([0-9a-f]{6})$")
ENGINES = ("postgresql", "sqlite")


class Readable(Protocol):
    """A binary stream to read from: a local file, an SFTP file, an S3 object body, a pipe."""

    def read(self, size: int = -1, /) -> bytes: ...


class ReadableFile(Readable, Protocol):
    """A readable stream its opener must close (what a destination hands out)."""

    def close(self) -> None: ...


class Writable(Protocol):
    """A binary stream to write to: a local file, a pipe, a HashingWriter."""

    def write(self, data: bytes, /) -> int: ...

    def flush(self) -> None: ...


class ManifestError(ValueError):
    """The manifest is edited, forged, unsigned or makes claims that do not check out."""

    code = "tampered"


class ManifestFromTheFuture(ManifestError):
    """A manifest dated later than our clock allows: a wrong clock (ours or the signer's), or
    a forgery made with the signing key."""


class ManifestUnreadable(ManifestError):
    """The manifest is not even JSON: cut short while written or copied."""

    code = "truncated"


def new_backup_id(now: datetime) -> str:
    if now.tzinfo is None:
        raise ValueError("aware datetimes only")
    return f"{now.astimezone(UTC):%Y%m%dT%H%M%SZ}-{secrets.token_hex(3)}"


def is_backup_id(value: str) -> bool:
    return bool(_ID.match(value))


def backup_time(backup_id: str) -> datetime:
    match = _ID.match(backup_id)
    if not match:
        raise ValueError(f"not a backup id: {backup_id!r}")
    return datetime.strptime(match.group(1), "%Y%m%dT%H%M%SZ").replace(tzinfo=UTC)


def key_of(backup_id: str, name: str) -> str:
    return f"{backup_id}/{name}"


def partial_name(name: str) -> str:
    return f"{name}{PARTIAL_MARK}{secrets.token_hex(4)}"


def is_partial(key: str) -> bool:
    return PARTIAL_MARK in key.rsplit("/", 1)[-1]


def is_complete(names: Iterable[str]) -> bool:
    """A copy is complete when its data file and its manifest are there under their real names
    (the manifest is written last, after the data file was read back). Whether it is also
    genuine and intact is what verification says."""
    present = set(names)
    return DATA_FILE in present and MANIFEST in present


def sha256_stream(stream: Readable) -> tuple[str, int]:
    digest, size = hashlib.sha256(), 0
    while chunk := stream.read(CHUNK):
        digest.update(chunk)
        size += len(chunk)
    return digest.hexdigest(), size


class HashingWriter:
    """A write-only file object that hashes and counts what passes through it."""

    def __init__(self, target: Writable | None = None) -> None:
        self.target = target
        self.digest = hashlib.sha256()
        self.size = 0

    def write(self, data: bytes) -> int:
        self.digest.update(data)
        self.size += len(data)
        if self.target is not None:
            self.target.write(data)
        return len(data)

    def flush(self) -> None:
        if self.target is not None:
            self.target.flush()

    def hexdigest(self) -> str:
        return self.digest.hexdigest()


@dataclass(frozen=True)
class FileEntry:
    name: str
    size: int
    sha256: str
    plaintext_sha256: str = ""


@dataclass
class Manifest:
    backup_id: str
    created_at: datetime
    engine: str
    database: str
    migrations: dict[str, list[str]]
    row_counts: dict[str, int]
    files: list[FileEntry]
    key_id: str
    compression: str
    kind: str = "regular"
    extra: dict[str, Any] = field(default_factory=dict)
    # The newest backup that existed when this one was made: a manifest claims to follow it, so
    # one that is not later than its predecessor is refused.
    previous: str = ""
    signed_by: str = ""
    # The signed bytes as stored: copies and repairs write these, never a re-serialisation.
    raw: bytes = field(default=b"", repr=False, compare=False)

    def file(self, name: str) -> FileEntry:
        for entry in self.files:
            if entry.name == name:
                return entry
        raise ManifestError(f"manifest lists no file {name!r}")

    def _body(self) -> dict[str, Any]:
        return {
            "format": FORMAT_VERSION,
            "id": self.backup_id,
            "created_at": self.created_at.astimezone(UTC).isoformat(),
            "engine": self.engine,
            "database": self.database,
            "migrations": {app: sorted(names) for app, names in sorted(self.migrations.items())},
            "row_counts": dict(sorted(self.row_counts.items())),
            "files": [vars(entry) for entry in self.files],
            "key_id": self.key_id,
            "compression": self.compression,
            "kind": self.kind,
            "extra": self.extra,
            "previous": self.previous,
        }

    def sign(self, signer: Signer) -> bytes:
        """Signs the manifest; returns (and keeps in `raw`) the bytes to store."""
        body = self._body()
        body["signed_by"] = self.signed_by = signer.key_id
        body["signature"] = signer.sign(_canonical(body))
        self.raw = json.dumps(body, indent=2, sort_keys=True).encode() + b"\n"
        return self.raw

    @classmethod
    def from_bytes(cls, raw: bytes, trusted: TrustedKeys) -> Manifest:
        """Parses a stored manifest and checks its signature against the trusted keys."""
        try:
            body = json.loads(raw)
        except (UnicodeDecodeError, json.JSONDecodeError) as exc:
            raise ManifestUnreadable(f"manifest is not valid JSON ({exc})") from exc
        if not isinstance(body, dict):
            raise ManifestError("manifest is not a JSON object")
        if body.get("format") == 1:
            raise ManifestError("unsigned manifest (format 1): it cannot be authenticated")
        if body.get("format") != FORMAT_VERSION:
            raise ManifestError(f"unknown manifest format {body.get('format')!r}")
        signature = body.pop("signature", None)
        if not isinstance(signature, str) or not isinstance(body.get("signed_by"), str):
            raise ManifestError("manifest is not signed")
        try:
            trusted.verify(body["signed_by"], _canonical(body), signature)
        except SignatureError as exc:
            raise ManifestError(str(exc)) from exc
        try:
            manifest = cls(
                backup_id=body["id"],
                created_at=datetime.fromisoformat(body["created_at"]),
                engine=body["engine"],
                database=body["database"],
                migrations={app: list(names) for app, names in body["migrations"].items()},
                row_counts={table: int(n) for table, n in body["row_counts"].items()},
                files=[FileEntry(**entry) for entry in body["files"]],
                key_id=body["key_id"],
                compression=body["compression"],
                kind=body["kind"],
                extra=body.get("extra", {}),
                previous=body["previous"],
                signed_by=body["signed_by"],
                raw=raw,
            )
        except (KeyError, TypeError, ValueError, AttributeError) as exc:
            raise ManifestError(f"manifest is missing or has a malformed field ({exc})") from exc
        if not is_backup_id(manifest.backup_id) or manifest.engine not in ENGINES:
            raise ManifestError("manifest has a malformed id or engine")
        return manifest

    def check_claims(self, backup_id: str, now: datetime, skew: timedelta = CLOCK_SKEW) -> None:
        """What a signature alone does not prove: the manifest belongs where it is stored, its
        time is its id's, it is not dated in the future, and it is later than the backup it
        claims to follow."""
        if self.backup_id != backup_id:
            raise ManifestError(f"manifest names another backup ({self.backup_id})")
        made = backup_time(backup_id)
        if self.created_at.astimezone(UTC).replace(microsecond=0) != made:
            raise ManifestError("manifest's time does not match its id")
        if made > now + skew:
            raise ManifestFromTheFuture(
                f"dated in the future ({made:%Y-%m-%d %H:%M:%S} UTC; now "
                f"{now.astimezone(UTC):%Y-%m-%d %H:%M:%S} UTC)"
            )
        if self.previous and (
            not is_backup_id(self.previous)
            or self.previous == backup_id
            or backup_time(self.previous) > made
        ):
            raise ManifestError(f"claims to follow {self.previous}, which is not older")


def _canonical(body: dict[str, Any]) -> bytes:
    """The bytes that are signed: the manifest without its signature, keys sorted, no spaces."""
    return json.dumps(body, sort_keys=True, separators=(",", ":")).encode()


def unknown_migrations(backup: dict[str, list[str]], known: dict[str, set[str]]) -> list[str]:
    """Migrations applied in the backup that this code does not have: the backup's schema is
    newer than the code, and restoring it would leave an application that does not match."""
    return sorted(
        f"{app}.{name}"
        for app, names in backup.items()
        for name in names
        if name not in known.get(app, set())
    )
