"""Structured logging: one JSON object per line, with any `extra=` fields included; and the
plain-text form of the same records for a person running a manage.py command at a terminal
(settings.env.operator_terminal decides which)."""

from __future__ import annotations

import json
import logging
from datetime import UTC, datetime

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
        return json.dumps(entry, default=str)


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
        return line
