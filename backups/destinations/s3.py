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
    SHA-256 checksum that the server verifies; objects appear only once the upload completed.

    A versioned bucket keeps a deleted object as an old version (and a delete marker), which
    would keep a purged backup readable: delete() removes every version of the key, so the
    30-day promise holds on such buckets too (an Object Lock retention makes that fail, and the
    purge says so)."""

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

    @property
    def server(self) -> str:
        """The endpoint: buckets on one S3-compatible server share its fate; on AWS (no
        endpoint_url) each bucket has its own endpoint, named by bucket and region."""
        if self.endpoint_url:
            parts = urlsplit(self.endpoint_url)
            return f"{(parts.hostname or '').lower()}:{parts.port or ''}"
        return f"{self.bucket}.s3.{self.region or 'us-east-1'}.amazonaws.com"

    def _client(self) -> S3Client:
        if self._s3 is None:
            import boto3
            from botocore.config import Config

            self._s3 = boto3.client(
                "s3",
                endpoint_url=self.endpoint_url,
                region_name=self.region,
                # Our own retries (Destination._retry) count against the time budget; botocore's
                # would multiply every timeout unseen, so it makes one attempt per call.
                config=Config(
                    retries={"total_max_attempts": 1, "mode": "standard"},
                    connect_timeout=self.io_timeout,
                    read_timeout=self.io_timeout,
                ),
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
        client, name = self._client(), self._object(key)
        # An unversioned bucket lists the object as version "null"; deleting by version id
        # removes it for good on either kind of bucket, where a plain delete on a versioned one
        # would only add a delete marker.
        versions = [
            item["VersionId"]
            for page in client.get_paginator("list_object_versions").paginate(
                Bucket=self.bucket, Prefix=name
            )
            for item in [*page.get("Versions", []), *page.get("DeleteMarkers", [])]
            if item["Key"] == name
        ]
        for version in versions:
            client.delete_object(Bucket=self.bucket, Key=name, VersionId=version)

    def _list_versions(self) -> list[Entry]:
        entries = []
        start = f"{self.prefix}/" if self.prefix else ""
        for page in (
            self._client()
            .get_paginator("list_object_versions")
            .paginate(Bucket=self.bucket, Prefix=start)
        ):
            for item in page.get("Versions", []):
                entries.append(Entry(item["Key"][len(start) :], item.get("Size", 0)))
            for marker in page.get("DeleteMarkers", []):
                entries.append(Entry(marker["Key"][len(start) :], 0))
        return sorted(entries, key=lambda e: e.key)

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
