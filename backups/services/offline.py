"""The daily offline copy (C22)."""

from __future__ import annotations

import logging
import tempfile
from pathlib import Path

from backups.models import BackupLog
from backups.selectors import complete_ids
from backups.services.base import (
    BackupError,
    Progress,
    alert,
    backup_lock,
    closing,
    journal,
    journal_read_back,
    offline,
    quiet,
    regular,
    trusted_keys,
    work_dir,
)
from backups.services.copies import (
    Findings,
    check_copy,
    cleanup,
    fetch_verified,
    repair,
    store_copy,
)

logger = logging.getLogger("backups")


def offline_copy(*, progress: Progress = quiet) -> str:
    """C22: once a day, the newest backup that verifies goes to the offline destination (nothing
    else writes there, except the purge). A copy already there is checked, and rewritten when
    damaged; the source is whichever copy verifies, and damaged copies found on the way are
    repaired from it. Returns the backup id the medium holds. A missing medium fails, alerted."""
    trust = trusted_keys()
    findings = Findings("offline_copy")
    with closing([offline(), *regular()]) as (target, *sources), backup_lock():
        try:
            present = cleanup(target, progress)
            held: dict[str, list[str]] = {}
            for source in sources:
                try:
                    held[source.label] = complete_ids(source)
                except Exception as exc:
                    progress(f"  {source.label} unavailable: {exc}")
            newest_first = sorted({b for ids in held.values() for b in ids}, reverse=True)
            for backup_id in newest_first:
                there = None
                if backup_id in present:
                    there = check_copy(target, backup_id, trust=trust)
                    if there.ok:
                        journal(
                            BackupLog.Action.OFFLINE,
                            backup_id=backup_id,
                            destination=target.label,
                            ok=True,
                            detail="already there, verified",
                        )
                        return backup_id
                    findings.found(there)
                holders = [s for s in sources if backup_id in held.get(s.label, [])]
                with tempfile.TemporaryDirectory(dir=work_dir()) as temp:
                    fetched, bad = fetch_verified(
                        holders, backup_id, Path(temp), trust=trust, progress=progress
                    )
                    for check in bad:
                        findings.found(check)
                    if fetched is None:
                        findings.note(f"{backup_id}: no copy verifies; trying an older backup")
                        continue
                    progress(f"copying {backup_id} from {fetched.source.label} to {target.label}")
                    if there is not None:
                        if not repair(target, there, fetched, job=findings.job, progress=progress):
                            raise BackupError(f"{target.label}: could not repair {backup_id}")
                        findings.was_repaired(there, fetched.source.label)
                    else:
                        store_copy(target, fetched.manifest, fetched.path)
                        journal_read_back(backup_id, target.label)
                    findings.repair_all(bad, fetched, sources, progress=progress)
                journal(
                    BackupLog.Action.OFFLINE,
                    backup_id=backup_id,
                    destination=target.label,
                    ok=True,
                    detail=f"from {fetched.source.label}",
                )
                return backup_id
            raise BackupError("no backup that verifies on any destination to copy offline")
        except Exception as exc:
            journal(BackupLog.Action.OFFLINE, destination=target.label, ok=False, detail=str(exc))
            alert("offline copy failed", str(exc))
            raise
        finally:
            findings.report()
