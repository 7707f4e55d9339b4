""".env.example documents every environment variable the settings read, each with a comment
(STYLE.md "Settings"), so a variable added to settings/ without documentation fails here."""

from __future__ import annotations

import re
from pathlib import Path

from django.conf import settings

ROOT = Path(settings.BASE_DIR)
READ = re.compile(r"env_(?:str|bool|int|list|choice|url)\(\s*[\"']([A-Z][A-Z0-9_]*)[\"']")
ASSIGNMENT = re.compile(r"^([A-Z][A-Z0-9_]*)=")


def _variables_read_by_settings() -> set[str]:
    return {
        name
        for path in (ROOT / "settings").glob("*.py")
        for name in READ.findall(path.read_text(encoding="utf-8"))
    }


def _documented() -> dict[str, str]:
    """Variable -> the comment line right above it."""
    lines = (ROOT / ".env.example").read_text(encoding="utf-8").splitlines()
    documented = {}
    for previous, line in zip(["", *lines], lines, strict=False):
        match = ASSIGNMENT.match(line)
        if match:
            documented[match.group(1)] = previous
    return documented


def test_the_settings_read_some_variables() -> None:
    assert {
        "SECRET_KEY",
        "DATABASE_URL",
        "REDIS_URL",
        "ALLOWED_HOSTS",
    } <= _variables_read_by_settings()


def test_env_example_lists_every_variable_the_settings_read() -> None:
    missing = _variables_read_by_settings() - set(_documented())
    assert not missing, f"add to .env.example (with a comment): {sorted(missing)}"


def test_every_variable_in_env_example_has_a_comment() -> None:
    uncommented = [name for name, comment in _documented().items() if not comment.startswith("# ")]
    assert not uncommented


def test_env_example_holds_no_real_secret() -> None:
    documented = (ROOT / ".env.example").read_text(encoding="utf-8").splitlines()
    for line in documented:
        match = ASSIGNMENT.match(line)
        if match and re.search("SECRET|PASSWORD", match.group(1)):
            assert line == f"{match.group(1)}=", f"leave {match.group(1)} empty in the example"
