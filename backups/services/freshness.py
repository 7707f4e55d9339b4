"""The hourly freshness check (C21, C22)."""

from __future__ import annotations

import logging

from django.conf import settings

from backups.destinations import Destination
from backups.selectors import (
    Freshness,
    backup_freshness,
)
from backups.services.base import BackupLocked, Progress, alert, quiet, trusted_keys
from backups.services.copies import CopyProblem, read_manifest
from backups.services.run import backup_run

logger = logging.getLogger("backups")


def ensure_fresh(*, progress: Progress = quiet) -> list[Freshness]:
    """Hourly: beat skips runs missed while it was down, so run a backup when the newest one is
    older than 12 hours, then alert about any destination over its age limit (13 h; 25 h for
    the offline copy). Only backups whose signed manifest verifies count (manifests only, a few
    kilobytes a destination)."""
    trust = trusted_keys()

    def genuine(destination: Destination, backup_id: str) -> bool:
        try:
            read_manifest(destination, backup_id, trust)
        except CopyProblem:
            return False
        return True

    status = backup_freshness(genuine=genuine)
    newest = min((s.age_hours for s in status[:-1] if s.age_hours is not None), default=None)
    if newest is None or newest > settings.BACKUP_INTERVAL_HOURS:
        progress("newest backup is missing or too old: running one now")
        try:
            backup_run(progress=progress)
        except BackupLocked:
            progress("a backup is already running")
        except Exception as exc:  # reported below through the freshness check and the alert
            progress(f"backup failed: {exc}")
        status = backup_freshness(genuine=genuine)
    stale = [s for s in status if not s.ok]
    if stale:
        alert(
            "backups are stale or missing",
            "\n".join(stale_line(s) for s in stale),
        )
    return status


def stale_line(status: Freshness) -> str:
    """One destination's line of the alert: its error when it failed (whether or not an age is
    known), else the age of its newest backup, else that it has none."""
    if status.error:
        state = status.error
    elif status.age_hours is not None:
        state = f"{status.age_hours:.1f} h old"
    else:
        state = "no backup"
    return (
        f"{status.destination}: newest {status.newest or 'none'}, {state} "
        f"(limit {status.limit_hours} h)"
    )
