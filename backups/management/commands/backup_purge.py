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
    help = gettext_lazy(
        "Delete every backup older than BACKUP_RETENTION_DAYS from every destination, the "
        "offline one included, and check they are gone. The newest complete backup is kept "
        "(and the operators alerted) when it would otherwise be the last one to go."
    )

    def add_arguments(self, parser: CommandParser) -> None:
        add_json_argument(
            parser,
            _(
                'one document {"deleted": {destination: [backup ids]}, "kept_only_backup": '
                "backup id or null} on stdout, progress on stderr."
            ),
        )

    def handle(self, *args: object, json: bool, **options: object) -> None:
        try:
            result = services.backup_purge(progress=self.progress_writer(json=json))
        except (services.BackupError, DestinationError) as exc:
            raise CommandError(str(exc)) from exc
        if json:
            self.stdout.write(
                json_text({"deleted": result.deleted, "kept_only_backup": result.kept_only_backup})
            )
            return
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
        elif not result.kept_only_backup:
            self.stdout.write(
                _("Nothing to delete: no backup is older than %(days)d days.") % {"days": days}
            )
        if result.kept_only_backup:
            self.stdout.write(
                self.style.WARNING(
                    _(
                        "Kept %(id)s although it is older than %(days)d days: it is the only "
                        "complete backup (operators alerted)."
                    )
                    % {"id": result.kept_only_backup, "days": days}
                )
            )
