"""`manage.py security_events`: read the security event log, or verify its hash chain."""

from __future__ import annotations

import json
from datetime import datetime, time
from typing import Any

from django.core.exceptions import ValidationError
from django.core.management.base import BaseCommand, CommandError, CommandParser
from django.utils import timezone
from django.utils.dateparse import parse_date, parse_datetime

from security.events import event_types, verify_chain
from security.inputs import validate_year
from security.models import SecurityEvent


def _since(value: str) -> datetime:
    malformed = CommandError(f"--since {value[:40]!r}: use YYYY-MM-DD or an ISO date-time.")
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
        raise CommandError(f"--since {value!r}: {exc.messages[0]}") from None
    if timezone.is_naive(moment):
        moment = timezone.make_aware(moment, timezone.get_default_timezone())
    return moment


class Command(BaseCommand):
    help = (
        "Print security events as JSON lines (oldest first), filtered by --since and --type; "
        "--verify checks the hash chain and fails naming the first broken row."
    )

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument(
            "--since", help="Only events from this date (YYYY-MM-DD) or ISO date-time on."
        )
        parser.add_argument(
            "--type",
            action="append",
            dest="types",
            choices=[value for value, _label in event_types()],
            help="Only events of this type (repeatable).",
        )
        parser.add_argument(
            "--verify", action="store_true", help="Verify the hash chain instead of printing."
        )

    def handle(self, *args: Any, **options: Any) -> None:
        if options["verify"]:
            problems = verify_chain()
            if problems:
                raise CommandError(
                    f"Security event chain broken at {problems[0]} ({len(problems)} problem(s) in all)."
                )
            self.stdout.write(
                self.style.SUCCESS(
                    f"Security event chain intact: {SecurityEvent.objects.count()} events."
                )
            )
            return
        events = SecurityEvent.objects.order_by("id")
        if options["since"]:
            events = events.filter(created_at__gte=_since(options["since"]))
        if options["types"]:
            events = events.filter(event_type__in=options["types"])
        for event in events.iterator(chunk_size=2000):
            self.stdout.write(
                json.dumps(
                    {
                        "id": event.pk,
                        "created_at": event.created_at.isoformat(),
                        "event_type": event.event_type,
                        "actor": event.actor_email,
                        "ip": event.ip,
                        "target": event.target,
                        "detail": event.detail,
                        "hash": event.hash,
                    },
                    sort_keys=True,
                    ensure_ascii=False,
                )
            )
