"""`manage.py backup_list`: every copy of every backup on every destination."""

from __future__ import annotations

from typing import Any

from django.core.management.base import CommandError, CommandParser
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy, ngettext

from backups.selectors import BackupCopy, backup_list
from security.operator_output import (
    OperatorCommand,
    add_json_argument,
    json_text,
    utc_iso,
    utc_text,
)


def _age(copy: BackupCopy) -> str:
    hours = copy.age.total_seconds() / 3600
    return f"{hours:.1f}h" if hours < 48 else f"{hours / 24:.1f}d"


def _document(copy: BackupCopy) -> dict[str, Any]:
    verification = copy.verification
    return {
        "backup_id": copy.backup_id,
        "destination": copy.destination,
        "offline": copy.offline,
        "created_at": utc_iso(copy.created_at),
        "age_hours": round(copy.age.total_seconds() / 3600, 2),
        "size": copy.size,
        "complete": copy.complete,
        "verification": None
        if verification is None
        else {
            "result": verification.result,
            "at": utc_iso(verification.at),
            "detail": verification.detail,
        },
    }


class Command(OperatorCommand):
    # A backup job must run, and a restore must work, whatever else the configuration says: a
    # system check error elsewhere (`manage.py check --deploy` reports those) never stops them.
    requires_system_checks: list[str] = []

    help = gettext_lazy(
        "List every backup on every destination, the offline one included, newest first: when "
        "it was made (UTC), its age, size, whether the copy is complete, and its latest "
        "verification (backup_verify, or the read-back when the copy was written) with its time "
        "(UTC). Fails, after listing the rest, when a destination cannot be listed."
    )

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument(
            "--incomplete",
            action="store_true",
            help=_("Also show copies without a manifest (a run that did not finish)."),
        )
        add_json_argument(
            parser,
            _(
                'one document {"copies": [{"backup_id", "destination", "offline", "created_at", '
                '"age_hours", "size", "complete", "verification": {"result", "at", "detail"} or '
                'null}], "unreachable": {destination: error}}; times in UTC (ISO 8601).'
            ),
        )

    def handle(self, *args: object, incomplete: bool, json: bool, **options: object) -> None:
        listing = backup_list(include_incomplete=incomplete)
        if json:
            self.stdout.write(
                json_text(
                    {
                        "copies": [_document(c) for c in listing.copies],
                        "unreachable": listing.unreachable,
                    }
                )
            )
        elif listing.copies:
            self._table(listing.copies)
        elif not listing.unreachable:
            self.stdout.write(_("No backups on any destination."))
        if listing.unreachable:
            problems = "; ".join(
                f"{label}: {error}" for label, error in listing.unreachable.items()
            )
            raise CommandError(
                ngettext(
                    "%(count)d destination could not be listed: %(problems)s",
                    "%(count)d destinations could not be listed: %(problems)s",
                    len(listing.unreachable),
                )
                % {"count": len(listing.unreachable), "problems": problems}
            )

    def _table(self, copies: list[BackupCopy]) -> None:
        self.stdout.write(
            f"{_('backup id'):23} {_('created (UTC)'):23} {_('age'):>6} {_('size (bytes)'):>14}  "
            f"{_('state'):10} {_('verified (UTC)'):34} {_('destination')}"
        )
        for c in copies:
            state = _("complete") if c.complete else _("INCOMPLETE")
            verified = (
                _("never")
                if c.verification is None
                else f"{c.verification.result} {utc_text(c.verification.at)}"
            )
            where = c.destination + (f" ({_('offline')})" if c.offline else "")
            self.stdout.write(
                f"{c.backup_id:23} {utc_text(c.created_at):23} {_age(c):>6} {c.size:>14,}  "
                f"{state:10} {verified:34} {where}"
            )
