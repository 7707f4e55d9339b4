"""Real app processes for tests that must show state shared across app servers (rate limits,
the login lockout): gunicorn on free loopback ports, stopped whatever happens."""

from __future__ import annotations

import socket
import subprocess
import sys
import time
import urllib.request
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import pytest
from django.conf import settings

ROOT = Path(settings.BASE_DIR)


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def wait_until_serving(url: str, process: subprocess.Popen, log: Path) -> None:
    """Until `url` answers (a test fails if the process exits or 20 s pass first)."""
    deadline = time.monotonic() + 20
    while time.monotonic() < deadline:
        if process.poll() is not None:
            pytest.fail(f"{url}: the process exited with {process.returncode}:\n{log.read_text()[-3000:]}")
        try:
            urllib.request.urlopen(url, timeout=2).close()  # noqa: S310 - local
            return
        except OSError:
            time.sleep(0.1)
    pytest.fail(f"{url}: the process did not start:\n{log.read_text()[-3000:]}")


@contextmanager
def app_servers(env: dict[str, str], logs: Path, count: int = 2) -> Iterator[list[str]]:
    """Start `count` gunicorn processes with `env`; yields their base URLs."""
    processes: list[subprocess.Popen] = []
    bases: list[str] = []
    try:
        for n in range(count):
            port = free_port()
            with (logs / f"app{n}.log").open("wb") as out:
                processes.append(
                    subprocess.Popen(
                        [sys.executable, "-m", "gunicorn", "settings.wsgi:application", "--bind", f"127.0.0.1:{port}",
                         "--workers", "1", "--timeout", "20", "--graceful-timeout", "1"],
                        env=env, cwd=ROOT, stdout=out, stderr=subprocess.STDOUT, start_new_session=True,
                    )
                )
            bases.append(f"http://127.0.0.1:{port}")
        for n, (base, process) in enumerate(zip(bases, processes, strict=True)):
            wait_until_serving(f"{base}/.well-known/security.txt", process, logs / f"app{n}.log")
        yield bases
    finally:
        for process in processes:
            process.terminate()
        for process in processes:
            try:
                process.wait(timeout=5)
            except subprocess.TimeoutExpired:
                process.kill()
                process.wait(timeout=5)
