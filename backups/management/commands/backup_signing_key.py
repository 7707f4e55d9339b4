"""`manage.py backup_signing_key`: the manifest signing key's public half, or a new key."""

from __future__ import annotations

from django.core.management.base import CommandError, CommandParser
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from backups import services, signing
from security.operator_output import OperatorCommand


class Command(OperatorCommand):
    # A backup job must run, and a restore must work, whatever else the configuration says: a
    # system check error elsewhere (`manage.py check --deploy` reports those) never stops them.
    requires_system_checks: list[str] = []

    help = gettext_lazy(
        "Print the public key (ed25519:...) of the manifest signing key in BACKUP_SIGNING_KEY, "
        "for BACKUP_SIGNING_PUBLIC_KEYS on the machines that verify and restore. With "
        "--generate FILE, write a new signing key to FILE (mode 0600, never over an existing "
        "file) and print its public key."
    )

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument(
            "--generate",
            metavar="FILE",
            help=_("Write a new Ed25519 signing key (PEM) to FILE."),
        )

    def handle(self, *args: object, generate: str | None, **options: object) -> None:
        if generate:
            try:
                public = signing.write_new_key_file(generate)
            except FileExistsError:
                raise CommandError(
                    _("%(file)s exists already: refusing to overwrite a key.") % {"file": generate}
                ) from None
            except OSError as exc:
                raise CommandError(
                    _("Cannot write %(file)s: %(error)s") % {"file": generate, "error": exc}
                ) from exc
        else:
            try:
                public = services.signer().key_id
            except services.BackupError as exc:
                raise CommandError(str(exc)) from exc
        # The key line alone on the last line of output: scripts take it with `tail -n 1`.
        if generate:
            self.stdout.write(
                _(
                    "New signing key written to %(file)s. Give it to the app servers as "
                    "BACKUP_SIGNING_KEY_FILE, and add this line to BACKUP_SIGNING_PUBLIC_KEYS "
                    "everywhere backups are verified or restored:"
                )
                % {"file": generate}
            )
        self.stdout.write(public)
