"""Verification of backups on the destinations (C24)."""

from __future__ import annotations

import logging

from backups.destinations import Destination, destination_for
from backups.selectors import (
    copies_on,
    offline_destination,
    regular_destinations,
)
from backups.services.base import Progress, closing, identity, journal, quiet
from backups.services.copies import CopyCheck, check_copy

logger = logging.getLogger("backups")


def backup_verify(
    *,
    backup_id: str | None = None,
    all_backups: bool = False,
    source: str | None = None,
    progress: Progress = quiet,
) -> list[CopyCheck]:
    """Checks the copies of one backup (default: the newest) or of all backups on every
    destination, or on `source` only. A backup absent from a regular destination is reported
    missing there; the offline destination is checked for the backups it holds."""
    destinations = [destination_for(source)] if source else regular_destinations()
    offline = None if source else offline_destination()
    with closing([*destinations, *([offline] if offline else [])]):
        return _verify(destinations, offline, backup_id, all_backups, progress)


def _verify(
    destinations: list[Destination],
    offline: Destination | None,
    backup_id: str | None,
    all_backups: bool,
    progress: Progress,
) -> list[CopyCheck]:
    held = {d.label: copies_on(d) for d in destinations}
    offline_held = copies_on(offline) if offline else {}
    if backup_id:
        ids = [backup_id]
    else:
        every = sorted(set().union(*(set(h) for h in held.values()), set(offline_held)))
        if not every:
            return [
                CopyCheck(backup_id or "", d.label, "missing", "no backup at all")
                for d in destinations
            ]
        ids = every if all_backups else [every[-1]]
    key = identity()
    checks = []
    for bid in ids:
        targets = list(destinations)
        if offline and (bid in offline_held):
            targets.append(offline)
        for destination in targets:
            progress(f"verifying {bid} on {destination.label} ...")
            check = check_copy(destination, bid, key)
            checks.append(check)
            journal(
                "verify",
                backup_id=bid,
                destination=destination.label,
                ok=check.code == "ok",
                code=check.code,
                detail=check.detail,
            )
            progress(f"  {check.code}: {check.detail}")
    return checks
