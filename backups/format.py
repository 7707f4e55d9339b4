"""The backup file format: naming, manifest schema and checksums. Pure Python, no Django.

A backup is a folder named by its id on every destination:

    <id>/db.dump.age      the snapshot, compressed, then encrypted with age to a public key
    <id>/manifest.json    written last: a backup without it is incomplete and never used

The id starts with the UTC time of the snapshot (``20250131T120000Z-1a2b3c``), so ids sort by age
and a backup's age is known without reading anything. While a file is being written it has a
temporary name (``<name>.partial-<random>``); only a complete file is renamed to its real name.
The manifest carries a checksum of its own content, so an edited manifest is detected too.
"""

from __future__ import annotations

import hashlib
import json
import re
import secrets
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any, Protocol

FORMAT_VERSION = 1
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
    """The manifest is unreadable, incomplete or edited."""


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
        }

    def to_bytes(self) -> bytes:
        body = self._body()
        body["checksum"] = _checksum(body)
        return json.dumps(body, indent=2, sort_keys=True).encode() + b"\n"

    @classmethod
    def from_bytes(cls, raw: bytes) -> Manifest:
        try:
            body = json.loads(raw)
        except (UnicodeDecodeError, json.JSONDecodeError) as exc:
            raise ManifestError(f"manifest is not valid JSON ({exc})") from exc
        if not isinstance(body, dict) or "checksum" not in body:
            raise ManifestError("manifest has no checksum")
        claimed = body.pop("checksum")
        if claimed != _checksum(body):
            raise ManifestError("manifest checksum does not match its content (edited?)")
        if body.get("format") != FORMAT_VERSION:
            raise ManifestError(f"unknown manifest format {body.get('format')!r}")
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
            )
        except (KeyError, TypeError, ValueError) as exc:
            raise ManifestError(f"manifest is missing or has a malformed field ({exc})") from exc
        if not is_backup_id(manifest.backup_id) or manifest.engine not in ENGINES:
            raise ManifestError("manifest has a malformed id or engine")
        return manifest


def _checksum(body: dict[str, Any]) -> str:
    return hashlib.sha256(
        json.dumps(body, sort_keys=True, separators=(",", ":")).encode()
    ).hexdigest()


def unknown_migrations(backup: dict[str, list[str]], known: dict[str, set[str]]) -> list[str]:
    """Migrations applied in the backup that this code does not have: the backup's schema is
    newer than the code, and restoring it would leave an application that does not match."""
    return sorted(
        f"{app}.{name}"
        for app, names in backup.items()
        for name in names
        if name not in known.get(app, set())
    )
