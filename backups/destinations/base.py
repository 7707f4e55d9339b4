"""What every backup destination offers, and the retries around it.

Every destination is untrusted (it only ever sees encrypted files and signed manifests) and offers
the same operations on keys such as ``<backup id>/db.dump.age``: put, open, stat, list, delete.
`put` never leaves a file under its real name that is not complete: it writes a temporary name,
makes it durable (fsync where the protocol allows it) and renames it; S3 objects appear
atomically when the upload completes. Each call is retried with backoff on its own, so one
destination failing never stops the others. One module per kind: local.py, sftp.py, s3.py.

Time is bounded twice: every network operation has a connect and read timeout
(BACKUP_IO_TIMEOUT_SECONDS), and a job gives each destination a budget
(BACKUP_DESTINATION_BUDGET_SECONDS): the time spent in that destination's own operations, retry
pauses and transferred chunks (not the time the job spends on others), checked before each of
them; a job can also cancel a destination it no longer waits for.
"""

from __future__ import annotations

import io
import logging
import threading
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import IO, Any, TypeVar
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


class MissingMediumError(DestinationError):
    """The folder of a removable medium is not there: not mounted, or unplugged."""


class BudgetExceeded(DestinationError):
    """The destination used up its time budget in this job (or the job stopped waiting)."""


_FINAL = (FileNotFoundError, HostKeyError, UnsafeKeyError, MissingMediumError, BudgetExceeded)


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
        self.budget_seconds: float | None = None
        self._spent = 0.0
        self._since: float | None = None  # when the operation being timed began
        self._cancelled = threading.Event()

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

    @property
    def server(self) -> str:
        """What the data physically depends on, to tell whether two destinations are really two
        (system check backups.E005): a host name, an S3 endpoint, or this server."""
        return "this server"

    def __str__(self) -> str:
        return self.label

    # --- time ---
    def start_budget(self, seconds: float | None) -> None:
        """From now on, this job's operations on this destination may take `seconds` in all
        (None: no budget, only the per-operation timeouts)."""
        self.budget_seconds = seconds
        self._spent, self._since = 0.0, None
        self._cancelled.clear()

    def cancel(self) -> None:
        """Stops whatever this destination is doing, from another thread: the next chunk or
        operation fails, and an open connection is closed under it."""
        self._cancelled.set()
        self.abort()

    def spent(self) -> float:
        running = time.monotonic() - self._since if self._since is not None else 0.0
        return self._spent + running

    def check_time(self) -> None:
        if self._cancelled.is_set():
            raise BudgetExceeded(f"{self.label}: stopped (time budget)")
        if self.budget_seconds is not None and self.spent() > self.budget_seconds:
            raise BudgetExceeded(
                f"{self.label}: time budget of {self.budget_seconds:.0f} s used up"
            )

    @contextmanager
    def _timing(self) -> Iterator[None]:
        """Counts the time inside against the budget (once: nested timing counts nothing more).
        A job uses a destination from one thread at a time, so one running timer suffices."""
        if self._since is not None:
            yield
            return
        self._since = time.monotonic()
        try:
            yield
        finally:
            self._spent += time.monotonic() - self._since
            self._since = None

    def _remaining(self) -> float | None:
        return None if self.budget_seconds is None else self.budget_seconds - self.spent()

    @property
    def io_timeout(self) -> float:
        from django.conf import settings

        return float(settings.BACKUP_IO_TIMEOUT_SECONDS)

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

    def _list_versions(self) -> list[Entry]:
        """Everything the destination still keeps, old object versions included."""
        return self._list()

    def close(self) -> None:
        pass

    def abort(self) -> None:
        """Closes the connection from another thread (cancel); by default like close()."""
        self.close()

    # --- retried operations ---
    def put_file(self, key: str, path: Path) -> None:
        def attempt() -> None:
            with open(path, "rb") as source:
                self._put(key, _Timed(source, self))  # type: ignore[arg-type]

        self._retry(f"put {key}", attempt)

    def put_bytes(self, key: str, data: bytes) -> None:
        self._retry(f"put {key}", lambda: self._put(key, io.BytesIO(data)))

    @contextmanager
    def open(self, key: str) -> Iterator[ReadableFile]:
        handle = self._retry(f"open {key}", lambda: self._open(key))
        try:
            yield _Timed(handle, self)
        finally:
            handle.close()

    def read_bytes(self, key: str) -> bytes:
        with self.open(key) as handle:
            return handle.read()

    def stat(self, key: str) -> int | None:
        """Size in bytes, or None when the key does not exist."""
        return self._retry(f"stat {key}", lambda: self._stat(key))

    def list_versions(self) -> list[Entry]:
        """Like list(), plus what a versioned bucket keeps of deleted or replaced objects."""
        return self._retry("list versions", self._list_versions)

    def list(self) -> list[Entry]:
        return self._retry("list", self._list)

    def delete(self, key: str) -> None:
        """Deletes the key entirely: on a versioned bucket every version of it."""
        self._retry(f"delete {key}", lambda: self._delete(key))

    def _retry(self, what: str, operation: Callable[[], T]) -> T:
        from django.conf import settings

        attempts = max(1, int(getattr(settings, "BACKUP_RETRY_ATTEMPTS", 3)))
        backoff = float(getattr(settings, "BACKUP_RETRY_BACKOFF_SECONDS", 1.0))
        for attempt in range(1, attempts + 1):
            self.check_time()
            try:
                with self._timing():
                    return operation()
            except _FINAL:
                raise  # retrying cannot change these answers
            except Exception as exc:
                self.close()  # drop a broken connection; the next attempt reconnects
                self.check_time()  # out of time (or cancelled): say so, not what it caused
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
                pause = backoff * 2 ** (attempt - 1)
                remaining = self._remaining()
                with self._timing():
                    time.sleep(pause if remaining is None else max(0.0, min(pause, remaining)))
        raise AssertionError("unreachable")


class _Timed:
    """A stream whose every read first checks the destination's time budget: a transfer stops
    within one chunk of the budget running out (or of a cancel)."""

    def __init__(self, stream: Any, destination: Destination) -> None:
        self.stream, self.destination = stream, destination

    def read(self, size: int = -1, /) -> bytes:
        self.destination.check_time()
        with self.destination._timing():
            data: bytes = self.stream.read(size)
        return data

    def readinto(self, buffer: Any, /) -> int:
        self.destination.check_time()
        with self.destination._timing():
            count: int = self.stream.readinto(buffer)
        return count

    def seek(self, offset: int, whence: int = 0, /) -> int:
        position: int = self.stream.seek(offset, whence)
        return position

    def tell(self) -> int:
        position: int = self.stream.tell()
        return position

    def seekable(self) -> bool:
        return bool(getattr(self.stream, "seekable", lambda: False)())

    def close(self) -> None:
        self.stream.close()
