"""File integrity (C32): `manage.py integrity_baseline` records the deployed files' hashes; the
hourly check alerts once when a file is changed, added or removed (what a malware scanner on
the host would catch first), and once when the files match again; C32 fails meanwhile."""

from __future__ import annotations

import json
from io import StringIO
from pathlib import Path

import pytest
from django.core import mail
from django.core.management import CommandError, call_command

from security.compliance import Status, evaluate
from security.integrity import integrity_check
from security.models import SecurityEvent

pytestmark = pytest.mark.django_db


@pytest.fixture
def deployed(settings, tmp_path: Path) -> Path:
    code = tmp_path / "app"
    (code / "security").mkdir(parents=True)
    (code / "security" / "views.py").write_text("def view(): return 'ok'\n")
    (code / "security" / "__pycache__").mkdir()
    (code / "security" / "__pycache__" / "views.cpython-311.pyc").write_bytes(b"\x00")
    static = tmp_path / "static"
    static.mkdir()
    (static / "widget.js").write_text("console.log('widget');\n")
    settings.INTEGRITY_PATHS = [str(code), str(static), str(tmp_path / "missing")]
    settings.ADMINS = [("Operators", "ops@booking.example")]
    settings.IDS_MODE = "block"  # C32's other half, so the findings here are integrity's alone
    return tmp_path


def _alerts() -> list[str]:
    return [m.subject for m in mail.outbox if "[integrity]" in m.subject]


def test_the_baseline_records_every_file_but_byte_code(deployed) -> None:
    out = StringIO()
    call_command("integrity_baseline", "--json", stdout=out)
    document = json.loads(out.getvalue())
    assert document["files"] == 2
    event = SecurityEvent.objects.get(event_type="integrity_baseline")
    assert event.detail == {
        "files": 2,
        "digest": document["digest"],
        "actor_kind": "system",
        "via": "command",
        "job": "integrity_baseline",
    }


def test_a_changed_file_is_alerted_once_and_fails_c32(deployed) -> None:
    call_command("integrity_baseline", stdout=StringIO())
    assert integrity_check().ok and _alerts() == []
    assert "no file integrity" not in evaluate(["C32"])[0].reason

    (deployed / "app" / "security" / "views.py").write_text("import os; os.system('nc -e sh')\n")
    integrity_check()
    integrity_check()

    assert _alerts() == [
        "[Django] [integrity] deployed files differ from the baseline: 1 changed, 0 added, 0 removed"
    ]
    assert str(deployed / "app" / "security" / "views.py") in mail.outbox[-1].body
    result = evaluate(["C32"])[0]
    assert result.status == Status.FAIL and "1 changed" in result.reason


def test_a_new_difference_is_alerted_again_and_the_repair_once(deployed) -> None:
    call_command("integrity_baseline", stdout=StringIO())
    dropped = deployed / "static" / "shell.php"
    dropped.write_text("<?php system($_GET['c']);")
    integrity_check()
    (deployed / "static" / "widget.js").unlink()
    integrity_check()
    dropped.unlink()
    (deployed / "static" / "widget.js").write_text("console.log('widget');\n")
    integrity_check()
    integrity_check()
    assert _alerts() == [
        "[Django] [integrity] deployed files differ from the baseline: 0 changed, 1 added, 0 removed",
        "[Django] [integrity] deployed files differ from the baseline: 0 changed, 1 added, 1 removed",
        "[Django] [integrity] deployed files match the baseline again",
    ]
    assert evaluate(["C32"])[0].status == Status.PASS


def test_without_a_baseline_c32_warns_and_the_check_waits(deployed) -> None:
    assert integrity_check() is None
    result = evaluate(["C32"])[0]
    assert result.status == Status.WARN and "integrity_baseline" in result.reason


def test_the_command_compares_on_demand(deployed) -> None:
    call_command("integrity_baseline", stdout=StringIO())
    out = StringIO()
    call_command("integrity_baseline", "--check", stdout=out)
    assert out.getvalue().startswith("All 2 files match baseline")
    (deployed / "static" / "widget.js").write_text("tampered")
    out = StringIO()
    with pytest.raises(CommandError, match="Files differ from baseline"):
        call_command("integrity_baseline", "--check", stdout=out)
    assert out.getvalue() == f"changed: {deployed / 'static' / 'widget.js'}\n"


def test_check_without_a_baseline_is_a_clear_error(deployed) -> None:
    with pytest.raises(CommandError, match="No baseline yet"):
        call_command("integrity_baseline", "--check", stdout=StringIO())
