"""`manage.py compliance_report [--format text|json|markdown] [--control C21]` (C30)."""

from __future__ import annotations

from typing import Any

from django.core.management.base import CommandError, CommandParser
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy, ngettext

from security.compliance import Status, evaluate, registered_checks
from security.compliance.report import as_json, as_markdown, as_text
from security.models import SecurityEvent
from security.operator_output import OperatorCommand, utc_iso

_FORMATS = {"text": as_text, "json": as_json, "markdown": as_markdown}


class Command(OperatorCommand):
    help = gettext_lazy(
        "Evaluate the security controls now, from live evidence, and print the report: text, "
        "JSON or Markdown (for auditors). Exit status 0 when no control fails, 1 when one does."
    )

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("--format", choices=sorted(_FORMATS), default="text")
        parser.add_argument(
            "--control",
            action="append",
            dest="controls",
            metavar="CXX",
            help=_("Only this control (repeatable), e.g. C21."),
        )
        parser.add_argument(
            "--json",
            action="store_true",
            help=_(
                'Same as --format json: one document {"evaluated_at", "summary", '
                '"event_log_head", "controls": [{"control", "title", "status", "reason", '
                '"evidence", "evaluated_at"}]}.'
            ),
        )

    def handle(self, *args: Any, **options: Any) -> None:
        known = [c.control for c in registered_checks()]
        controls = options["controls"]
        if controls:
            unknown = sorted(set(controls) - set(known))
            if unknown:
                raise CommandError(
                    _("Unknown control %(unknown)s; checked controls: %(known)s.")
                    % {"unknown": ", ".join(unknown), "known": ", ".join(known)}
                )
        now = timezone.now()
        results = evaluate(controls, now=now)
        row = SecurityEvent.objects.order_by("-id").first()
        head = (
            {"id": row.pk, "hash": row.hash, "created_at": utc_iso(row.created_at)} if row else None
        )
        render = _FORMATS["json" if options["json"] else options["format"]]
        self.stdout.write(render(results, now=now, head=head))
        failing = [r.control for r in results if r.status == Status.FAIL]
        if failing:
            raise CommandError(
                ngettext(
                    "%(count)d control fails: %(controls)s.",
                    "%(count)d controls fail: %(controls)s.",
                    len(failing),
                )
                % {"count": len(failing), "controls": ", ".join(failing)}
            )
