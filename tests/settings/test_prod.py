"""settings.prod refuses to start on an unsafe configuration (C04), with a message that tells the
operator what to fix, and passes `manage.py check --deploy` with a safe one.

Each case imports the settings in a fresh interpreter with a controlled environment, exactly as a
deployment starts; nothing from the test process's environment leaks in."""

from __future__ import annotations

import os
import secrets
import subprocess
import sys
from pathlib import Path

import pytest
from django.conf import settings

from tests.production import (
    PRODUCTION_BACKUP_ENV,
    PRODUCTION_FIELD_ENCRYPTION_ENV,
    PRODUCTION_LINK_KEY_ENV,
    PRODUCTION_PAYMENTS_ENV,
)

ROOT = Path(settings.BASE_DIR)
# The guards run when the settings module is imported; the full set-up (apps, models) is only
# needed to prove that a safe environment really starts.
LOAD_SETTINGS = "import django; from django.conf import settings; settings.SECRET_KEY"
SETUP = "import django; django.setup()"


@pytest.fixture
def safe_env(tmp_path: Path) -> dict[str, str]:
    return {
        "PATH": os.environ.get("PATH", "/usr/bin:/bin"),
        "HOME": str(tmp_path),
        "PYTHONPATH": str(ROOT),
        "DJANGO_SETTINGS_MODULE": "settings.prod",
        "SECRET_KEY": secrets.token_urlsafe(64),
        "DEBUG": "false",
        "ALLOWED_HOSTS": "booking.example",
        "SITE_URL": "https://booking.example",
        "DATA_DIR": str(tmp_path),
        "LOG_LEVEL": "ERROR",
        **PRODUCTION_BACKUP_ENV,
        **PRODUCTION_PAYMENTS_ENV,
        **PRODUCTION_FIELD_ENCRYPTION_ENV,
        **PRODUCTION_LINK_KEY_ENV,
    }


def _run(args: list[str], env: dict[str, str]) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, *args],
        env=env,
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )


def _without(env: dict[str, str], name: str) -> dict[str, str]:
    return {key: value for key, value in env.items() if key != name}


def test_prod_starts_with_a_safe_environment(safe_env: dict[str, str]) -> None:
    result = _run(["-c", SETUP], safe_env)
    assert result.returncode == 0, result.stderr[-3000:]


@pytest.mark.parametrize(
    ("change", "message"),
    [
        ({"DEBUG": "true"}, "DEBUG must be off in production"),
        ({"SECRET_KEY": None}, "SECRET_KEY must be a real secret"),
        (
            {"SECRET_KEY": "django-insecure-" + secrets.token_urlsafe(64)},
            "SECRET_KEY must be a real secret",
        ),
        ({"SECRET_KEY": "too-short"}, "SECRET_KEY must be a real secret"),
        ({"ALLOWED_HOSTS": None}, "ALLOWED_HOSTS must list the site's host names"),
        ({"ALLOWED_HOSTS": "*"}, "ALLOWED_HOSTS must list the site's host names"),
        ({"FIELD_ENCRYPTION_KEYS": None}, "FIELD_ENCRYPTION_KEYS and FIELD_BLIND_INDEX_KEY are"),
        ({"FIELD_BLIND_INDEX_KEY": None}, "FIELD_ENCRYPTION_KEYS and FIELD_BLIND_INDEX_KEY are"),
        (
            {"FIELD_ENCRYPTION_KEYS": "yJ0bng3zjohL-TsAEK-2WCeXtvjcjOSk0ZTg5UYsc4M="},
            "public development field encryption keys",
        ),
    ],
    ids=[
        "debug-on",
        "secret-key-missing",
        "secret-key-insecure",
        "secret-key-short",
        "hosts-missing",
        "hosts-star",
        "field-keys-missing",
        "blind-index-key-missing",
        "field-keys-development",
    ],
)
def test_prod_refuses_an_unsafe_environment_with_a_clear_message(
    safe_env: dict[str, str], change: dict[str, str | None], message: str
) -> None:
    env = dict(safe_env)
    for name, value in change.items():
        env = _without(env, name) if value is None else {**env, name: value}
    result = _run(["-c", LOAD_SETTINGS], env)
    assert result.returncode != 0
    last_line = result.stderr.strip().splitlines()[-1]
    assert last_line.startswith("django.core.exceptions.ImproperlyConfigured:"), result.stderr[
        -3000:
    ]
    assert message in last_line
    # The refusal names the problem, never the secret it refused.
    if "SECRET_KEY" in change and change["SECRET_KEY"]:
        assert change["SECRET_KEY"] not in result.stderr


def test_check_deploy_reports_no_issues_with_a_safe_environment(safe_env: dict[str, str]) -> None:
    result = _run(["manage.py", "check", "--deploy", "--fail-level", "WARNING"], safe_env)
    output = result.stdout + result.stderr
    assert result.returncode == 0, output
    assert "System check identified no issues" in output, output


def test_check_deploy_fails_while_the_manage_link_key_is_derived_from_secret_key(
    safe_env: dict[str, str],
) -> None:
    result = _run(
        ["manage.py", "check", "--deploy", "--fail-level", "WARNING"],
        _without(safe_env, "MANAGE_LINK_KEY"),
    )
    output = result.stdout + result.stderr
    assert result.returncode != 0
    assert "booking.E001" in output and "MANAGE_LINK_KEY is not set" in output
    assert safe_env["SECRET_KEY"] not in output


def test_the_manage_link_key_comes_from_a_file_too(
    safe_env: dict[str, str], tmp_path: Path
) -> None:
    key_file = tmp_path / "manage-link-key"
    key_file.write_text(safe_env["MANAGE_LINK_KEY"] + "\n", encoding="utf-8")
    env = {**_without(safe_env, "MANAGE_LINK_KEY"), "MANAGE_LINK_KEY_FILE": str(key_file)}
    result = _run(["manage.py", "check", "--deploy", "--fail-level", "WARNING"], env)
    assert result.returncode == 0, result.stdout + result.stderr


def test_field_encryption_keys_come_from_files_too(
    safe_env: dict[str, str], tmp_path: Path
) -> None:
    # The way containers get secrets: a new key in front of an old one, as during a rotation.
    keys, index_key = tmp_path / "field-keys", tmp_path / "blind-index-key"
    keys.write_text(
        "Xh0M6oO4BfN0X1jvA-Yy8yKCB3h4dw1S0sNfB0kZrLQ=,"
        + PRODUCTION_FIELD_ENCRYPTION_ENV["FIELD_ENCRYPTION_KEYS"]
        + "\n",
        encoding="utf-8",
    )
    index_key.write_text(PRODUCTION_FIELD_ENCRYPTION_ENV["FIELD_BLIND_INDEX_KEY"], encoding="utf-8")
    env = {
        **_without(_without(safe_env, "FIELD_ENCRYPTION_KEYS"), "FIELD_BLIND_INDEX_KEY"),
        "FIELD_ENCRYPTION_KEYS_FILE": str(keys),
        "FIELD_BLIND_INDEX_KEY_FILE": str(index_key),
    }
    show = "from django.conf import settings; print(len(settings.FIELD_ENCRYPTION_KEYS))"
    result = _run(["-c", f"{SETUP}; {show}"], env)
    assert result.returncode == 0, result.stderr[-3000:]
    assert result.stdout.strip().splitlines()[-1] == "2"
