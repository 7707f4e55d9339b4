"""What the operator commands (manage.py) share about their output: by default sentences and
tables for a person, with times in UTC and labelled so; with --json, machine output on stdout
alone (progress and log lines stay off it), documented in each command's help."""

from __future__ import annotations

import json
from collections.abc import Callable
from datetime import UTC, datetime
from typing import TYPE_CHECKING, Any

from django.core.management.base import BaseCommand, CommandParser
from django.utils.translation import gettext as _

if TYPE_CHECKING:
    from django.utils.functional import _StrPromise


class OperatorCommand(BaseCommand):
    """A command for operators. Its `help` may be translatable (gettext_lazy): argparse needs a
    real string, so the text is resolved when the parser is made, in the active language."""

    # django-stubs types BaseCommand.help as str; a lazy string works (see create_parser).
    help: str | _StrPromise  # type: ignore[assignment]

    def create_parser(self, prog_name: str, subcommand: str, **kwargs: Any) -> CommandParser:
        parser = super().create_parser(prog_name, subcommand, **kwargs)
        if parser.description is not None:
            parser.description = str(parser.description)
        return parser

    def progress_writer(self, *, json: bool) -> Callable[[str], None]:
        """Where progress lines go: stdout for a person; stderr when stdout carries JSON (plain,
        not in the error colour: progress is not an error)."""
        if json:
            return lambda line: self.stderr.write(line, style_func=str)
        return self.stdout.write


def add_json_argument(parser: CommandParser, shape: str) -> None:
    """--json, with `shape` saying what the output is (one document, or one object per line)."""
    parser.add_argument(
        "--json",
        action="store_true",
        dest="json",
        help=_("Machine-readable output instead of text: %(shape)s") % {"shape": shape},
    )


def json_text(document: Any) -> str:
    """One JSON document on one line; keys sorted so runs compare line by line."""
    return json.dumps(document, sort_keys=True, ensure_ascii=False, default=str)


def utc_text(moment: datetime | None) -> str:
    """`2026-03-05 10:00:00 UTC` for a person; "-" for no time at all."""
    if moment is None:
        return "-"
    return moment.astimezone(UTC).strftime("%Y-%m-%d %H:%M:%S UTC")


def utc_iso(moment: datetime | None) -> str | None:
    """ISO 8601 in UTC (`2026-03-05T10:00:00+00:00`) for machines."""
    return None if moment is None else moment.astimezone(UTC).isoformat()
