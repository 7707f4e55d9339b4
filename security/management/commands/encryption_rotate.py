"""`manage.py encryption_rotate [--batch-size N] [--json]` (C26)."""

from __future__ import annotations

from typing import Any

from django.core.exceptions import ImproperlyConfigured
from django.core.management.base import CommandError, CommandParser
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from security.actors import Actor, Via
from security.encryption_rotation import encryption_rotate
from security.fieldcrypto import FieldDecryptionError
from security.operator_output import OperatorCommand, add_json_argument, json_text


class Command(OperatorCommand):
    help = gettext_lazy(
        "Re-encrypts every encrypted customer data column under the newest of "
        "FIELD_ENCRYPTION_KEYS (and refreshes the email blind indexes), in batches with "
        "progress. Safe while the site runs once every server lists the new key; an interrupted "
        "run is resumed by running it again (finished rows are skipped). Keep the old key listed "
        "while backups from before the rotation may be restored."
    )

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument(
            "--batch-size",
            type=int,
            default=500,
            help=_("Rows per transaction (default 500)."),
        )
        add_json_argument(
            parser, _('one document {"checked": N, "rewritten": N, "models": {...}}.')
        )

    def handle(self, *args: Any, **options: Any) -> None:
        if not 1 <= options["batch_size"] <= 10_000:
            raise CommandError(_("--batch-size must be between 1 and 10000."))
        try:
            counts = encryption_rotate(
                actor=Actor.system("encryption_rotate", via=Via.COMMAND),
                batch_size=options["batch_size"],
                progress=self.progress_writer(json=options["json"]),
            )
        except (FieldDecryptionError, ImproperlyConfigured) as exc:
            raise CommandError(str(exc)) from None
        if options["json"]:
            self.stdout.write(
                json_text(
                    {
                        "checked": counts.checked,
                        "rewritten": counts.rewritten,
                        "models": counts.per_model,
                    }
                )
            )
            return
        self.stdout.write(
            _("%(checked)d rows checked, %(rewritten)d re-encrypted under the newest key.")
            % {"checked": counts.checked, "rewritten": counts.rewritten}
        )
