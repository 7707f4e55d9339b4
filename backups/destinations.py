"""Where backups are stored: a local directory, an SFTP server or an S3-compatible bucket.

Every destination is untrusted (it only ever sees encrypted files and checksums) and offers the
same operations on keys such as ``<backup id>/db.dump.age``: put, open, stat, list, delete.
`put` never leaves a file under its real name that is not complete: it writes a temporary name,
makes it durable (fsync where the protocol allows it) and renames it; S3 objects appear
atomically when the upload completes. Each call is retried with backoff on its own, so one
destination failing never stops the others.
"""

from __future__ import annotations

import base64
import hashlib
import logging
import os
import shutil
import socket
import stat as stat_module
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import IO, TYPE_CHECKING, TypeVar
from urllib.parse import unquote, urlsplit

from backups.format import CHUNK, ReadableFile, partial_name

if TYPE_CHECKING:
    # Imported where used: a deployment with only local or only S3 destinations never loads
    # the other client library.
    import paramiko
    from mypy_boto3_s3 import S3Client

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
        import io

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


class LocalDestination(Destination):
    """A directory: another disk, an NFS mount, or (for the offline copy) a removable medium."""

    scheme = "file"

    def __init__(self, url: str) -> None:
        super().__init__(url)
        self.root = Path(unquote(urlsplit(url).path) if url.startswith("file://") else url)

    def _path(self, key: str) -> Path:
        path = (self.root / key).resolve()
        if self.root.resolve() not in path.parents:
            raise UnsafeKeyError(f"key {key!r} leaves the destination")
        return path

    def _put(self, key: str, source: IO[bytes]) -> None:
        final = self._path(key)
        final.parent.mkdir(parents=True, exist_ok=True)
        temp = final.with_name(partial_name(final.name))
        try:
            with open(temp, "wb") as target:
                shutil.copyfileobj(source, target, CHUNK)
                target.flush()
                os.fsync(target.fileno())
            os.replace(temp, final)
        except BaseException:
            temp.unlink(missing_ok=True)
            raise
        _fsync_dir(final.parent)

    def _open(self, key: str) -> ReadableFile:
        return open(self._path(key), "rb")

    def _stat(self, key: str) -> int | None:
        try:
            return self._path(key).stat().st_size
        except FileNotFoundError:
            return None

    def _list(self) -> list[Entry]:
        if not self.root.is_dir():
            return []
        return [
            Entry(path.relative_to(self.root).as_posix(), path.stat().st_size)
            for path in sorted(self.root.rglob("*"))
            if path.is_file()
        ]

    def _delete(self, key: str) -> None:
        path = self._path(key)
        path.unlink(missing_ok=True)
        if path.parent != self.root.resolve():
            try:
                path.parent.rmdir()  # the backup's folder, once empty
            except OSError:
                pass


def _fsync_dir(path: Path) -> None:
    fd = os.open(path, os.O_RDONLY)
    try:
        os.fsync(fd)
    finally:
        os.close(fd)


def host_key_fingerprint(key_bytes: bytes) -> str:
    """OpenSSH's format: ``SHA256:`` and unpadded base64 (what ``ssh-keygen -lf`` prints)."""
    return "SHA256:" + base64.b64encode(hashlib.sha256(key_bytes).digest()).decode().rstrip("=")


class SFTPDestination(Destination):
    """``sftp://user[:password]@host[:port]/path?host_key=SHA256:...``

    The server's host key must be pinned, by ``host_key`` in the URL or through the known_hosts
    file in BACKUP_SFTP_KNOWN_HOSTS: an unknown key is refused (no trust on first use).
    Authentication: BACKUP_SFTP_KEY_FILE (a private key), else the password in the URL.
    """

    scheme = "sftp"

    def __init__(self, url: str) -> None:
        super().__init__(url)
        parts = urlsplit(url)
        self.host = parts.hostname or ""
        self.port = parts.port or 22
        self.user = unquote(parts.username or "")
        self.password = unquote(parts.password) if parts.password else None
        self.root = unquote(parts.path).rstrip("/") or "."
        self.pinned = _query(parts.query).get("host_key", "")
        self._transport: paramiko.Transport | None = None
        self._sftp: paramiko.SFTPClient | None = None

    def _client(self) -> paramiko.SFTPClient:
        if self._sftp is not None:
            return self._sftp
        import paramiko
        from django.conf import settings

        sock = socket.create_connection((self.host, self.port), timeout=15)
        transport = paramiko.Transport(sock)
        try:
            transport.start_client(timeout=15)
            self._check_host_key(
                transport.get_remote_server_key(), settings.BACKUP_SFTP_KNOWN_HOSTS
            )
            key_file = settings.BACKUP_SFTP_KEY_FILE
            if key_file:
                pkey = paramiko.PKey.from_path(key_file)
                transport.auth_publickey(self.user, pkey)
            elif self.password is not None:
                transport.auth_password(self.user, self.password)
            else:
                raise DestinationError(f"{self.label}: no BACKUP_SFTP_KEY_FILE and no password")
            sftp = paramiko.SFTPClient.from_transport(transport)
            if sftp is None:
                raise DestinationError(f"{self.label}: the server opened no SFTP session")
        except BaseException:
            transport.close()
            raise
        self._transport, self._sftp = transport, sftp
        return sftp

    def _check_host_key(self, key: paramiko.PKey, known_hosts: str) -> None:
        import paramiko

        fingerprint = host_key_fingerprint(key.asbytes())
        if self.pinned:
            if fingerprint != self.pinned:
                raise HostKeyError(
                    f"{self.label}: host key {fingerprint} is not the pinned {self.pinned}"
                )
            return
        if known_hosts:
            hosts = paramiko.HostKeys(known_hosts)
            name = self.host if self.port == 22 else f"[{self.host}]:{self.port}"
            if hosts.check(name, key):
                return
        raise HostKeyError(
            f"{self.label}: unknown host key {fingerprint}; pin it with ?host_key= or BACKUP_SFTP_KNOWN_HOSTS"
        )

    def close(self) -> None:
        if self._transport is not None:
            self._transport.close()
        self._transport = self._sftp = None

    def _remote(self, key: str) -> str:
        if ".." in key.split("/"):
            raise UnsafeKeyError(f"key {key!r} leaves the destination")
        return f"{self.root}/{key}"

    def _mkdirs(self, sftp: paramiko.SFTPClient, directory: str) -> None:
        prefix = "/" if directory.startswith("/") else ""
        parts = [part for part in directory.split("/") if part]
        for depth in range(1, len(parts) + 1):
            current = prefix + "/".join(parts[:depth])
            try:
                sftp.stat(current)
            except FileNotFoundError:
                sftp.mkdir(current)

    def _put(self, key: str, source: IO[bytes]) -> None:
        sftp = self._client()
        final = self._remote(key)
        directory, name = final.rsplit("/", 1)
        self._mkdirs(sftp, directory)
        temp = f"{directory}/{partial_name(name)}"
        try:
            with sftp.open(temp, "wb") as target:
                target.set_pipelined(True)
                shutil.copyfileobj(source, target, 32768)
            # paramiko has no fsync@openssh.com; closing the handle makes the server close (and
            # most servers flush) the file before the atomic rename below.
            sftp.posix_rename(temp, final)
        except BaseException:
            try:
                sftp.remove(temp)
            except OSError:
                pass
            raise

    def _open(self, key: str) -> ReadableFile:
        handle = self._client().open(self._remote(key), "rb")
        handle.prefetch()
        return handle

    def _stat(self, key: str) -> int | None:
        try:
            return self._client().stat(self._remote(key)).st_size
        except FileNotFoundError:
            return None

    def _list(self) -> list[Entry]:
        sftp = self._client()
        entries: list[Entry] = []

        def walk(directory: str, prefix: str) -> None:
            try:
                items = sftp.listdir_attr(directory)
            except FileNotFoundError:
                return
            for item in items:
                key = f"{prefix}{item.filename}"
                if stat_module.S_ISDIR(item.st_mode or 0):
                    walk(f"{directory}/{item.filename}", f"{key}/")
                else:
                    entries.append(Entry(key, item.st_size or 0))

        walk(self.root, "")
        return sorted(entries, key=lambda e: e.key)

    def _delete(self, key: str) -> None:
        sftp = self._client()
        path = self._remote(key)
        try:
            sftp.remove(path)
        except FileNotFoundError:
            pass
        try:
            sftp.rmdir(path.rsplit("/", 1)[0]) if "/" in key else None
        except OSError:
            pass  # not empty yet


class S3Destination(Destination):
    """``s3://bucket/prefix?endpoint_url=https://...&region=...``; credentials from the usual AWS
    variables (AWS_ACCESS_KEY_ID, AWS_SECRET_ACCESS_KEY) or the instance role. Uploads carry a
    SHA-256 checksum that the server verifies; objects appear only once the upload completed."""

    scheme = "s3"

    def __init__(self, url: str) -> None:
        super().__init__(url)
        parts = urlsplit(url)
        query = _query(parts.query)
        self.bucket = parts.netloc
        self.prefix = parts.path.strip("/")
        self.endpoint_url = query.get("endpoint_url")
        self.region = query.get("region")
        self._s3: S3Client | None = None

    @property
    def label(self) -> str:
        endpoint = f" at {urlsplit(self.endpoint_url).netloc}" if self.endpoint_url else ""
        return f"s3://{self.bucket}/{self.prefix}{endpoint}"

    def _client(self) -> S3Client:
        if self._s3 is None:
            import boto3
            from botocore.config import Config

            self._s3 = boto3.client(
                "s3",
                endpoint_url=self.endpoint_url,
                region_name=self.region,
                config=Config(retries={"max_attempts": 2}, connect_timeout=10, read_timeout=60),
            )
        return self._s3

    def close(self) -> None:
        self._s3 = None

    def _object(self, key: str) -> str:
        return f"{self.prefix}/{key}" if self.prefix else key

    def _put(self, key: str, source: IO[bytes]) -> None:
        self._client().upload_fileobj(
            source, self.bucket, self._object(key), ExtraArgs={"ChecksumAlgorithm": "SHA256"}
        )

    def _open(self, key: str) -> ReadableFile:
        from botocore.exceptions import ClientError

        try:
            return self._client().get_object(Bucket=self.bucket, Key=self._object(key))["Body"]
        except ClientError as exc:
            if exc.response.get("Error", {}).get("Code") in ("NoSuchKey", "404"):
                raise FileNotFoundError(key) from exc
            raise

    def _stat(self, key: str) -> int | None:
        from botocore.exceptions import ClientError

        try:
            return self._client().head_object(Bucket=self.bucket, Key=self._object(key))[
                "ContentLength"
            ]
        except ClientError as exc:
            if exc.response.get("Error", {}).get("Code") in ("NoSuchKey", "404", "NotFound"):
                return None
            raise

    def _list(self) -> list[Entry]:
        entries = []
        start = f"{self.prefix}/" if self.prefix else ""
        for page in (
            self._client()
            .get_paginator("list_objects_v2")
            .paginate(Bucket=self.bucket, Prefix=start)
        ):
            for item in page.get("Contents", []):
                entries.append(Entry(item["Key"][len(start) :], item["Size"]))
        return sorted(entries, key=lambda e: e.key)

    def _delete(self, key: str) -> None:
        self._client().delete_object(Bucket=self.bucket, Key=self._object(key))

    def abort_incomplete_uploads(self) -> None:
        """A killed multipart upload leaves invisible parts behind (and billed): abort them."""
        client = self._client()
        start = f"{self.prefix}/" if self.prefix else ""
        for upload in client.list_multipart_uploads(Bucket=self.bucket, Prefix=start).get(
            "Uploads", []
        ):
            client.abort_multipart_upload(
                Bucket=self.bucket, Key=upload["Key"], UploadId=upload["UploadId"]
            )


def destination_for(url: str) -> Destination:
    scheme = urlsplit(url).scheme
    if scheme in ("", "file"):
        return LocalDestination(url)
    if scheme == "sftp":
        return SFTPDestination(url)
    if scheme == "s3":
        return S3Destination(url)
    raise ValueError(
        f"unsupported backup destination {url!r} (use a path, file://, sftp:// or s3://)"
    )
