from __future__ import annotations

import io
from datetime import UTC, datetime

import pytest

from backups.format import (
    DATA_FILE,
    FileEntry,
    HashingWriter,
    Manifest,
    ManifestError,
    backup_time,
    is_backup_id,
    is_partial,
    new_backup_id,
    partial_name,
    sha256_stream,
    unknown_migrations,
)

WHEN = datetime(2026, 1, 31, 12, 0, 5, tzinfo=UTC)


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


def test_manifest_round_trip_keeps_every_field() -> None:
    manifest = _manifest()
    again = Manifest.from_bytes(manifest.to_bytes())
    assert again.to_bytes() == manifest.to_bytes()
    assert again.row_counts == {"booking_booking": 3}
    assert again.file(DATA_FILE).sha256 == "ab" * 32


def test_edited_manifest_is_detected() -> None:
    raw = _manifest().to_bytes().replace(b'"booking_booking": 3', b'"booking_booking": 4')
    with pytest.raises(ManifestError, match="checksum"):
        Manifest.from_bytes(raw)


def test_truncated_manifest_is_detected() -> None:
    with pytest.raises(ManifestError, match="JSON"):
        Manifest.from_bytes(_manifest().to_bytes()[:40])


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
