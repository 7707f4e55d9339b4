from __future__ import annotations

import sys

from django.core.management.base import BaseCommand, CommandError, CommandParser

from backups import services


class Command(BaseCommand):
    help = (
        "Restore a backup (verified first) into the live database or --target-database URL. "
        "Refuses a dump of another engine or a newer schema. Asks for confirmation unless --yes."
    )

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("backup_id", nargs="?", help="the backup to restore")
        parser.add_argument("--latest", action="store_true", help="the newest complete backup")
        parser.add_argument(
            "--from", dest="source", help="a destination URL (any, even one not configured here)"
        )
        parser.add_argument(
            "--target-database",
            dest="target",
            help="database URL to restore into (default: the live database)",
        )
        parser.add_argument("--yes", action="store_true", help="do not ask for confirmation")

    def handle(
        self,
        *args: object,
        backup_id: str | None,
        latest: bool,
        source: str | None,
        target: str | None,
        yes: bool,
        **options: object,
    ) -> None:
        if bool(backup_id) == latest:
            raise CommandError("give a backup id or --latest")
        if not yes and not sys.stdin.isatty():
            raise CommandError(
                "refusing to restore without confirmation: no terminal to ask on; pass --yes"
            )

        def confirm(prompt: str) -> bool:
            if yes:
                return True
            self.stdout.write(prompt)
            return input("Type 'yes' to continue: ").strip() == "yes"

        try:
            result = services.backup_restore(
                backup_id=backup_id,
                source=source,
                target_url=target,
                confirm=confirm,
                progress=self.stdout.write,
            )
        except services.BackupError as exc:
            raise CommandError(str(exc)) from exc
        self.stdout.write(
            self.style.SUCCESS(
                f"restored {result.backup_id} from {result.source} into {result.target}"
            )
        )
        if not target:
            self.stdout.write(
                "Next: manage.py migrate (applies migrations newer than the backup), then restart the app."
            )
