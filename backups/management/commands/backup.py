from __future__ import annotations

from django.core.management.base import BaseCommand, CommandError, CommandParser

from backups import services


class Command(BaseCommand):
    help = (
        "Back up the database now: snapshot, compress, encrypt, store on every destination in "
        "BACKUP_DESTINATIONS and verify by reading back. --offline copies the newest backup to "
        "the offline destination; --drill runs the restore drill; --ensure-fresh runs a backup "
        "only if the newest one is older than 12 hours and alerts on stale destinations."
    )

    def add_arguments(self, parser: CommandParser) -> None:
        group = parser.add_mutually_exclusive_group()
        group.add_argument(
            "--offline",
            action="store_true",
            help="copy the newest backup to BACKUP_OFFLINE_DESTINATION",
        )
        group.add_argument(
            "--drill",
            action="store_true",
            help="restore the newest backup into a scratch database and compare",
        )
        group.add_argument(
            "--ensure-fresh",
            action="store_true",
            help="back up if needed, alert on stale destinations",
        )

    def handle(
        self, *args: object, offline: bool, drill: bool, ensure_fresh: bool, **options: object
    ) -> None:
        try:
            if offline:
                self.stdout.write(
                    f"offline copy holds {services.offline_copy(progress=self.stdout.write)}"
                )
            elif drill:
                row = services.backup_drill(progress=self.stdout.write)
                if not row.ok:
                    raise CommandError(f"restore drill failed: {row.detail}")
                self.stdout.write(f"restore drill ok: {row.backup_id} ({row.detail})")
            elif ensure_fresh:
                status = services.ensure_fresh(progress=self.stdout.write)
                for s in status:
                    age = f"{s.age_hours:.1f} h" if s.age_hours is not None else "none"
                    self.stdout.write(
                        f"{'ok   ' if s.ok else 'STALE'} {s.destination}: newest {s.newest or '-'} ({age}, limit {s.limit_hours} h) {s.error}"
                    )
                if not all(s.ok for s in status):
                    raise CommandError("some destinations are stale (operators alerted)")
            else:
                result = services.backup_run(progress=self.stdout.write)
                self.stdout.write(
                    f"backup {result.backup_id} stored on {len(result.stored)} destinations"
                )
                if result.failed:
                    raise CommandError(
                        f"backup {result.backup_id} failed on: {', '.join(result.failed)} (operators alerted)"
                    )
        except services.BackupLocked as exc:
            raise CommandError(str(exc)) from exc
        except services.BackupError as exc:
            raise CommandError(str(exc)) from exc
