"""The security event types of backups, registered with security at start-up (BackupsConfig).
Alerts to the operators are security's own ops_alert; these record what changed data."""

from __future__ import annotations

from django.db.models import TextChoices


class BackupEvent(TextChoices):
    # A damaged or missing copy rewritten from a verified one (destination, source, what it was).
    COPY_REPAIRED = "backup_copy_repaired", "Backup copy repaired"
    # A backup restored by command (which one, from where, into which database). Written after
    # the restore, so a restore into the live database leaves it in the restored event log.
    RESTORED = "backup_restored", "Backup restored"
