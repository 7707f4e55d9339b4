"""`manage.py backup`: run a backup now, or one of the scheduled backup jobs by hand."""

from __future__ import annotations

from typing import Any

from django.core.management.base import CommandError, CommandParser
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from backups import services
from backups.destinations import DestinationError
from backups.selectors import Freshness
from security.operator_output import OperatorCommand, add_json_argument, json_text


def _freshness_line(s: Freshness) -> str:
    state = _("ok") if s.ok else _("STALE")
    if s.error:
        found = _("cannot be listed: %(error)s") % {"error": s.error}
    elif s.newest is None:
        found = _("no backup")
    else:
        found = _("newest %(id)s, %(age).1f h old") % {"id": s.newest, "age": s.age_hours}
    return _("%(state)-5s %(destination)s: %(found)s (limit %(limit)d h)") % {
        "state": state,
        "destination": s.destination,
        "found": found,
        "limit": s.limit_hours,
    }


class Command(OperatorCommand):
    # A backup job must run, and a restore must work, whatever else the configuration says: a
    # system check error elsewhere (`manage.py check --deploy` reports those) never stops them.
    requires_system_checks: list[str] = []

    help = gettext_lazy(
        "Back up the database now: snapshot, compress, encrypt, store on every destination in "
        "BACKUP_DESTINATIONS and read each copy back; progress as it goes. --offline copies the "
        "newest backup to the offline destination; --drill runs the restore drill; "
        "--ensure-fresh runs a backup only if the newest one is older than 12 hours and alerts "
        "on stale destinations."
    )

    def add_arguments(self, parser: CommandParser) -> None:
        group = parser.add_mutually_exclusive_group()
        group.add_argument(
            "--offline",
            action="store_true",
            help=_("Copy the newest backup to BACKUP_OFFLINE_DESTINATION."),
        )
        group.add_argument(
            "--drill",
            action="store_true",
            help=_("Restore the newest backup into a scratch database and compare."),
        )
        group.add_argument(
            "--ensure-fresh",
            action="store_true",
            help=_("Back up if needed, alert on stale destinations."),
        )
        add_json_argument(
            parser,
            _(
                'one document on stdout, progress on stderr: {"backup_id", "stored": [...], '
                '"failed": {destination: error}, "filled": [...]}; with --offline '
                '{"backup_id"}; with --drill {"backup_id", "ok", "detail"}; with --ensure-fresh '
                '{"destinations": [{"destination", "newest", "age_hours", "limit_hours", "ok", '
                '"error"}]}. Failures still exit non-zero.'
            ),
        )

    def handle(
        self,
        *args: object,
        offline: bool,
        drill: bool,
        ensure_fresh: bool,
        json: bool,
        **options: object,
    ) -> None:
        self.json = json
        progress = self.progress_writer(json=json)
        try:
            if offline:
                self._offline(progress)
            elif drill:
                self._drill(progress)
            elif ensure_fresh:
                self._ensure_fresh(progress)
            else:
                self._run(progress)
        except (services.BackupError, DestinationError) as exc:  # BackupLocked included
            raise CommandError(str(exc)) from exc

    def _report(self, document: dict[str, Any], sentence: str) -> None:
        self.stdout.write(json_text(document) if self.json else sentence)

    def _run(self, progress: Any) -> None:
        result = services.backup_run(progress=progress)
        total = len(result.stored) + len(result.failed)
        self._report(
            {
                "backup_id": result.backup_id,
                "stored": result.stored,
                "failed": result.failed,
                "filled": result.filled,
            },
            _("Backup %(id)s stored on %(stored)d of %(total)d destinations, each read back.")
            % {"id": result.backup_id, "stored": len(result.stored), "total": total},
        )
        if result.failed:
            raise CommandError(
                _("Backup %(id)s failed on: %(failed)s (operators alerted).")
                % {"id": result.backup_id, "failed": ", ".join(result.failed)}
            )

    def _offline(self, progress: Any) -> None:
        backup_id = services.offline_copy(progress=progress)
        self._report(
            {"backup_id": backup_id},
            _("The offline copy holds %(id)s.") % {"id": backup_id},
        )

    def _drill(self, progress: Any) -> None:
        row = services.backup_drill(progress=progress)
        if self.json:
            self.stdout.write(
                json_text({"backup_id": row.backup_id, "ok": row.ok, "detail": row.detail})
            )
        elif row.ok:
            self.stdout.write(
                _("Restore drill ok: %(id)s (%(detail)s).")
                % {"id": row.backup_id, "detail": row.detail}
            )
        if not row.ok:
            raise CommandError(
                _("Restore drill failed: %(detail)s (operators alerted).") % {"detail": row.detail}
            )

    def _ensure_fresh(self, progress: Any) -> None:
        status = services.ensure_fresh(progress=progress)
        if self.json:
            self.stdout.write(
                json_text(
                    {
                        "destinations": [
                            {
                                "destination": s.destination,
                                "newest": s.newest,
                                "age_hours": None if s.age_hours is None else round(s.age_hours, 2),
                                "limit_hours": s.limit_hours,
                                "ok": s.ok,
                                "error": s.error,
                            }
                            for s in status
                        ]
                    }
                )
            )
        else:
            for s in status:
                self.stdout.write(_freshness_line(s))
        if not all(s.ok for s in status):
            raise CommandError(_("Some destinations are stale (operators alerted)."))
