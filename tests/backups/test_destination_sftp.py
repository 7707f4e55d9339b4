"""Against a real SFTP server: asyncssh on 127.0.0.1 with a generated host key."""

from __future__ import annotations

from pathlib import Path

import pytest
from _destination_contract import KEY, check_contract

from backups.destinations import (
    HostKeyError,
    SFTPDestination,
    destination_for,
    host_key_fingerprint,
)


def test_sftp_server_behaves_like_every_destination(sftp_server, tmp_path: Path) -> None:
    destination = destination_for(sftp_server.url())
    assert isinstance(destination, SFTPDestination)
    try:
        check_contract(destination, tmp_path)
    finally:
        destination.close()
    assert (sftp_server.root / "backups").is_dir()  # inside the chroot, where the URL said


def test_our_fingerprint_is_openssh_format(sftp_server) -> None:
    assert host_key_fingerprint(sftp_server.host_key.public_data) == sftp_server.fingerprint


def test_an_unknown_host_key_is_refused_before_logging_in(sftp_server) -> None:
    other = "SHA256:" + "A" * 43
    destination = destination_for(sftp_server.url(fingerprint=other))
    with pytest.raises(HostKeyError, match="not the pinned"):
        destination.put_bytes(KEY, b"must not arrive")
    assert not (sftp_server.root / "backups").exists()


def test_without_a_pinned_key_or_known_hosts_nothing_is_trusted(sftp_server) -> None:
    url = sftp_server.url().split("?")[0]
    with pytest.raises(HostKeyError, match="unknown host key"):
        destination_for(url).list()


def test_known_hosts_file_pins_the_key(sftp_server, tmp_path: Path, settings) -> None:
    line = f"[127.0.0.1]:{sftp_server.port} {sftp_server.host_key.export_public_key().decode().strip()}\n"
    (tmp_path / "known_hosts").write_text(line)
    settings.BACKUP_SFTP_KNOWN_HOSTS = str(tmp_path / "known_hosts")
    destination = destination_for(sftp_server.url().split("?")[0])
    try:
        assert destination.list() == []
    finally:
        destination.close()


def test_a_stopped_server_is_an_error_after_retries(sftp_server, settings) -> None:
    from backups.destinations import DestinationError

    settings.BACKUP_RETRY_ATTEMPTS = 2
    settings.BACKUP_RETRY_BACKOFF_SECONDS = 0.01
    sftp_server.stop()
    with pytest.raises(DestinationError, match="after 2 attempts"):
        destination_for(sftp_server.url()).list()
    sftp_server.start()


def test_a_server_that_never_answers_fails_within_the_io_timeout(hanging_server, settings) -> None:
    import time

    from backups.destinations import DestinationError

    settings.BACKUP_IO_TIMEOUT_SECONDS = 1
    settings.BACKUP_RETRY_ATTEMPTS = 2
    settings.BACKUP_RETRY_BACKOFF_SECONDS = 0.01
    began = time.monotonic()
    with pytest.raises(DestinationError):
        destination_for(hanging_server.sftp_url()).list()
    assert time.monotonic() - began < 5


def test_the_server_of_a_destination_is_its_host() -> None:
    assert destination_for("sftp://u@Backup.Example:2222/x?host_key=SHA256:a").server == (
        "backup.example"
    )
