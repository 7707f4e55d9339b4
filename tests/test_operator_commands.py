"""Every operator command (manage.py) explains itself in --help, and those that report data
offer --json with the shape of their machine output documented there."""

from __future__ import annotations

import pytest
from django.core.management import get_commands, load_command_class

from security.operator_output import OperatorCommand

OPERATOR_APPS = {"accounts", "security", "backups"}
OPERATOR_COMMANDS = sorted(
    {name for name, app in get_commands().items() if app in OPERATOR_APPS} | {"demo_data"}
)
REPORTS_DATA = {
    "access_review",
    "axes_reset_ip",
    "backup",
    "backup_list",
    "backup_purge",
    "backup_verify",
    "compliance_report",
    "encryption_rotate",
    "ids_unblock",
    "integrity_baseline",
    "mfa_reset",
    "security_events",
}


def test_the_operator_commands_are_the_expected_ones() -> None:
    assert REPORTS_DATA < set(OPERATOR_COMMANDS)
    assert {"backup_restore", "demo_data"} < set(OPERATOR_COMMANDS)


@pytest.mark.parametrize("name", OPERATOR_COMMANDS)
def test_every_operator_command_has_readable_help(name: str) -> None:
    command = load_command_class(get_commands()[name], name)
    assert isinstance(command, OperatorCommand)

    # argparse wraps lines: compare words, not layout.
    text = " ".join(command.create_parser("manage.py", name).format_help().split())

    assert len(str(command.help)) > 40 and str(command.help).split()[0] in text
    assert ("--json" in text) is (name in REPORTS_DATA)
    if name in REPORTS_DATA:
        assert "one document" in text or "one JSON object per" in text
