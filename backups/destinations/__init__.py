"""Where backups are stored: a local directory, an SFTP server or an S3-compatible bucket, one
module each; `destination_for` picks the kind from the URL."""

from __future__ import annotations

from urllib.parse import urlsplit

from backups.destinations.base import (
    BudgetExceeded,
    Destination,
    DestinationError,
    Entry,
    HostKeyError,
    MissingMediumError,
    UnsafeKeyError,
)
from backups.destinations.local import LocalDestination
from backups.destinations.s3 import S3Destination
from backups.destinations.sftp import SFTPDestination, host_key_fingerprint

__all__ = [
    "BudgetExceeded",
    "Destination",
    "DestinationError",
    "Entry",
    "HostKeyError",
    "LocalDestination",
    "MissingMediumError",
    "S3Destination",
    "SFTPDestination",
    "UnsafeKeyError",
    "destination_for",
    "host_key_fingerprint",
]


def destination_for(url: str, *, must_exist: bool = False) -> Destination:
    """The destination a URL names. `must_exist`: a folder is a medium that must be there
    already (the offline destination), never created."""
    scheme = urlsplit(url).scheme
    if scheme in ("", "file"):
        return LocalDestination(url, must_exist=must_exist)
    if scheme == "sftp":
        return SFTPDestination(url)
    if scheme == "s3":
        return S3Destination(url)
    raise ValueError(
        f"unsupported backup destination {url!r} (use a path, file://, sftp:// or s3://)"
    )
