"""`manage.py backup_restore`: restore a verified backup, by one command (C23)."""

from __future__ import annotations

import sys

from django.core.management.base import CommandError, CommandParser
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from backups import services
from backups.destinations import DestinationError
from security.actors import Actor, Via
from security.operator_output import OperatorCommand


class Command(OperatorCommand):
    # A backup job must run, and a restore must work, whatever else the configuration says: a
    # system check error elsewhere (`manage.py check --deploy` reports those) never stops them.
    requires_system_checks: list[str] = []

    help = gettext_lazy(
        "Restore a backup (verified first: signed manifest, size, SHA-256) into the live "
        "database or --target-database URL, with progress as it goes. --latest takes the newest "
        "backup with a copy that verifies, trying every destination that holds it. Refuses a "
        "dump of another engine or a newer schema. Asks for confirmation unless --yes."
    )

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("backup_id", nargs="?", help=_("The backup to restore."))
        parser.add_argument(
            "--latest", action="store_true", help=_("The newest backup with a copy that verifies.")
        )
        parser.add_argument(
            "--from",
            dest="source",
            help=_("A destination URL (any, even one not configured here)."),
        )
        parser.add_argument(
            "--target-database",
            dest="target",
            help=_("Database URL to restore into (default: the live database)."),
        )
        parser.add_argument("--yes", action="store_true", help=_("Do not ask for confirmation."))

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
            raise CommandError(_("Give a backup id or --latest (one of them)."))
        if not yes and not sys.stdin.isatty():
            raise CommandError(
                _("Refusing to restore without confirmation: no terminal to ask on; pass --yes.")
            )

        def confirm(prompt: str) -> bool:
            if yes:
                return True
            self.stdout.write(prompt)
            try:
                return input(_("Type 'yes' to continue: ")).strip() == "yes"
            except EOFError:  # Ctrl-D: a no
                return False

        try:
            result = services.backup_restore(
                actor=Actor.system("backup_restore", via=Via.COMMAND),
                backup_id=backup_id,
                source=source,
                target_url=target,
                confirm=confirm,
                progress=self.stdout.write,
            )
        except (services.BackupError, DestinationError) as exc:
            raise CommandError(str(exc)) from exc
        self.stdout.write(
            self.style.SUCCESS(
                _("Restored %(id)s from %(source)s into %(target)s.")
                % {"id": result.backup_id, "source": result.source, "target": result.target}
            )
        )
        if not target:
            self.stdout.write(
                _(
                    "Next: manage.py migrate (applies migrations newer than the backup), then "
                    "restart the app."
                )
            )
