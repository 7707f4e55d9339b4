from __future__ import annotations

import io
import json
from datetime import UTC, datetime, timedelta

import pytest

from backups.format import (
    DATA_FILE,
    MANIFEST,
    FileEntry,
    HashingWriter,
    Manifest,
    ManifestError,
    ManifestUnreadable,
    backup_time,
    is_backup_id,
    is_complete,
    is_partial,
    new_backup_id,
    partial_name,
    sha256_stream,
    unknown_migrations,
)
from backups.signing import Signer, TrustedKeys, generate_pem

WHEN = datetime(2026, 1, 31, 12, 0, 5, tzinfo=UTC)
PEM, PUBLIC = generate_pem()
SIGNER = Signer.from_pem(PEM)
TRUSTED = TrustedKeys([PUBLIC])


def _manifest() -> Manifest:
    return Manifest(
        backup_id=new_backup_id(WHEN),
        created_at=WHEN,
        engine="postgresql",
        database="booking",
        migrations={"booking": ["0002_x", "0001_initial"]},
        row_counts={"booking_booking": 3},
        files=[FileEntry(DATA_FILE, 10, "ab" * 32, "cd" * 32)],
        key_id="age1xyz",
        compression="gzip",
    )


def test_ids_sort_by_time_and_give_it_back() -> None:
    first, second = new_backup_id(WHEN), new_backup_id(WHEN.replace(hour=13))
    assert is_backup_id(first) and first.startswith("20260131T120005Z-")
    assert sorted([second, first]) == [first, second]
    assert backup_time(first) == WHEN


def test_naive_time_is_refused() -> None:
    with pytest.raises(ValueError):
        new_backup_id(datetime(2026, 1, 1))  # noqa: DTZ001


def test_partial_names_are_recognised() -> None:
    assert is_partial(f"x/{partial_name(DATA_FILE)}")
    assert not is_partial(f"x/{DATA_FILE}")


def test_manifest_round_trip_keeps_every_field_and_the_signed_bytes() -> None:
    manifest = _manifest()
    raw = manifest.sign(SIGNER)
    again = Manifest.from_bytes(raw, TRUSTED)
    assert again.raw == raw and again.signed_by == PUBLIC
    assert again.row_counts == {"booking_booking": 3}
    assert again.file(DATA_FILE).sha256 == "ab" * 32


def test_edited_manifest_is_detected() -> None:
    raw = _manifest().sign(SIGNER).replace(b'"booking_booking": 3', b'"booking_booking": 4')
    with pytest.raises(ManifestError, match="signature"):
        Manifest.from_bytes(raw, TRUSTED)


def test_a_manifest_signed_by_another_key_is_not_trusted() -> None:
    other = Signer.from_pem(generate_pem()[0])
    with pytest.raises(ManifestError, match="not trusted"):
        Manifest.from_bytes(_manifest().sign(other), TRUSTED)


def test_an_unsigned_or_old_format_manifest_is_refused() -> None:
    body = json.loads(_manifest().sign(SIGNER))
    del body["signature"]
    with pytest.raises(ManifestError, match="not signed"):
        Manifest.from_bytes(json.dumps(body).encode(), TRUSTED)
    body["format"] = 1
    with pytest.raises(ManifestError, match="unsigned"):
        Manifest.from_bytes(json.dumps(body).encode(), TRUSTED)


def test_truncated_manifest_is_detected() -> None:
    with pytest.raises(ManifestUnreadable, match="JSON"):
        Manifest.from_bytes(_manifest().sign(SIGNER)[:40], TRUSTED)


def test_claims_a_signature_does_not_prove_are_checked() -> None:
    manifest = _manifest()
    manifest.check_claims(manifest.backup_id, now=WHEN)
    with pytest.raises(ManifestError, match="another backup"):
        manifest.check_claims(new_backup_id(WHEN), now=WHEN)
    with pytest.raises(ManifestError, match="future"):
        manifest.check_claims(manifest.backup_id, now=WHEN - timedelta(minutes=6))
    manifest.check_claims(manifest.backup_id, now=WHEN - timedelta(minutes=4))  # clock skew
    manifest.previous = new_backup_id(WHEN + timedelta(hours=12))
    with pytest.raises(ManifestError, match="not older"):
        manifest.check_claims(manifest.backup_id, now=WHEN)
    manifest.previous = new_backup_id(WHEN - timedelta(hours=12))
    manifest.check_claims(manifest.backup_id, now=WHEN)
    manifest.created_at = WHEN + timedelta(hours=1)
    with pytest.raises(ManifestError, match="does not match its id"):
        manifest.check_claims(manifest.backup_id, now=WHEN + timedelta(hours=1))


def test_a_copy_is_complete_with_its_data_file_and_manifest() -> None:
    assert is_complete([DATA_FILE, MANIFEST])
    assert is_complete([DATA_FILE, MANIFEST, partial_name(MANIFEST)])
    assert not is_complete([DATA_FILE, partial_name(MANIFEST)])
    assert not is_complete([MANIFEST])


def test_sha256_of_a_stream_and_through_a_writer_agree() -> None:
    data = b"backup" * 100_000
    digest, size = sha256_stream(io.BytesIO(data))
    writer = HashingWriter(io.BytesIO())
    writer.write(data)
    assert (digest, size) == (writer.hexdigest(), writer.size) and size == len(data)


def test_unknown_migrations_mean_a_newer_schema() -> None:
    known = {"booking": {"0001_initial"}}
    assert unknown_migrations({"booking": ["0001_initial"]}, known) == []
    assert unknown_migrations({"booking": ["0001_initial", "0099_future"]}, known) == [
        "booking.0099_future"
    ]
