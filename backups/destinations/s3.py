"""An S3-compatible bucket as a destination."""

from __future__ import annotations

from typing import IO, TYPE_CHECKING
from urllib.parse import urlsplit

from backups.destinations.base import Destination, Entry, _query
from backups.format import ReadableFile

if TYPE_CHECKING:
    # Imported where used: a deployment without S3 destinations never loads boto3.
    from mypy_boto3_s3 import S3Client


class S3Destination(Destination):
    """``s3://bucket/prefix?endpoint_url=https://...&region=...``; credentials from the usual AWS
    variables (AWS_ACCESS_KEY_ID, AWS_SECRET_ACCESS_KEY) or the instance role. Uploads carry a
    SHA-256 checksum that the server verifies; objects appear only once the upload completed."""

    scheme = "s3"

    def __init__(self, url: str) -> None:
        super().__init__(url)
        parts = urlsplit(url)
        query = _query(parts.query)
        self.bucket = parts.netloc
        self.prefix = parts.path.strip("/")
        self.endpoint_url = query.get("endpoint_url")
        self.region = query.get("region")
        self._s3: S3Client | None = None

    @property
    def label(self) -> str:
        endpoint = f" at {urlsplit(self.endpoint_url).netloc}" if self.endpoint_url else ""
        return f"s3://{self.bucket}/{self.prefix}{endpoint}"

    def _client(self) -> S3Client:
        if self._s3 is None:
            import boto3
            from botocore.config import Config

            self._s3 = boto3.client(
                "s3",
                endpoint_url=self.endpoint_url,
                region_name=self.region,
                config=Config(retries={"max_attempts": 2}, connect_timeout=10, read_timeout=60),
            )
        return self._s3

    def close(self) -> None:
        self._s3 = None

    def _object(self, key: str) -> str:
        return f"{self.prefix}/{key}" if self.prefix else key

    def _put(self, key: str, source: IO[bytes]) -> None:
        self._client().upload_fileobj(
            source, self.bucket, self._object(key), ExtraArgs={"ChecksumAlgorithm": "SHA256"}
        )

    def _open(self, key: str) -> ReadableFile:
        from botocore.exceptions import ClientError

        try:
            return self._client().get_object(Bucket=self.bucket, Key=self._object(key))["Body"]
        except ClientError as exc:
            if exc.response.get("Error", {}).get("Code") in ("NoSuchKey", "404"):
                raise FileNotFoundError(key) from exc
            raise

    def _stat(self, key: str) -> int | None:
        from botocore.exceptions import ClientError

        try:
            return self._client().head_object(Bucket=self.bucket, Key=self._object(key))[
                "ContentLength"
            ]
        except ClientError as exc:
            if exc.response.get("Error", {}).get("Code") in ("NoSuchKey", "404", "NotFound"):
                return None
            raise

    def _list(self) -> list[Entry]:
        entries = []
        start = f"{self.prefix}/" if self.prefix else ""
        for page in (
            self._client()
            .get_paginator("list_objects_v2")
            .paginate(Bucket=self.bucket, Prefix=start)
        ):
            for item in page.get("Contents", []):
                entries.append(Entry(item["Key"][len(start) :], item["Size"]))
        return sorted(entries, key=lambda e: e.key)

    def _delete(self, key: str) -> None:
        self._client().delete_object(Bucket=self.bucket, Key=self._object(key))

    def abort_incomplete_uploads(self) -> None:
        """A killed multipart upload leaves invisible parts behind (and billed): abort them."""
        client = self._client()
        start = f"{self.prefix}/" if self.prefix else ""
        for upload in client.list_multipart_uploads(Bucket=self.bucket, Prefix=start).get(
            "Uploads", []
        ):
            client.abort_multipart_upload(
                Bucket=self.bucket, Key=upload["Key"], UploadId=upload["UploadId"]
            )
