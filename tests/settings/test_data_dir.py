"""DATA_DIR, the embedded default's local state, is created when it is used: any manage.py command
works in a fresh clone, before `make run` has ever run."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest
from django.conf import settings

ROOT = Path(settings.BASE_DIR)


def _manage(args: list[str], data_dir: Path, **extra: str) -> subprocess.CompletedProcess[str]:
    env = {
        "PATH": os.environ.get("PATH", "/usr/bin:/bin"),
        "HOME": str(data_dir.parent),
        "DJANGO_SETTINGS_MODULE": "settings.dev",
        "DATA_DIR": str(data_dir),
        "LOG_LEVEL": "WARNING",
        **extra,
    }
    return subprocess.run(
        [sys.executable, "manage.py", *args],
        env=env,
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=300,
        check=False,
    )


@pytest.mark.slow
def test_migrate_works_when_data_dir_does_not_exist_yet(tmp_path: Path) -> None:
    data_dir = tmp_path / "fresh-clone" / "var"

    result = _manage(["migrate", "--noinput", "-v0"], data_dir)

    assert result.returncode == 0, result.stderr[-3000:]
    assert (data_dir / "db.sqlite3").is_file()
    for folder in ("cache", "celery/queue", "celery/processed", "celery/control", "mail"):
        assert (data_dir / folder).is_dir(), folder


def test_with_postgres_and_redis_configured_nothing_local_is_created(tmp_path: Path) -> None:
    data_dir = tmp_path / "server" / "var"

    result = _manage(
        ["check", "--tag", "urls"],
        data_dir,
        DATABASE_URL="postgres://nobody@127.0.0.1:9/none",
        REDIS_URL="redis://127.0.0.1:9/0",
        EMAIL_BACKEND="smtp",
    )

    assert result.returncode == 0, result.stderr[-3000:]
    assert not data_dir.exists()


def test_a_data_dir_that_cannot_be_created_is_a_clear_error(tmp_path: Path) -> None:
    blocker = tmp_path / "a-file"
    blocker.write_text("not a folder")

    result = _manage(["check"], blocker / "var")

    assert result.returncode != 0
    last_line = result.stderr.strip().splitlines()[-1]
    assert last_line.startswith("django.core.exceptions.ImproperlyConfigured: DATA_DIR"), (
        result.stderr[-3000:]
    )
