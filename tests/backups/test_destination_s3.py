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
