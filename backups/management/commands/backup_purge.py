"""`manage.py backup_purge`: delete backups past the retention period everywhere (C25)."""

from __future__ import annotations

from django.conf import settings
from django.core.management.base import CommandError, CommandParser
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy, ngettext

from backups import services
from backups.destinations import DestinationError
from security.operator_output import OperatorCommand, add_json_argument, json_text


class Command(OperatorCommand):
    # A backup job must run, and a restore must work, whatever else the configuration says: a
    # system check error elsewhere (`manage.py check --deploy` reports those) never stops them.
    requires_system_checks: list[str] = []

    help = gettext_lazy(
        "Delete every backup past BACKUP_RETENTION_DAYS (by the next hourly run) from every "
        "destination, the offline one included, and check they are gone, old object versions "
        "included. A destination that cannot be reached does not stop the others: it is "
        "alerted and the command fails after the rest is done. The newest backup that verifies "
        "is kept whatever its age (and the operators alerted)."
    )

    def add_arguments(self, parser: CommandParser) -> None:
        add_json_argument(
            parser,
            _(
                'one document {"deleted": {destination: [backup ids]}, "kept_only_backup": '
                'backup id or null, "failed": {destination: error}} on stdout, progress on '
                "stderr; failures still exit non-zero."
            ),
        )

    def handle(self, *args: object, json: bool, **options: object) -> None:
        try:
            result = services.backup_purge(progress=self.progress_writer(json=json))
        except (services.BackupError, DestinationError) as exc:
            raise CommandError(str(exc)) from exc
        if json:
            self.stdout.write(
                json_text(
                    {
                        "deleted": result.deleted,
                        "kept_only_backup": result.kept_only_backup,
                        "failed": result.failed,
                    }
                )
            )
        else:
            self._sentences(result)
        if result.failed:
            raise CommandError(
                _("The purge could not finish on: %(failed)s (operators alerted).")
                % {"failed": "; ".join(f"{d}: {e}" for d, e in result.failed.items())}
            )

    def _sentences(self, result: services.PurgeResult) -> None:
        days = settings.BACKUP_RETENTION_DAYS
        total = sum(len(ids) for ids in result.deleted.values())
        if total:
            self.stdout.write(
                ngettext(
                    "Deleted %(count)d copy older than %(days)d days.",
                    "Deleted %(count)d copies older than %(days)d days.",
                    total,
                )
                % {"count": total, "days": days}
            )
        elif not result.kept_only_backup and not result.failed:
            self.stdout.write(
                _("Nothing to delete: no backup is older than %(days)d days.") % {"days": days}
            )
        if result.kept_only_backup:
            self.stdout.write(
                self.style.WARNING(
                    _(
                        "Kept %(id)s although it is older than %(days)d days: it is the newest "
                        "backup that verifies (operators alerted)."
                    )
                    % {"id": result.kept_only_backup, "days": days}
                )
            )
