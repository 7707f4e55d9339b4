"""The behaviour every destination must have; each destination's test file runs it against a
real instance (a folder, moto's S3 server, an asyncssh SFTP server)."""

from __future__ import annotations

import os
import socket
from pathlib import Path

from backups.destinations import Destination


def free_port() -> int:
    """A port nothing listens on (until someone binds it)."""
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


KEY = "20260131T120000Z-abcdef/db.dump.age"


def check_contract(destination: Destination, tmp_path: Path) -> None:
    data = os.urandom(200_000)
    source = tmp_path / "upload.bin"
    source.write_bytes(data)
    assert destination.stat(KEY) is None
    destination.put_file(KEY, source)
    destination.put_bytes("20260131T120000Z-abcdef/manifest.json", b"{}")
    assert destination.stat(KEY) == len(data)
    assert destination.read_bytes(KEY) == data
    listing = {entry.key: entry.size for entry in destination.list()}
    assert listing == {KEY: len(data), "20260131T120000Z-abcdef/manifest.json": 2}
    destination.put_bytes(KEY, b"replaced")  # a second put replaces whole
    assert destination.read_bytes(KEY) == b"replaced"
    destination.delete(KEY)
    destination.delete("20260131T120000Z-abcdef/manifest.json")
    assert destination.stat(KEY) is None and destination.list() == []
