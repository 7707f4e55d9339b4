"""`manage.py backup_verify`: read backups back and check them, with one exit code per kind of
failure."""

from __future__ import annotations

from django.core.management.base import CommandError, CommandParser
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy, ngettext

from backups import services
from backups.services import VERIFY_EXIT_CODES
from security.operator_output import OperatorCommand, add_json_argument, json_text


class Command(OperatorCommand):
    # A backup job must run, and a restore must work, whatever else the configuration says: a
    # system check error elsewhere (`manage.py check --deploy` reports those) never stops them.
    requires_system_checks: list[str] = []

    help = gettext_lazy(
        "Verify backups by reading them back: the manifest's signature and claims, size, SHA-256 "
        "and, where BACKUP_IDENTITY_FILE is set, decryption; progress as it goes. Any failing "
        "copy is alerted. Exit codes: 0 all good, 3 missing, 4 truncated, 5 tampered (damaged, "
        "edited, forged, unsigned or dated in the future), 6 wrong key, 7 destination "
        "unreachable (when copies fail differently, the highest code), 1 other errors."
    )

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument(
            "backup_id", nargs="?", help=_("The backup to verify (default: the newest).")
        )
        parser.add_argument(
            "--all", action="store_true", help=_("Every backup on every destination.")
        )
        parser.add_argument("--from", dest="source", help=_("Only this destination URL."))
        add_json_argument(
            parser,
            _(
                'one document {"ok": true|false, "checks": [{"backup_id", "destination", '
                '"result", "detail"}]} on stdout, progress on stderr; the exit codes stay the same.'
            ),
        )

    def handle(
        self,
        *args: object,
        backup_id: str | None,
        all: bool,
        source: str | None,
        json: bool,
        **options: object,
    ) -> None:
        if backup_id and all:
            raise CommandError(_("Give a backup id or --all, not both."))
        progress = self.progress_writer(json=json)
        try:
            checks = services.backup_verify(
                backup_id=backup_id, all_backups=all, source=source, progress=progress
            )
        except Exception as exc:
            raise CommandError(_("Verification could not run: %(error)s") % {"error": exc}) from exc
        bad = [c for c in checks if c.code != "ok"]
        if json:
            self.stdout.write(
                json_text(
                    {
                        "ok": not bad,
                        "checks": [
                            {
                                "backup_id": c.backup_id,
                                "destination": c.destination,
                                "result": c.code,
                                "detail": c.detail,
                            }
                            for c in checks
                        ],
                    }
                )
            )
        if not bad:
            if not json:
                self.stdout.write(
                    self.style.SUCCESS(
                        ngettext(
                            "%(count)d copy verified.", "%(count)d copies verified.", len(checks)
                        )
                        % {"count": len(checks)}
                    )
                )
            return
        worst = max(bad, key=lambda c: VERIFY_EXIT_CODES[c.code])
        summary = "; ".join(f"{c.backup_id} on {c.destination}: {c.code} ({c.detail})" for c in bad)
        raise CommandError(
            _("%(bad)d of %(total)d copies failed: %(summary)s")
            % {"bad": len(bad), "total": len(checks), "summary": summary},
            returncode=VERIFY_EXIT_CODES[worst.code],
        )
