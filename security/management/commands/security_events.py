"""`manage.py security_events`: read the security event log, or verify its hash chain."""

from __future__ import annotations

from datetime import UTC, datetime, time
from typing import Any

from django.core.exceptions import ValidationError
from django.core.management.base import CommandError, CommandParser
from django.utils import timezone
from django.utils.dateparse import parse_date, parse_datetime
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy, ngettext

from security.anchor import anchor_write, stores, verify_against_anchor
from security.events import ChainProblem, event_types, verify_chain
from security.inputs import validate_year
from security.models import SecurityEvent
from security.operator_output import (
    OperatorCommand,
    add_json_argument,
    json_text,
    utc_iso,
    utc_text,
)

# The longest event type, so the columns after it line up.
_TYPE_WIDTH = SecurityEvent._meta.get_field("event_type").max_length or 40


def _since(value: str) -> datetime:
    malformed = CommandError(
        _("--since %(value)r: use YYYY-MM-DD or an ISO date-time.") % {"value": value[:40]}
    )
    # The one date rule (security.inputs): ASCII digits, nothing around the date.
    if not value.isascii() or value != value.strip():
        raise malformed
    try:
        moment = parse_datetime(value)
        day = None if moment else parse_date(value)
    except ValueError:  # well-formed but not a real date, e.g. 2026-02-30
        raise malformed from None
    if moment is None:
        if day is None:
            raise malformed
        moment = datetime.combine(day, time.min)
    try:
        validate_year(moment)
    except ValidationError as exc:
        raise CommandError(f"--since {value[:40]!r}: {exc.messages[0]}") from None
    # Operators read and give times in UTC, whatever the server's own zone.
    if timezone.is_naive(moment):
        moment = moment.replace(tzinfo=UTC)
    return moment


def _as_text(value: object) -> str:
    return json_text(value) if isinstance(value, dict | list) else str(value)


def _line(event: SecurityEvent) -> str:
    parts = [
        f"{name}={value}"
        for name, value in (
            ("actor", event.actor_email),
            ("ip", event.ip),
            ("target", event.target),
        )
        if value
    ]
    parts += [f"{key}={_as_text(value)}" for key, value in sorted(event.detail.items())]
    return f"{event.pk:>7}  {utc_text(event.created_at)}  {event.event_type:<{_TYPE_WIDTH}}  {' '.join(parts)}".rstrip()


def _document(event: SecurityEvent) -> dict[str, Any]:
    return {
        "id": event.pk,
        "created_at": utc_iso(event.created_at),
        "event_type": event.event_type,
        "actor": event.actor_email,
        "ip": event.ip,
        "target": event.target,
        "detail": event.detail,
        "hash": event.hash,
    }


class Command(OperatorCommand):
    help = gettext_lazy(
        "List security events, oldest first, with their times in UTC; filter with --since and "
        "--type. --verify checks the hash chain instead and fails, naming the first broken row, "
        "when a row was edited or deleted."
    )

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument(
            "--since",
            help=_(
                "Only events from this date (YYYY-MM-DD) or ISO date-time on; UTC unless it names a zone."
            ),
        )
        parser.add_argument(
            "--type",
            action="append",
            dest="types",
            choices=[value for value, _label in event_types()],
            help=_("Only events of this type (repeatable)."),
        )
        parser.add_argument(
            "--verify",
            action="store_true",
            help=_(
                "Verify the hash chain, and against the newest anchor (a deleted tail), instead "
                "of listing."
            ),
        )
        parser.add_argument(
            "--anchor",
            action="store_true",
            help=_("Write the chain's head now as a signed anchor file (as the daily job does)."),
        )
        add_json_argument(
            parser,
            _(
                "one JSON object per event and line (id, created_at in UTC, event_type, actor, "
                "ip, target, detail, hash); with --verify one document "
                '{"intact": true|false, "events": N, "anchor": {"event_id", "hash", '
                '"event_time", "anchored_at"} or null, "problems": [{"event_id", "message"}]}; '
                "with --anchor the anchor written."
            ),
        )

    def handle(self, *args: Any, **options: Any) -> None:
        if options["anchor"]:
            anchor = anchor_write(mail=False)
            if anchor is None:
                raise CommandError(_("The security event log is empty: nothing to anchor."))
            if options["json"]:
                self.stdout.write(json_text(anchor.body()))
            else:
                self.stdout.write(
                    _("Anchored event %(id)d (hash %(hash)s) to: %(stores)s.")
                    % {
                        "id": anchor.event_id,
                        "hash": anchor.hash,
                        "stores": ", ".join(s.label for s in stores()) or _("no store"),
                    }
                )
            return
        if options["verify"]:
            self._verify(as_json=options["json"])
            return
        events = SecurityEvent.objects.order_by("id")
        if options["since"]:
            events = events.filter(created_at__gte=_since(options["since"]))
        if options["types"]:
            events = events.filter(event_type__in=options["types"])
        count = 0
        for event in events.iterator(chunk_size=2000):
            if options["json"]:
                self.stdout.write(json_text(_document(event)))
            else:
                if not count:
                    self.stdout.write(
                        f"{_('id'):>7}  {_('time (UTC)'):<23}  {_('event'):<{_TYPE_WIDTH}}  {_('details')}"
                    )
                self.stdout.write(_line(event))
            count += 1
        if options["json"]:
            return
        if count:
            self.stdout.write(
                ngettext("%(count)d event.", "%(count)d events.", count) % {"count": count}
            )
        else:
            self.stdout.write(_("No security events match."))

    def _verify(self, *, as_json: bool) -> None:
        anchored = verify_against_anchor()
        problems = [
            *verify_chain(),
            *(
                ChainProblem(anchored.anchor.event_id if anchored.anchor else 0, p)
                for p in anchored.problems
            ),
        ]
        total = SecurityEvent.objects.count()
        if as_json:
            self.stdout.write(
                json_text(
                    {
                        "intact": not problems,
                        "events": total,
                        "anchor": anchored.anchor.body() if anchored.anchor else None,
                        "problems": [
                            {"event_id": p.event_id, "message": p.message} for p in problems
                        ],
                    }
                )
            )
        if problems:
            raise CommandError(
                ngettext(
                    "Security event chain broken at %(first)s (%(count)d problem in all).",
                    "Security event chain broken at %(first)s (%(count)d problems in all).",
                    len(problems),
                )
                % {"first": problems[0], "count": len(problems)}
            )
        if not as_json:
            self.stdout.write(
                self.style.SUCCESS(
                    ngettext(
                        "Security event chain intact: %(count)d event.",
                        "Security event chain intact: %(count)d events.",
                        total,
                    )
                    % {"count": total}
                    + " "
                    + (
                        _("The newest anchor (event %(id)d, %(time)s) matches.")
                        % {"id": anchored.anchor.event_id, "time": anchored.anchor.anchored_at}
                        if anchored.anchor
                        else _("No anchor yet: a deleted tail would not show.")
                    )
                )
            )
