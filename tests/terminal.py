"""Runs manage.py as an operator would: in a fresh interpreter, with its output on a real
terminal (a pseudo-terminal) or on pipes, against a database of the test's own."""

from __future__ import annotations

import os
import pty
import re
import subprocess
import sys
from pathlib import Path

from django.conf import settings

ROOT = Path(settings.BASE_DIR)
# Colours and other terminal control sequences: not what a person reads.
_CONTROL = re.compile(r"\x1b\[[0-9;]*[A-Za-z]")


def operator_env(data_dir: Path, **extra: str) -> dict[str, str]:
    """settings.dev on SQLite and the embedded broker under `data_dir`; nothing else leaks in."""
    return {
        "PATH": os.environ.get("PATH", "/usr/bin:/bin"),
        "HOME": str(data_dir),
        "DJANGO_SETTINGS_MODULE": "settings.dev",
        "DATA_DIR": str(data_dir),
        "TERM": "dumb",
        **extra,
    }


def on_pipes(args: list[str], env: dict[str, str]) -> subprocess.CompletedProcess[str]:
    """stdout and stderr on pipes, as under cron, CI or a log collector."""
    return subprocess.run(
        [sys.executable, "manage.py", *args],
        env=env,
        cwd=ROOT,
        stdin=subprocess.DEVNULL,
        capture_output=True,
        text=True,
        timeout=300,
        check=False,
    )


def on_terminal(args: list[str], env: dict[str, str]) -> tuple[int, str]:
    """stdout and stderr on one pseudo-terminal, as a person at a shell sees them: returns the
    exit status and the text that appeared on the screen, in order (colours removed)."""
    controller, terminal = pty.openpty()
    process = subprocess.Popen(
        [sys.executable, "manage.py", *args],
        env=env,
        cwd=ROOT,
        stdin=subprocess.DEVNULL,
        stdout=terminal,
        stderr=terminal,
    )
    os.close(terminal)
    chunks = []
    while True:
        try:
            chunk = os.read(controller, 65536)
        except OSError:  # EIO: the process closed its side of the terminal
            break
        if not chunk:
            break
        chunks.append(chunk)
    os.close(controller)
    status = process.wait(timeout=300)
    screen = b"".join(chunks).decode("utf-8", "replace").replace("\r\n", "\n")
    return status, _CONTROL.sub("", screen)
