"""`manage.py integrity_baseline [--check]`: record the deployed files' hashes (C32), or compare
them with the newest baseline now."""

from __future__ import annotations

from typing import Any

from django.core.management.base import CommandError, CommandParser
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from security.actors import Actor, Via
from security.integrity import compare, current_hashes, integrity_baseline_record, newest_baseline
from security.operator_output import (
    OperatorCommand,
    add_json_argument,
    json_text,
    utc_iso,
    utc_text,
)


class Command(OperatorCommand):
    help = gettext_lazy(
        "Record the SHA-256 of every deployed code and static file (INTEGRITY_PATHS) as the "
        "baseline the hourly integrity check compares with; run it after each deployment. "
        "--check compares now instead and fails when a file changed, appeared or disappeared."
    )

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument(
            "--check",
            action="store_true",
            help=_("Compare with the newest baseline; record nothing."),
        )
        add_json_argument(
            parser,
            _(
                'one document: {"baseline", "files", "digest", "created_at"}; with --check '
                '{"baseline", "changed", "added", "removed"}.'
            ),
        )

    def handle(self, *args: Any, **options: Any) -> None:
        if options["check"]:
            self._check(as_json=options["json"])
            return
        baseline = integrity_baseline_record(
            actor=Actor.system("integrity_baseline", via=Via.COMMAND)
        )
        if options["json"]:
            self.stdout.write(
                json_text(
                    {
                        "baseline": baseline.pk,
                        "files": baseline.file_count,
                        "digest": baseline.digest,
                        "created_at": utc_iso(baseline.created_at),
                    }
                )
            )
            return
        self.stdout.write(
            _("Baseline %(id)d recorded: %(files)d files, digest %(digest)s, %(time)s.")
            % {
                "id": baseline.pk,
                "files": baseline.file_count,
                "digest": baseline.digest,
                "time": utc_text(baseline.created_at),
            }
        )

    def _check(self, *, as_json: bool) -> None:
        baseline = newest_baseline()
        if baseline is None:
            raise CommandError(_("No baseline yet: run manage.py integrity_baseline first."))
        difference = compare(baseline, current_hashes())
        if as_json:
            self.stdout.write(
                json_text(
                    {
                        "baseline": baseline.pk,
                        "changed": difference.changed,
                        "added": difference.added,
                        "removed": difference.removed,
                    }
                )
            )
        elif not difference.ok:
            for line in difference.lines(limit=1000):
                self.stdout.write(line)
        if not difference.ok:
            raise CommandError(
                _("Files differ from baseline %(id)d of %(time)s.")
                % {"id": baseline.pk, "time": utc_text(baseline.created_at)}
            )
        if not as_json:
            self.stdout.write(
                _("All %(files)d files match baseline %(id)d of %(time)s.")
                % {
                    "files": baseline.file_count,
                    "id": baseline.pk,
                    "time": utc_text(baseline.created_at),
                }
            )
