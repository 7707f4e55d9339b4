"""Structured logging: one JSON object per line, with any `extra=` fields included; and the
plain-text form of the same records for a person running a manage.py command at a terminal
(settings.env.operator_terminal decides which).

Both redact private URL segments from the whole line (`redact`), whatever logged it: a request
path in Django's own 4xx lines, a rate-limit line, an exception text. Gunicorn's access and error
logs get the same treatment (security.gunicorn_logging)."""

from __future__ import annotations

import json
import logging
import re
from datetime import UTC, datetime

# The path segment after these is a secret (booking's manage link, whose payment pages live under
# it too, and the invitation link): /manage/<token>/, /invitation/<token>/, also
# percent-encoded (a `next=` in a query string); and a calendar feed's secret after its partner's
# slug: /feed/<slug>/<secret>.ics; and a password reset token after the user's id:
# /account/reset/<uid>/<token>/ (not the "set-password" page Django redirects that link to).
_SLASH = r"(?:/|%2[fF])"
_SEGMENT = r"[^/\s\"'?#&<>\\%]+"
_PRIVATE_SEGMENT = re.compile(
    rf"({_SLASH}(?:manage|invitation){_SLASH}"
    rf"|{_SLASH}feed{_SLASH}{_SEGMENT}{_SLASH}"
    rf"|{_SLASH}account{_SLASH}reset{_SLASH}{_SEGMENT}{_SLASH}(?!set-password\b))"
    rf"{_SEGMENT}"
)
REDACTED = "[redacted]"


def redact(text: str) -> str:
    """`text` with every private URL segment replaced by [redacted]."""
    return _PRIVATE_SEGMENT.sub(rf"\1{REDACTED}", text)


# Attributes every LogRecord has; anything else on a record came from `extra=`.
_STANDARD = set(vars(logging.LogRecord("", 0, "", 0, "", None, None))) | {"message", "asctime"}


def _extra(record: logging.LogRecord) -> dict[str, object]:
    return {
        key: value
        for key, value in vars(record).items()
        if key not in _STANDARD and not key.startswith("_")
    }


class JsonFormatter(logging.Formatter):
    def format(self, record: logging.LogRecord) -> str:
        entry: dict[str, object] = {
            "time": datetime.fromtimestamp(record.created, tz=UTC).isoformat(
                timespec="milliseconds"
            ),
            "level": record.levelname,
            "logger": record.name,
            "message": record.getMessage(),
        }
        entry.update(_extra(record))
        if record.exc_info:
            entry["exception"] = self.formatException(record.exc_info)
        return redact(json.dumps(entry, default=str))


class ConsoleFormatter(logging.Formatter):
    """`WARNING backups: message (key=value, ...)`: what a person reads at a terminal while the
    command runs, so no time stamp."""

    def format(self, record: logging.LogRecord) -> str:
        line = f"{record.levelname} {record.name}: {record.getMessage()}"
        extra = _extra(record)
        if extra:
            line += " (" + ", ".join(f"{key}={value}" for key, value in extra.items()) + ")"
        if record.exc_info:
            line += "\n" + self.formatException(record.exc_info)
        return redact(line)
