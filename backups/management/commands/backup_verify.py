from __future__ import annotations

from django.core.management.base import BaseCommand, CommandError, CommandParser

from backups import services
from backups.services import VERIFY_EXIT_CODES


class Command(BaseCommand):
    help = (
        "Verify backups by reading them back: manifest, size, SHA-256 and, where BACKUP_IDENTITY_FILE "
        "is set, decryption. Exit codes: 0 all good, 3 missing, 4 truncated, 5 tampered, "
        "6 wrong key (when copies fail differently, the highest code), 1 other errors."
    )

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument(
            "backup_id", nargs="?", help="the backup to verify (default: the newest)"
        )
        parser.add_argument("--all", action="store_true", help="every backup on every destination")
        parser.add_argument("--from", dest="source", help="only this destination URL")

    def handle(
        self, *args: object, backup_id: str | None, all: bool, source: str | None, **options: object
    ) -> None:
        if backup_id and all:
            raise CommandError("give a backup id or --all, not both")
        try:
            checks = services.backup_verify(
                backup_id=backup_id, all_backups=all, source=source, progress=self.stdout.write
            )
        except Exception as exc:
            raise CommandError(f"verification could not run: {exc}") from exc
        bad = [c for c in checks if c.code != "ok"]
        if not bad:
            self.stdout.write(self.style.SUCCESS(f"{len(checks)} copies verified"))
            return
        worst = max(bad, key=lambda c: VERIFY_EXIT_CODES[c.code])
        summary = "; ".join(f"{c.backup_id} on {c.destination}: {c.code} ({c.detail})" for c in bad)
        raise CommandError(
            f"{len(bad)} of {len(checks)} copies failed: {summary}",
            returncode=VERIFY_EXIT_CODES[worst.code],
        )
