"""Where mail goes by default: files under DATA_DIR/mail in development (make run), memory in
tests, and in production what EMAIL_BACKEND says (smtp), as before."""

from __future__ import annotations

import os
import secrets
import subprocess
import sys
from pathlib import Path

from django.conf import settings

from tests.production import (
    PRODUCTION_BACKUP_ENV,
    PRODUCTION_FIELD_ENCRYPTION_ENV,
    PRODUCTION_PAYMENTS_ENV,
)

ROOT = Path(settings.BASE_DIR)
PRINT = "from django.conf import settings; print(settings.EMAIL_BACKEND, settings.EMAIL_FILE_PATH)"


def _settings(module: str, tmp_path: Path, **extra: str) -> list[str]:
    env = {
        "PATH": os.environ.get("PATH", "/usr/bin:/bin"),
        "PYTHONPATH": str(ROOT),
        "DJANGO_SETTINGS_MODULE": module,
        "DATA_DIR": str(tmp_path),
        **extra,
    }
    result = subprocess.run(
        [sys.executable, "-c", PRINT],
        env=env,
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=60,
        check=True,
    )
    return result.stdout.split()


def test_development_writes_mail_to_files_under_data_dir(tmp_path: Path) -> None:
    assert _settings("settings.dev", tmp_path) == [
        "security.mail.FileBackend",
        str(tmp_path / "mail"),
    ]


def test_an_empty_email_backend_still_means_files_in_development(tmp_path: Path) -> None:
    backend, _ = _settings("settings.dev", tmp_path, EMAIL_BACKEND="")
    assert backend == "security.mail.FileBackend"


def test_development_can_still_choose_the_console(tmp_path: Path) -> None:
    backend, _ = _settings("settings.dev", tmp_path, EMAIL_BACKEND="console")
    assert backend == "django.core.mail.backends.console.EmailBackend"


def test_production_sends_through_smtp_as_configured(tmp_path: Path) -> None:
    backend, _ = _settings(
        "settings.prod",
        tmp_path,
        SECRET_KEY=secrets.token_urlsafe(64),
        ALLOWED_HOSTS="booking.example",
        EMAIL_BACKEND="smtp",
        **PRODUCTION_BACKUP_ENV,
        **PRODUCTION_PAYMENTS_ENV,
        **PRODUCTION_FIELD_ENCRYPTION_ENV,
    )
    assert backend == "django.core.mail.backends.smtp.EmailBackend"


def test_tests_keep_mail_in_memory() -> None:
    assert settings.EMAIL_BACKEND == "django.core.mail.backends.locmem.EmailBackend"
