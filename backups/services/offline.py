"""The daily offline copy (C22)."""

from __future__ import annotations

import logging

from backups.selectors import (
    complete_ids,
    offline_destination,
    regular_destinations,
)
from backups.services.base import (
    BackupError,
    Progress,
    alert,
    backup_lock,
    closing,
    journal,
    journal_read_back,
    quiet,
)
from backups.services.copies import cleanup, copy_between

logger = logging.getLogger("backups")


def offline_copy(*, progress: Progress = quiet) -> str:
    """C22: once a day, the newest complete backup goes to the offline destination (nothing
    else writes there, except the purge). Returns the backup id copied (or already there)."""
    with (
        closing([offline_destination(), *regular_destinations()]) as (target, *sources),
        backup_lock(),
    ):
        try:
            cleanup(target, progress)
            present = set(complete_ids(target))
            for source in sources:
                try:
                    ids = complete_ids(source)
                except Exception as exc:
                    progress(f"  {source.label} unavailable: {exc}")
                    continue
                if not ids:
                    continue
                newest = ids[-1]
                if newest not in present:
                    progress(f"copying {newest} from {source.label} to {target.label} ...")
                    copy_between(source, target, newest)
                    journal_read_back(newest, target.label)
                journal(
                    "offline",
                    backup_id=newest,
                    destination=target.label,
                    ok=True,
                    detail=f"from {source.label}",
                )
                return newest
            raise BackupError("no complete backup on any destination to copy offline")
        except Exception as exc:
            journal("offline", destination=target.label, ok=False, detail=str(exc))
            alert("offline copy failed", str(exc))
            raise
