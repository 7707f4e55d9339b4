from __future__ import annotations

import io
import os
from pathlib import Path

import pytest

from backups import crypto


def test_round_trip_through_the_public_key(tmp_path: Path) -> None:
    public = crypto.generate_identity_file(tmp_path / "id.txt")
    assert public.startswith("age1")
    assert oct((tmp_path / "id.txt").stat().st_mode & 0o777) == "0o600"
    data = os.urandom(300_000)
    encrypted = io.BytesIO()
    crypto.encrypt_stream(io.BytesIO(data), encrypted, public)
    assert data not in encrypted.getvalue() and encrypted.getvalue().startswith(
        b"age-encryption.org/v1"
    )
    out = io.BytesIO()
    crypto.decrypt_stream(
        io.BytesIO(encrypted.getvalue()), out, crypto.load_identity(tmp_path / "id.txt")
    )
    assert out.getvalue() == data


def test_another_identity_is_a_wrong_key(tmp_path: Path) -> None:
    public = crypto.generate_identity_file(tmp_path / "right.txt")
    crypto.generate_identity_file(tmp_path / "wrong.txt")
    encrypted = io.BytesIO()
    crypto.encrypt_stream(io.BytesIO(b"secret"), encrypted, public)
    with pytest.raises(crypto.WrongKeyError):
        crypto.decrypt_stream(
            io.BytesIO(encrypted.getvalue()),
            io.BytesIO(),
            crypto.load_identity(tmp_path / "wrong.txt"),
        )


def test_damaged_ciphertext_fails_authentication(tmp_path: Path) -> None:
    public = crypto.generate_identity_file(tmp_path / "id.txt")
    encrypted = io.BytesIO()
    crypto.encrypt_stream(io.BytesIO(os.urandom(100_000)), encrypted, public)
    raw = bytearray(encrypted.getvalue())
    raw[-500] ^= 1
    with pytest.raises(crypto.DecryptionError):
        crypto.decrypt_stream(
            io.BytesIO(bytes(raw)), io.BytesIO(), crypto.load_identity(tmp_path / "id.txt")
        )
    with pytest.raises(crypto.DecryptionError):
        crypto.decrypt_stream(
            io.BytesIO(bytes(raw[: len(raw) // 2])),
            io.BytesIO(),
            crypto.load_identity(tmp_path / "id.txt"),
        )


def test_a_malformed_recipient_is_refused() -> None:
    with pytest.raises(ValueError):
        crypto.encrypt_stream(io.BytesIO(b"x"), io.BytesIO(), "age1notakey")
