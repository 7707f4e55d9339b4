from __future__ import annotations

from django.conf import settings
from django.core.management.base import BaseCommand, CommandError

from backups import services


class Command(BaseCommand):
    help = "Delete every backup older than BACKUP_RETENTION_DAYS from every destination, offline included."

    def handle(self, *args: object, **options: object) -> None:
        try:
            result = services.backup_purge(progress=self.stdout.write)
        except services.BackupError as exc:
            raise CommandError(str(exc)) from exc
        total = sum(len(ids) for ids in result.deleted.values())
        self.stdout.write(
            f"deleted {total} copies older than {settings.BACKUP_RETENTION_DAYS} days"
        )
        if result.kept_only_backup:
            self.stdout.write(
                self.style.WARNING(
                    f"kept {result.kept_only_backup}: the only complete backup (operators alerted)"
                )
            )
