"""What every backup destination offers, and the retries around it.

Every destination is untrusted (it only ever sees encrypted files and signed manifests) and offers
the same operations on keys such as ``<backup id>/db.dump.age``: put, open, stat, list, delete.
`put` never leaves a file under its real name that is not complete: it writes a temporary name,
makes it durable (fsync where the protocol allows it) and renames it; S3 objects appear
atomically when the upload completes. Each call is retried with backoff on its own, so one
destination failing never stops the others. One module per kind: local.py, sftp.py, s3.py.
"""

from __future__ import annotations

import io
import logging
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import IO, TypeVar
from urllib.parse import unquote, urlsplit

from backups.format import ReadableFile

logger = logging.getLogger("backups")
T = TypeVar("T")


class DestinationError(Exception):
    """The destination could not be reached or refused the operation."""


class UnsafeKeyError(DestinationError):
    """A key that would leave the destination's folder: a bug or an attack, never retried."""


class HostKeyError(DestinationError):
    """The SFTP server's host key is not the configured one: never connect."""


@dataclass(frozen=True)
class Entry:
    key: str
    size: int


def _query(raw: str) -> dict[str, str]:
    """Query parameters, percent-decoded but with '+' kept: host key fingerprints are base64."""
    pairs = (item.partition("=") for item in raw.split("&") if item)
    return {unquote(name): unquote(value) for name, _, value in pairs}


class Destination:
    scheme = ""

    def __init__(self, url: str) -> None:
        self.url = url

    @property
    def label(self) -> str:
        """The URL without password or query, safe for logs and mail."""
        parts = urlsplit(self.url)
        if not parts.scheme:
            return self.url
        host = parts.hostname or ""
        user = f"{parts.username}@" if parts.username else ""
        port = f":{parts.port}" if parts.port else ""
        return f"{parts.scheme}://{user}{host}{port}{parts.path}"

    def __str__(self) -> str:
        return self.label

    # Subclasses implement these (single attempt each); callers use the retried versions below.
    def _put(self, key: str, source: IO[bytes]) -> None:
        raise NotImplementedError

    def _open(self, key: str) -> ReadableFile:
        raise NotImplementedError

    def _stat(self, key: str) -> int | None:
        raise NotImplementedError

    def _list(self) -> list[Entry]:
        raise NotImplementedError

    def _delete(self, key: str) -> None:
        raise NotImplementedError

    def close(self) -> None:
        pass

    # --- retried operations ---
    def put_file(self, key: str, path: Path) -> None:
        def attempt() -> None:
            with open(path, "rb") as source:
                self._put(key, source)

        self._retry(f"put {key}", attempt)

    def put_bytes(self, key: str, data: bytes) -> None:
        self._retry(f"put {key}", lambda: self._put(key, io.BytesIO(data)))

    @contextmanager
    def open(self, key: str) -> Iterator[ReadableFile]:
        handle = self._retry(f"open {key}", lambda: self._open(key))
        try:
            yield handle
        finally:
            handle.close()

    def read_bytes(self, key: str) -> bytes:
        with self.open(key) as handle:
            return handle.read()

    def stat(self, key: str) -> int | None:
        """Size in bytes, or None when the key does not exist."""
        return self._retry(f"stat {key}", lambda: self._stat(key))

    def list(self) -> list[Entry]:
        return self._retry("list", self._list)

    def delete(self, key: str) -> None:
        self._retry(f"delete {key}", lambda: self._delete(key))

    def _retry(self, what: str, operation: Callable[[], T]) -> T:
        from django.conf import settings

        attempts = max(1, int(getattr(settings, "BACKUP_RETRY_ATTEMPTS", 3)))
        backoff = float(getattr(settings, "BACKUP_RETRY_BACKOFF_SECONDS", 1.0))
        for attempt in range(1, attempts + 1):
            try:
                return operation()
            except (FileNotFoundError, HostKeyError, UnsafeKeyError):
                raise  # retrying cannot change these answers
            except Exception as exc:
                self.close()  # drop a broken connection; the next attempt reconnects
                if attempt == attempts:
                    raise DestinationError(
                        f"{self.label}: {what} failed after {attempts} attempts: {exc}"
                    ) from exc
                logger.warning(
                    "backup destination retry",
                    extra={
                        "event": "backup_retry",
                        "destination": self.label,
                        "operation": what,
                        "attempt": attempt,
                        "error": str(exc),
                    },
                )
                time.sleep(backoff * 2 ** (attempt - 1))
        raise AssertionError("unreachable")
