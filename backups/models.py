"""A journal of what the backup jobs did. The destinations and their manifests are the source of
truth about which backups exist; this table only remembers results (verifications, drills) for
`backup_list` and the compliance report. A restore into the live database replaces it too."""

from __future__ import annotations

from django.db import models
from django.utils import timezone


class CopyState(models.TextChoices):
    """What checking one copy of a backup found (`manage.py backup_verify` has an exit code for
    each, services.VERIFY_EXIT_CODES)."""

    OK = "ok", "ok"
    MISSING = "missing", "missing"
    TRUNCATED = "truncated", "truncated"
    TAMPERED = "tampered", "tampered (damaged, edited, forged or unsigned)"
    WRONG_KEY = "wrong_key", "encrypted to another key"
    UNREACHABLE = "unreachable", "destination unreachable"


class BackupLog(models.Model):
    class Action(models.TextChoices):
        RUN = "run", "backup run"
        COPY = "copy", "copy to a destination"
        OFFLINE = "offline", "offline copy"
        VERIFY = "verify", "verification"
        REPAIR = "repair", "repair of a damaged copy"
        PURGE = "purge", "purge"
        DRILL = "drill", "restore drill"
        RESTORE = "restore", "restore"

    action = models.CharField(max_length=10, choices=Action.choices)
    backup_id = models.CharField(max_length=40, blank=True, db_index=True)
    destination = models.CharField(max_length=300, blank=True)
    ok = models.BooleanField()
    # For verifications a CopyState; for drills "ok" or "failed".
    code = models.CharField(max_length=20, blank=True)
    detail = models.TextField(blank=True)
    created_at = models.DateTimeField(default=timezone.now, db_index=True)

    class Meta:
        ordering = ["-created_at", "-id"]

    def __str__(self) -> str:
        return f"{self.action} {self.backup_id} {self.destination}: {'ok' if self.ok else self.code or 'failed'}"
