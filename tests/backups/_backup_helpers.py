"""Helpers the backup tests share (a module of its own, like _destination_contract: pytest
imports every test folder's conftest.py under the one name "conftest")."""

from __future__ import annotations

import base64
import sqlite3


def signing_key_pair() -> tuple[str, str]:
    """A new Ed25519 manifest signing key: (private key as PEM PKCS#8, the way
    `openssl genpkey -algorithm ed25519` writes it; public key as ``ed25519:<base64>``)."""
    from cryptography.hazmat.primitives import serialization
    from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey

    key = Ed25519PrivateKey.generate()
    pem = key.private_bytes(
        serialization.Encoding.PEM,
        serialization.PrivateFormat.PKCS8,
        serialization.NoEncryption(),
    ).decode()
    raw = key.public_key().public_bytes(serialization.Encoding.Raw, serialization.PublicFormat.Raw)
    return pem, "ed25519:" + base64.b64encode(raw).decode()


def counts(url: str, tables: list[str]) -> dict[str, int]:
    """Row counts of `tables` in the database at `url`."""
    from backups.snapshot import Target, pg_row_counts, sqlite_row_counts

    target = Target.from_url(url)
    if target.engine == "sqlite":
        with sqlite3.connect(target.name) as conn:
            return sqlite_row_counts(conn, tables)
    with target.connect() as conn:
        return pg_row_counts(conn, tables)


def flip_byte(url: str, key: str, offset: int | None = None) -> None:
    """Damages one byte of a stored file the way a failing disk or someone with write access to
    that one destination would: read it, flip a bit, write it back through the destination."""
    from backups.destinations import destination_for

    destination = destination_for(url)
    try:
        raw = bytearray(destination.read_bytes(key))
        raw[len(raw) // 2 if offset is None else offset] ^= 0x01
        destination.put_bytes(key, bytes(raw))
    finally:
        destination.close()
