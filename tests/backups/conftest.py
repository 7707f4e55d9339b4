"""Backups test set-up: an age key pair and a manifest signing key, three local destinations plus
the offline one, all in a temporary folder; real servers (moto's S3, an asyncssh SFTP server) on
127.0.0.1 when asked for, and a server that accepts connections and never answers."""

from __future__ import annotations

import asyncio
import secrets
import socket
import threading
from collections.abc import Iterator
from pathlib import Path

import pytest
from _backup_helpers import signing_key_pair
from _destination_contract import free_port

from backups.crypto import generate_identity_file


@pytest.fixture
def backup_settings(settings, tmp_path: Path):
    """Local destinations a, b, c and offline (its medium present); the key pair and the signing
    key; fast retries; an operator."""
    settings.BACKUP_PUBLIC_KEY = generate_identity_file(tmp_path / "identity.txt")
    settings.BACKUP_IDENTITY_FILE = str(tmp_path / "identity.txt")
    settings.BACKUP_SIGNING_KEY, public = signing_key_pair()
    settings.BACKUP_SIGNING_PUBLIC_KEYS = [public]
    settings.BACKUP_DESTINATIONS = [str(tmp_path / "dest" / name) for name in ("a", "b", "c")]
    settings.BACKUP_OFFLINE_DESTINATION = str(tmp_path / "dest" / "offline")
    (tmp_path / "dest" / "offline").mkdir(parents=True)
    settings.BACKUP_WORK_DIR = tmp_path / "work"
    settings.BACKUP_RETRY_ATTEMPTS = 2
    settings.BACKUP_RETRY_BACKOFF_SECONDS = 0.01
    settings.ADMINS = [("Operators", "ops@example.com")]
    settings.DEBUG = False
    return settings


@pytest.fixture
def scratch_url(tmp_path: Path, transactional_db) -> Iterator[str]:
    """An empty database of the test's engine, made by the test: a file on SQLite, a database
    on the same PostgreSQL server otherwise."""
    from django.db import connection

    from backups.snapshot import Target, pg_create_database, pg_drop_database

    live = Target.from_settings(connection.settings_dict)
    if live.engine == "sqlite":
        yield f"sqlite:///{tmp_path / 'scratch.sqlite3'}"
        return
    name = f"{live.name}_scratch_{secrets.token_hex(3)}"
    scratch = pg_create_database(live, name)
    try:
        yield f"postgres://{scratch.user}@{scratch.host}:{scratch.port or 5432}/{name}"
    finally:
        pg_drop_database(live, name)


@pytest.fixture
def some_data(transactional_db):
    """A few committed rows (pg_dump reads committed data from another process)."""
    from django.contrib.auth import get_user_model

    from booking.models import Partner, Service
    from tests.staffing import team

    user = get_user_model().objects.create_user(email="owner@example.com", password="x" * 16)
    partner = Partner.objects.create(name="Salon", slug="salon", contact_email="salon@example.com")
    Service.objects.create(partner=partner, name="Cut", slug="cut", duration_minutes=30)
    team(partner)
    return user


class SFTPServer:
    """A real SFTP server (asyncssh) on 127.0.0.1 with a generated host key, public-key login
    and a chroot; stop() closes the listener and every open connection, start() resumes on the
    same port."""

    def __init__(self, root: Path) -> None:
        import asyncssh

        self.root = root
        self.port = free_port()
        self.host_key = asyncssh.generate_private_key("ssh-ed25519")
        self.client_key = asyncssh.generate_private_key("ssh-ed25519")
        self.fingerprint = self.host_key.get_fingerprint("sha256")
        self.loop = asyncio.new_event_loop()
        self.thread = threading.Thread(target=self.loop.run_forever, daemon=True)
        self.thread.start()
        self.listener = None
        self.connections: list = []

    def _run(self, coro):
        return asyncio.run_coroutine_threadsafe(coro, self.loop).result(15)

    async def _start(self) -> None:
        import asyncssh

        self.listener = await asyncssh.listen(
            "127.0.0.1",
            self.port,
            server_host_keys=[self.host_key],
            authorized_client_keys=asyncssh.import_authorized_keys(
                self.client_key.export_public_key().decode()
            ),
            sftp_factory=lambda chan: asyncssh.SFTPServer(chan, chroot=str(self.root).encode()),
            acceptor=self.connections.append,
            reuse_address=True,
        )

    async def _stop(self) -> None:
        self.listener.close()
        await self.listener.wait_closed()
        for conn in self.connections:
            conn.close()
        self.connections.clear()

    def start(self) -> None:
        self._run(self._start())

    def stop(self) -> None:
        self._run(self._stop())

    def write_client_key(self, path: Path) -> str:
        self.client_key.write_private_key(str(path), format_name="openssh")
        return str(path)

    def url(self, path: str = "/backups", fingerprint: str | None = None) -> str:
        return (
            f"sftp://backup@127.0.0.1:{self.port}{path}?host_key={fingerprint or self.fingerprint}"
        )

    def close(self) -> None:
        if self.listener is not None:
            self._run(self._stop())
        self.loop.call_soon_threadsafe(self.loop.stop)
        self.thread.join(5)


@pytest.fixture
def sftp_server(tmp_path: Path, settings):
    root = tmp_path / "sftp-root"
    root.mkdir()
    server = SFTPServer(root)
    server.start()
    settings.BACKUP_SFTP_KEY_FILE = server.write_client_key(tmp_path / "sftp_client_key")
    settings.BACKUP_SFTP_KNOWN_HOSTS = ""
    yield server
    server.close()


@pytest.fixture(scope="session")
def s3_server():
    """moto's S3 in server mode on 127.0.0.1, for the whole session."""
    from moto.server import ThreadedMotoServer

    with pytest.MonkeyPatch.context() as patch:
        for name, value in (
            ("AWS_ACCESS_KEY_ID", "testing"),
            ("AWS_SECRET_ACCESS_KEY", "testing"),
            ("AWS_DEFAULT_REGION", "us-east-1"),
        ):
            patch.setenv(name, value)
        server = ThreadedMotoServer(ip_address="127.0.0.1", port=free_port(), verbose=False)
        server.start()
        host, port = server.get_host_and_port()
        yield f"http://{host}:{port}"
        server.stop()


@pytest.fixture
def s3_bucket(s3_server: str) -> str:
    """A fresh bucket; returns an s3:// destination URL for it."""
    import secrets

    import boto3

    name = f"backups-{secrets.token_hex(4)}"
    boto3.client("s3", endpoint_url=s3_server, region_name="us-east-1").create_bucket(Bucket=name)
    return f"s3://{name}/nightly?endpoint_url={s3_server}&region=us-east-1"


class HangingServer:
    """Accepts TCP connections and never answers (a server whose disk or process hangs, a
    firewall that swallows packets after the handshake). Every connection stays open until
    close()."""

    def __init__(self) -> None:
        self.sock = socket.socket()
        self.sock.bind(("127.0.0.1", 0))
        self.sock.listen(64)
        self.port = self.sock.getsockname()[1]
        self.held: list[socket.socket] = []
        self.thread = threading.Thread(target=self._accept, daemon=True)
        self.thread.start()

    def _accept(self) -> None:
        while True:
            try:
                conn, _ = self.sock.accept()
            except OSError:
                return
            self.held.append(conn)

    def s3_url(self) -> str:
        return f"s3://hung/nightly?endpoint_url=http://127.0.0.1:{self.port}&region=us-east-1"

    def sftp_url(self) -> str:
        return f"sftp://backup@127.0.0.1:{self.port}/backups?host_key=SHA256:{'A' * 43}"

    def close(self) -> None:
        self.sock.close()
        for conn in self.held:
            conn.close()


@pytest.fixture
def hanging_server(monkeypatch):
    for name, value in (("AWS_ACCESS_KEY_ID", "testing"), ("AWS_SECRET_ACCESS_KEY", "testing")):
        monkeypatch.setenv(name, value)
    server = HangingServer()
    yield server
    server.close()
