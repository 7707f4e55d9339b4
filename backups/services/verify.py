"""Verification of backups on the destinations (C24): by command, and daily by schedule with
repair of what it finds."""

from __future__ import annotations

import logging
import tempfile
from datetime import date
from pathlib import Path

from django.conf import settings
from django.utils import timezone

from backups.destinations import Destination, destination_for
from backups.format import backup_time
from backups.models import BackupLog, CopyState
from backups.selectors import complete_ids, copies_on
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
    work_dir,
)
from backups.services.copies import CopyCheck, Findings, check_copy, fetch_verified
from backups.signing import TrustedKeys

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
    missing there; the offline destination is checked for the backups it holds; a destination
    that cannot be listed is reported unreachable. Any copy that fails is alerted."""
    trust = trusted_keys()
    destinations = [destination_for(source)] if source else regular(budget=False)
    medium = None if source else offline(budget=False)
    with closing([*destinations, *([medium] if medium else [])]):
        checks = _verify(destinations, medium, backup_id, all_backups, trust, progress)
    bad = [c for c in checks if not c.ok]
    if bad:
        alert(
            f"verification: {len(bad)} of {len(checks)} copies failed "
            f"({', '.join(sorted({str(c.code) for c in bad}))})",
            "\n".join(str(c) for c in bad),
        )
    return checks


def _listing(destination: Destination) -> dict[str, dict[str, int]] | str:
    try:
        return copies_on(destination)
    except Exception as exc:
        return str(exc) or type(exc).__name__


def _verify(
    destinations: list[Destination],
    medium: Destination | None,
    backup_id: str | None,
    all_backups: bool,
    trust: TrustedKeys,
    progress: Progress,
) -> list[CopyCheck]:
    held = {d.label: _listing(d) for d in [*destinations, *([medium] if medium else [])]}
    known = sorted({b for h in held.values() if isinstance(h, dict) for b in h})
    if backup_id:
        ids = [backup_id]
    elif not known:
        return [
            CopyCheck(
                "",
                d.label,
                CopyState.UNREACHABLE if isinstance(held[d.label], str) else CopyState.MISSING,
                str(held[d.label]) if isinstance(held[d.label], str) else "no backup at all",
            )
            for d in destinations
        ]
    else:
        ids = known if all_backups else [known[-1]]
    key = identity()
    checks = []
    for bid in ids:
        targets = list(destinations)
        listing = held[medium.label] if medium else None
        if medium and (isinstance(listing, str) or (listing and bid in listing)):
            targets.append(medium)
        for destination in targets:
            progress(f"verifying {bid} on {destination.label} ...")
            listing = held[destination.label]
            if isinstance(listing, str):
                check = CopyCheck(bid, destination.label, CopyState.UNREACHABLE, listing)
            else:
                check = check_copy(destination, bid, key, trust=trust)
            checks.append(check)
            _journal(check)
            progress(f"  {check.code}: {check.detail}")
    return checks


def _journal(check: CopyCheck) -> None:
    journal(
        BackupLog.Action.VERIFY,
        backup_id=check.backup_id,
        destination=check.destination,
        ok=check.ok,
        code=check.code,
        detail=check.detail,
    )


def rotating_sample(older: list[str], size: int, day: date) -> list[str]:
    """`size` of the older backups, a different slice each day, so that every backup is read
    back every len(older) / size days."""
    if not older or size <= 0:
        return []
    if size >= len(older):
        return list(older)
    start = ((day - date(2000, 1, 1)).days * size) % len(older)
    return [older[(start + i) % len(older)] for i in range(size)]


def backup_verify_scheduled(*, progress: Progress = quiet) -> list[CopyCheck]:
    """Daily: reads back the newest backup on every regular destination, and a rotating sample
    of older ones (BACKUP_VERIFY_SAMPLE), decrypting where the identity is. A damaged or missing
    copy of a backup the purge keeps is rewritten from a copy that verifies (under the lock:
    this job writes). One alert says what was found, what was repaired and what could not be."""
    key, trust = identity(), trusted_keys()
    findings = Findings("backup_verify")
    checks: list[CopyCheck] = []
    with closing(regular()) as destinations, backup_lock():
        held: dict[str, set[str]] = {}
        for destination in destinations:
            try:
                held[destination.label] = set(complete_ids(destination))
            except Exception as exc:
                checks.append(CopyCheck("", destination.label, CopyState.UNREACHABLE, str(exc)))
        if len(held) < len(destinations):
            alert(
                "daily verification: destinations cannot be listed",
                "\n".join(f"{c.destination}: {c.detail}" for c in checks),
            )
        ids = sorted(set().union(*held.values())) if held else []
        if not ids:
            findings.note("no backup on any destination")
        chosen = ids[-1:] + rotating_sample(
            ids[:-1], settings.BACKUP_VERIFY_SAMPLE, timezone.now().date()
        )
        cutoff = purge_cutoff(timezone.now())
        for backup_id in chosen:
            found = []
            for destination in destinations:
                if destination.label not in held:
                    continue
                progress(f"verifying {backup_id} on {destination.label} ...")
                if backup_id in held[destination.label]:
                    check = check_copy(destination, backup_id, key, trust=trust)
                else:
                    check = CopyCheck(
                        backup_id, destination.label, CopyState.MISSING, "not on this destination"
                    )
                progress(f"  {check.code}: {check.detail}")
                _journal(check)
                found.append((destination, check))
            checks.extend(check for _, check in found)
            bad = [check for _, check in found if not check.ok]
            for check in bad:
                findings.found(check)
            if not bad or backup_time(backup_id) < cutoff:
                continue  # nothing to repair, or the purge deletes it within the hour
            good = [destination for destination, check in found if check.ok]
            with tempfile.TemporaryDirectory(dir=work_dir()) as temp:
                fetched, _ = fetch_verified(good, backup_id, Path(temp), trust=trust)
                if fetched is None:
                    findings.note(f"{backup_id}: no copy verifies, nothing to repair from")
                    continue
                findings.repair_all(bad, fetched, destinations, progress=progress)
    findings.report()
    return checks
