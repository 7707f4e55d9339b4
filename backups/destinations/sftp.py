"""An SFTP server as a destination, its host key pinned."""

from __future__ import annotations

import base64
import hashlib
import shutil
import socket
import stat as stat_module
from typing import IO, TYPE_CHECKING
from urllib.parse import unquote, urlsplit

from backups.destinations.base import (
    Destination,
    DestinationError,
    Entry,
    HostKeyError,
    UnsafeKeyError,
    _query,
)
from backups.format import ReadableFile, partial_name

if TYPE_CHECKING:
    # Imported where used: a deployment without SFTP destinations never loads paramiko.
    import paramiko


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

        # Every step has the I/O timeout: the TCP connect, the banner, the key exchange, the
        # login, opening the channel, and then each read and write on it (a server that
        # accepts and never answers fails the operation instead of holding the job).
        timeout = self.io_timeout
        sock = socket.create_connection((self.host, self.port), timeout=timeout)
        transport = paramiko.Transport(sock)
        transport.banner_timeout = transport.handshake_timeout = timeout
        transport.auth_timeout = timeout
        self._transport = transport  # so that cancel() can close it while we wait below
        try:
            transport.start_client(timeout=timeout)
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
            # SFTPClient.from_transport, with a timeout on opening the channel.
            channel = transport.open_session(timeout=timeout)
            channel.settimeout(timeout)
            channel.invoke_subsystem("sftp")
            sftp = paramiko.SFTPClient(channel)
        except BaseException:
            transport.close()
            self._transport = None
            raise
        self._transport, self._sftp = transport, sftp
        return sftp

    @property
    def server(self) -> str:
        return self.host.lower()

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
