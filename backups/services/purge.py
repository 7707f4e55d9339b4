"""The purge (C25): backups older than the retention period go, everywhere."""

from __future__ import annotations

import logging
from dataclasses import dataclass, field
from datetime import timedelta

from django.conf import settings
from django.utils import timezone

from backups.format import (
    DATA_FILE,
    MANIFEST,
    backup_time,
    key_of,
)
from backups.selectors import (
    copies_on,
    offline_destination,
    regular_destinations,
)
from backups.services.base import BackupError, Progress, alert, backup_lock, closing, journal, quiet

logger = logging.getLogger("backups")


@dataclass
class PurgeResult:
    deleted: dict[str, list[str]] = field(default_factory=dict)
    kept_only_backup: str | None = None


def backup_purge(*, progress: Progress = quiet) -> PurgeResult:
    """C25: deletes every backup older than BACKUP_RETENTION_DAYS from every destination, the
    offline one included, then lists again to check they are gone. If no complete backup would
    remain, the newest complete one is kept and the operators are alerted."""
    cutoff = timezone.now() - timedelta(days=settings.BACKUP_RETENTION_DAYS)
    result = PurgeResult()
    with closing([*regular_destinations(), offline_destination()]) as destinations, backup_lock():
        held = {d.label: copies_on(d) for d in destinations}
        complete = {
            bid
            for copies in held.values()
            for bid, files in copies.items()
            if MANIFEST in files and DATA_FILE in files
        }
        keep: set[str] = set()
        if complete and not any(backup_time(b) >= cutoff for b in complete):
            result.kept_only_backup = max(complete)
            keep.add(result.kept_only_backup)
            alert(
                "purge kept an expired backup: it is the only complete one",
                f"{result.kept_only_backup} is older than {settings.BACKUP_RETENTION_DAYS} days but no newer complete backup exists.",
                backup_id=result.kept_only_backup,
            )
        failures = []
        for destination in destinations:
            expired = sorted(
                b for b in held[destination.label] if backup_time(b) < cutoff and b not in keep
            )
            for backup_id in expired:
                progress(f"deleting {backup_id} from {destination.label}")
                for name in held[destination.label][backup_id]:
                    destination.delete(key_of(backup_id, name))
            left = set(copies_on(destination)) & set(expired)
            if left:
                failures.append(f"{destination.label}: still holds {sorted(left)}")
            result.deleted[destination.label] = expired
            journal(
                "purge",
                destination=destination.label,
                ok=not left,
                detail=f"deleted {len(expired)}: {', '.join(expired)}",
            )
    if failures:
        alert("purge left expired backups behind", "\n".join(failures))
        raise BackupError("; ".join(failures))
    return result
