"""The purge (C25): backups older than the retention period go, everywhere, except the newest
backup that verifies."""

from __future__ import annotations

import logging
from dataclasses import dataclass, field
from datetime import datetime

from django.conf import settings
from django.utils import timezone
from pyrage import x25519

from backups.destinations import Destination
from backups.format import backup_time, is_complete
from backups.models import BackupLog
from backups.selectors import copies_on
from backups.services.base import (
    Progress,
    alert,
    backup_lock,
    closing,
    identity,
    journal,
    offline,
    purge_cutoff,
    quiet,
    regular,
    trusted_keys,
)
from backups.services.copies import CopyCheck, check_copy, delete_copy
from backups.signing import TrustedKeys

logger = logging.getLogger("backups")


@dataclass
class PurgeResult:
    deleted: dict[str, list[str]] = field(default_factory=dict)
    # An expired backup kept because it is the newest one that verifies.
    kept_only_backup: str | None = None
    # Destinations the purge could not finish on (unreachable, refused, or something left).
    failed: dict[str, str] = field(default_factory=dict)


def backup_purge(*, progress: Progress = quiet) -> PurgeResult:
    """C25: deletes every backup that is past BACKUP_RETENTION_DAYS by the next (hourly) run,
    from every destination the purge can reach, the offline one included, then lists again,
    old object versions included, to check they are gone.

    - A destination that cannot be reached or refuses does not stop the others; it is alerted
      at once, reported in `failed`, and tried again by the next run.
    - The newest backup that verifies (signed manifest, checksums, decrypted where the identity
      is) is kept whatever its age, and the operators are told why; when no backup verifies at
      all, no complete backup is deleted (a wrong identity or key here must not look like
      damage everywhere) and the operators are told that.
    """
    cutoff = purge_cutoff(timezone.now())
    result = PurgeResult()
    with closing([*regular(), offline()]) as destinations, backup_lock():
        held: dict[str, dict[str, dict[str, int]]] = {}
        for destination in destinations:
            try:
                held[destination.label] = copies_on(destination)
            except Exception as exc:
                _failed(result, destination, f"cannot be listed: {exc}")
        expired = {b for copies in held.values() for b in copies if backup_time(b) < cutoff}
        keep: set[str] = set()
        if expired:
            keep = _keep(destinations, held, cutoff, result, progress)
        for destination in destinations:
            if destination.label not in held:
                continue
            copies = held[destination.label]
            going = sorted(b for b in copies if b in expired and b not in keep)
            try:
                for backup_id in going:
                    progress(f"deleting {backup_id} from {destination.label}")
                    delete_copy(destination, backup_id, copies[backup_id])
                left = {e.key.partition("/")[0] for e in destination.list_versions()} & set(going)
            except Exception as exc:
                _failed(result, destination, f"deleting failed: {exc}")
                continue
            if left:
                _failed(result, destination, f"still holds {', '.join(sorted(left))}")
                continue
            result.deleted[destination.label] = going
            journal(
                BackupLog.Action.PURGE,
                destination=destination.label,
                ok=True,
                detail=f"deleted {len(going)}: {', '.join(going)}",
            )
    return result


def _failed(result: PurgeResult, destination: Destination, error: str) -> None:
    result.failed[destination.label] = error
    journal(BackupLog.Action.PURGE, destination=destination.label, ok=False, detail=error)
    alert(
        f"purge could not finish on {destination.label}",
        f"{destination.label}: {error}\nBackups past {settings.BACKUP_RETENTION_DAYS} days "
        "may still be there; the next purge (hourly) tries again.",
    )


def _keep(
    destinations: list[Destination],
    held: dict[str, dict[str, dict[str, int]]],
    cutoff: datetime,
    result: PurgeResult,
    progress: Progress,
) -> set[str]:
    """What the purge must not delete although it is past retention: the newest backup that
    verifies, when that one is past retention itself; every complete one, when none verifies."""
    key, trust = identity(), trusted_keys()
    keeper, failing = _newest_verified(destinations, held, key, trust, progress)
    days = settings.BACKUP_RETENTION_DAYS
    if keeper is None:
        if not failing:
            return set()  # no complete backup anywhere: only incomplete leftovers to delete
        alert(
            "purge kept every complete backup: none verifies on any destination",
            "No copy of any backup verifies, so no complete one past retention was deleted (an "
            "identity or key that does not fit here must not look like damage everywhere):\n"
            + "\n".join(str(c) for checks in failing.values() for c in checks),
        )
        return set(failing)
    if backup_time(keeper) < cutoff:
        result.kept_only_backup = keeper
        why = (
            "it is the newest that verifies; every newer one fails verification"
            if failing
            else "it is the only complete one"
        )
        alert(
            f"purge kept an expired backup: {why}",
            f"{keeper} is older than {days} days and was kept: it is the newest backup that "
            "verifies.\n" + "\n".join(str(c) for checks in failing.values() for c in checks),
            backup_id=keeper,
        )
        return {keeper}
    return set()


def _newest_verified(
    destinations: list[Destination],
    held: dict[str, dict[str, dict[str, int]]],
    key: x25519.Identity | None,
    trust: TrustedKeys,
    progress: Progress,
) -> tuple[str | None, dict[str, list[CopyCheck]]]:
    """Walks the complete backups newest first until a copy verifies; returns it and the
    checks of the newer ones that failed."""
    complete = sorted(
        {b for copies in held.values() for b, files in copies.items() if is_complete(files)},
        reverse=True,
    )
    failing: dict[str, list[CopyCheck]] = {}
    for backup_id in complete:
        for destination in destinations:
            if not is_complete(held.get(destination.label, {}).get(backup_id, {})):
                continue
            progress(f"verifying {backup_id} on {destination.label} before deleting older ones")
            check = check_copy(destination, backup_id, key, trust=trust)
            if check.ok:
                return backup_id, failing
            failing.setdefault(backup_id, []).append(check)
    return None, failing
