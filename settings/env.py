"""Typed readers for environment variables.

Each helper rejects malformed values with a message naming the variable, so a typo in the
deployment fails at start-up instead of silently turning a protection off. A variable `X` may
also be given as `X_FILE` (a path whose contents are the value), the usual way to pass secrets to
containers.
"""

from __future__ import annotations

import enum
import os
from pathlib import Path
from typing import TextIO

from django.core.exceptions import ImproperlyConfigured

_TRUE = {"1", "true", "on"}
_FALSE = {"0", "false", "off"}


class _Unset(enum.Enum):
    """The "no default: the variable is required" marker (an enum, so checkers can narrow it)."""

    UNSET = enum.auto()


def _raw(name: str) -> str | None:
    file_var = os.environ.get(f"{name}_FILE")
    if file_var:
        try:
            return Path(file_var).read_text(encoding="utf-8").strip()
        except OSError as exc:
            raise ImproperlyConfigured(
                f"{name}_FILE={file_var!r} cannot be read: {exc.strerror}"
            ) from exc
    return os.environ.get(name)


def env_str(name: str, default: str | _Unset = _Unset.UNSET) -> str:
    value = _raw(name)
    if value is None or value == "":
        if default is _Unset.UNSET:
            raise ImproperlyConfigured(f"Environment variable {name} is required.")
        return default
    return value


def env_bool(name: str, default: bool) -> bool:
    value = _raw(name)
    if value is None or value.strip() == "":
        return default
    lowered = value.strip().lower()
    if lowered in _TRUE:
        return True
    if lowered in _FALSE:
        return False
    raise ImproperlyConfigured(
        f"Environment variable {name}={value!r} is not a boolean; use one of "
        "1/0, true/false, on/off."
    )


def env_int(
    name: str, default: int, *, minimum: int | None = None, maximum: int | None = None
) -> int:
    value = _raw(name)
    if value is None or value.strip() == "":
        result = default
    else:
        try:
            result = int(value.strip(), 10)
        except ValueError:
            raise ImproperlyConfigured(
                f"Environment variable {name}={value!r} is not a whole number."
            ) from None
    if minimum is not None and result < minimum:
        raise ImproperlyConfigured(f"Environment variable {name}={result} is below {minimum}.")
    if maximum is not None and result > maximum:
        raise ImproperlyConfigured(f"Environment variable {name}={result} is above {maximum}.")
    return result


def env_list(name: str, default: list[str] | None = None) -> list[str]:
    """Comma-separated list; blanks around items are ignored, empty items are an error."""
    value = _raw(name)
    if value is None or value.strip() == "":
        return list(default or [])
    items = [item.strip() for item in value.split(",")]
    if any(item == "" for item in items):
        raise ImproperlyConfigured(
            f"Environment variable {name}={value!r} has an empty item (stray comma?)."
        )
    return items


def env_choice(name: str, default: str, choices: set[str]) -> str:
    value = env_str(name, default)
    if value not in choices:
        raise ImproperlyConfigured(
            f"Environment variable {name}={value!r} must be one of: {', '.join(sorted(choices))}."
        )
    return value


def env_url(name: str, default: str | _Unset = _Unset.UNSET, *, schemes: set[str]) -> str:
    value = env_str(name, default)
    if value == "":
        return value
    scheme, sep, rest = value.partition("://")
    if not sep or scheme not in schemes or (not rest and scheme not in {"sqlite", "filesystem"}):
        raise ImproperlyConfigured(
            f"Environment variable {name} must be a URL with one of the schemes "
            f"{', '.join(sorted(schemes))}://…"
        )
    return value


# manage.py commands that are servers: their log is for a collector even on a terminal.
SERVER_COMMANDS = frozenset({"runserver"})


def operator_terminal(argv: list[str], stream: TextIO) -> bool:
    """True for a manage.py command (not a server) whose log stream is a terminal: a person is
    reading it. Cron jobs, CI, containers' log drivers and pipes are not terminals; gunicorn and
    Celery are not manage.py."""
    if not argv or os.path.basename(argv[0]) != "manage.py":
        return False
    if len(argv) > 1 and argv[1] in SERVER_COMMANDS:
        return False
    return bool(getattr(stream, "isatty", None) and stream.isatty())
