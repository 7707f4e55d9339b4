"""Backup jobs (C21-C25), one module per section: run, offline copy, verification, restore and
drill, purge, freshness; what they share is in base.py (errors, keys, alerts, journal, lock) and
copies.py (writing, reading and checking one copy)."""

from __future__ import annotations

from backups.services.base import (
    BackupError,
    BackupLocked,
    Progress,
    alert,
    backup_lock,
    identity,
    public_key,
    signer,
    trusted_keys,
    work_dir,
)
from backups.services.copies import VERIFY_EXIT_CODES, CopyCheck, check_copy, read_manifest
from backups.services.freshness import ensure_fresh
from backups.services.offline import offline_copy
from backups.services.purge import PurgeResult, backup_purge
from backups.services.restore import RestoreResult, backup_drill, backup_restore
from backups.services.run import RunResult, backup_run
from backups.services.verify import backup_verify, backup_verify_scheduled

__all__ = [
    "VERIFY_EXIT_CODES",
    "BackupError",
    "BackupLocked",
    "CopyCheck",
    "Progress",
    "PurgeResult",
    "RestoreResult",
    "RunResult",
    "alert",
    "backup_drill",
    "backup_lock",
    "backup_purge",
    "backup_restore",
    "backup_run",
    "backup_verify",
    "backup_verify_scheduled",
    "check_copy",
    "ensure_fresh",
    "identity",
    "offline_copy",
    "public_key",
    "read_manifest",
    "signer",
    "trusted_keys",
    "work_dir",
]
