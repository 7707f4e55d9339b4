from __future__ import annotations

from django.core.management.base import BaseCommand, CommandParser

from backups.selectors import backup_list


class Command(BaseCommand):
    help = "List every backup on every destination with its age, size and verification state."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument(
            "--incomplete", action="store_true", help="also show copies without a manifest"
        )

    def handle(self, *args: object, incomplete: bool, **options: object) -> None:
        copies = backup_list(include_incomplete=incomplete)
        if not copies:
            self.stdout.write("no backups")
            return
        self.stdout.write(
            f"{'backup id':24} {'age':>8} {'size':>14}  {'state':10} {'verified':10} destination"
        )
        for c in copies:
            hours = c.age.total_seconds() / 3600
            age = f"{hours:.1f}h" if hours < 48 else f"{hours / 24:.1f}d"
            state = "complete" if c.complete else "INCOMPLETE"
            where = f"{c.destination}{' (offline)' if c.offline else ''}"
            self.stdout.write(
                f"{c.backup_id:24} {age:>8} {c.size:>14,}  {state:10} {c.verification:10} {where}"
            )
