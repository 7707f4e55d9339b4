"""Logging: servers and unattended runs write one JSON object per line for the log collector; a
manage.py command that a person runs at a terminal shows its own answer, with warnings and errors
as plain text, never a wall of JSON lines ahead of it."""

from __future__ import annotations

import io
import json
import logging
from pathlib import Path

import pytest

from security.logging import ConsoleFormatter, JsonFormatter
from settings.env import operator_terminal
from tests.terminal import on_pipes, on_terminal, operator_env

# Stripe keys of the right shape, so the system checks have nothing (true) to warn about.
CONFIGURED = {
    "STRIPE_SECRET_KEY": "sk_test_x",
    "STRIPE_PUBLISHABLE_KEY": "pk_test_x",
    "STRIPE_WEBHOOK_SECRET": "whsec_x",
}


class _Stream(io.StringIO):
    def __init__(self, tty: bool) -> None:
        super().__init__()
        self.tty = tty

    def isatty(self) -> bool:
        return self.tty


@pytest.fixture(scope="module")
def operator(tmp_path_factory: pytest.TempPathFactory) -> dict[str, str]:
    env = operator_env(Path(tmp_path_factory.mktemp("operator")), **CONFIGURED)
    result = on_pipes(["migrate", "--noinput", "-v0"], env)
    assert result.returncode == 0, result.stderr[-3000:]
    return env


def _record(level: int = logging.WARNING, **extra: object) -> logging.LogRecord:
    record = logging.LogRecord(
        "backups", level, __file__, 1, "destination %s is slow", ("a",), None
    )
    for key, value in extra.items():
        setattr(record, key, value)
    return record


@pytest.mark.slow
def test_a_command_at_a_terminal_shows_its_answer_and_no_json(operator) -> None:
    status, screen = on_terminal(["axes_reset_ip", "192.0.2.1"], operator)

    assert status == 0, screen
    lines = [line for line in screen.splitlines() if line.strip()]
    assert lines and lines[0].startswith("192.0.2.1:"), screen
    assert not any(line.lstrip().startswith("{") for line in lines), screen


@pytest.mark.slow
def test_the_same_command_on_pipes_still_logs_json_lines(operator) -> None:
    result = on_pipes(["axes_reset_ip", "192.0.2.2"], operator)

    assert result.returncode == 0, result.stderr
    logged = [json.loads(line) for line in result.stderr.splitlines() if line.startswith("{")]
    assert any(entry.get("security_event") == "unlock" for entry in logged), result.stderr
    assert result.stdout.startswith("192.0.2.2:")


@pytest.mark.slow
def test_warnings_reach_the_terminal_as_plain_text(operator) -> None:
    code = (
        "import logging; logging.getLogger('backups').warning("
        "'destination %s is slow', 'a', extra={'seconds': 42}); "
        "logging.getLogger('backups').info('not for the terminal')"
    )
    status, screen = on_terminal(["shell", "-c", code], operator)

    assert status == 0, screen
    assert "WARNING backups: destination a is slow (seconds=42)" in screen
    assert "not for the terminal" not in screen
    assert "{" not in screen


@pytest.mark.parametrize(
    ("argv", "tty", "expected"),
    [
        (["manage.py", "mfa_reset", "a@example.com"], True, True),
        (["/srv/app/manage.py", "backup_list"], True, True),
        (["manage.py", "backup_list"], False, False),  # cron, CI, a pipe: the log collector's
        (["manage.py", "runserver"], True, False),  # a server logs for its collector
        (["/usr/bin/celery", "-A", "settings", "worker"], True, False),
        (["gunicorn", "settings.wsgi"], True, False),
        (["manage.py"], True, True),
    ],
)
def test_only_commands_a_person_runs_at_a_terminal_count_as_such(
    argv: list[str], tty: bool, expected: bool
) -> None:
    assert operator_terminal(argv, _Stream(tty)) is expected


def test_the_console_format_is_one_plain_line_with_the_extra_fields() -> None:
    line = ConsoleFormatter().format(_record(destination="s3://b", seconds=42))
    assert line == "WARNING backups: destination a is slow (destination=s3://b, seconds=42)"


def test_the_json_format_keeps_every_field() -> None:
    entry = json.loads(JsonFormatter().format(_record(seconds=42)))
    assert entry["level"] == "WARNING" and entry["logger"] == "backups"
    assert entry["message"] == "destination a is slow" and entry["seconds"] == 42
