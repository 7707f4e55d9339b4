"""`manage.py access_review [--sign-off NAME] [--deactivate-stale [--yes]] [--json]` (C16)."""

from __future__ import annotations

from dataclasses import asdict
from typing import Any

from django.core.management.base import CommandError, CommandParser
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from security.access_review import (
    FLAG_UNUSED,
    access_review_deactivate_stale,
    access_review_rows,
    access_review_sign_off,
    as_text,
    flag_counts,
)
from security.actors import Actor, Via
from security.operator_output import OperatorCommand, add_json_argument, json_text, utc_iso


class Command(OperatorCommand):
    help = gettext_lazy(
        "The access review: every staff and partner account with its roles, partner, MFA, last "
        "login and open support grants; flags accounts unused for 90 days, without MFA, and "
        "superusers. --sign-off records the review; --deactivate-stale deactivates the unused "
        "accounts after confirmation."
    )

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument(
            "--sign-off", metavar="NAME", help=_("Record the review as done by NAME.")
        )
        parser.add_argument(
            "--deactivate-stale",
            action="store_true",
            help=_("Deactivate the accounts unused for 90 days (asks first)."),
        )
        parser.add_argument("--yes", action="store_true", help=_("Do not ask (for scripts)."))
        add_json_argument(
            parser,
            _(
                'one document {"accounts": [{"email", "roles", "mfa", "last_login", "flags", '
                '"extra", ...}], "flags": {...}, "signed_off_by", "deactivated": [...]}.'
            ),
        )

    def handle(self, *args: Any, **options: Any) -> None:
        now = timezone.now()
        rows = access_review_rows(now=now)
        actor = Actor.system("access_review", via=Via.COMMAND)
        deactivated: list[str] = []
        if options["deactivate_stale"]:
            stale = [r.email for r in rows if FLAG_UNUSED in r.flags]
            if stale and not options["yes"]:
                if not options["json"]:
                    self.stdout.write(as_text(rows, now=now))
                answer = input(
                    _("Deactivate %(count)d unused accounts (%(emails)s)? Type 'yes': ")
                    % {"count": len(stale), "emails": ", ".join(stale)}
                )
                if answer.strip().lower() != "yes":
                    raise CommandError(_("Nothing deactivated."))
            deactivated = access_review_deactivate_stale(rows=rows, actor=actor)
            rows = access_review_rows(now=now)
        reviewer = (options["sign_off"] or "").strip()
        if options["sign_off"] is not None and not reviewer:
            raise CommandError(_("--sign-off needs the reviewer's name."))
        if reviewer:
            access_review_sign_off(reviewer=reviewer[:100], rows=rows, actor=actor)
        if options["json"]:
            self.stdout.write(
                json_text(
                    {
                        "evaluated_at": utc_iso(now),
                        "accounts": [asdict(r) for r in rows],
                        "flags": flag_counts(rows),
                        "signed_off_by": reviewer or None,
                        "deactivated": deactivated,
                    }
                )
            )
            return
        self.stdout.write(as_text(rows, now=now))
        for email in deactivated:
            self.stdout.write(_("Deactivated %(email)s.") % {"email": email})
        if reviewer:
            self.stdout.write(_("Review signed off by %(name)s.") % {"name": reviewer})
