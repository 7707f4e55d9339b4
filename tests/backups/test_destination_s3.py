"""Against a real S3-compatible server: moto in server mode on 127.0.0.1."""

from __future__ import annotations

from pathlib import Path

import boto3
from _destination_contract import KEY, check_contract, free_port

from backups.destinations import S3Destination, destination_for


def test_s3_bucket_behaves_like_every_destination(s3_bucket: str, tmp_path: Path, settings) -> None:
    destination = destination_for(s3_bucket)
    assert isinstance(destination, S3Destination)
    check_contract(destination, tmp_path)


def test_uploads_carry_a_sha256_checksum_the_server_keeps(
    s3_bucket: str, s3_server: str, settings
) -> None:
    destination = destination_for(s3_bucket)
    destination.put_bytes(KEY, b"encrypted bytes")
    head = boto3.client("s3", endpoint_url=s3_server, region_name="us-east-1").head_object(
        Bucket=destination.bucket, Key=f"nightly/{KEY}", ChecksumMode="ENABLED"
    )
    assert head.get("ChecksumSHA256")


def test_the_label_shows_no_credentials(s3_server: str) -> None:
    assert (
        "secret" not in S3Destination(f"s3://b/p?endpoint_url={s3_server}&aws_secret=secret").label
    )


def test_an_unreachable_s3_server_is_a_destination_error(settings) -> None:
    import pytest

    from backups.destinations import DestinationError

    settings.BACKUP_RETRY_ATTEMPTS = 1
    with pytest.raises(DestinationError):
        destination_for(
            f"s3://b/p?endpoint_url=http://127.0.0.1:{free_port()}&region=us-east-1"
        ).list()


def test_deleting_on_a_versioned_bucket_leaves_no_version_behind(
    s3_bucket: str, s3_server: str, settings
) -> None:
    client = boto3.client("s3", endpoint_url=s3_server, region_name="us-east-1")
    destination = destination_for(s3_bucket)
    client.put_bucket_versioning(
        Bucket=destination.bucket, VersioningConfiguration={"Status": "Enabled"}
    )
    destination.put_bytes(KEY, b"first")
    destination.put_bytes(KEY, b"second")
    assert len(destination.list_versions()) == 2
    destination.delete(KEY)
    assert destination.list() == [] and destination.list_versions() == []
    listing = client.list_object_versions(Bucket=destination.bucket, Prefix="nightly/")
    assert listing.get("Versions", []) == [] and listing.get("DeleteMarkers", []) == []


def test_a_server_that_never_answers_fails_within_the_io_timeout(hanging_server, settings) -> None:
    import time

    import pytest

    from backups.destinations import DestinationError

    settings.BACKUP_IO_TIMEOUT_SECONDS = 1
    settings.BACKUP_RETRY_ATTEMPTS = 2
    settings.BACKUP_RETRY_BACKOFF_SECONDS = 0.01
    began = time.monotonic()
    with pytest.raises(DestinationError):
        destination_for(hanging_server.s3_url()).list()
    assert time.monotonic() - began < 5
