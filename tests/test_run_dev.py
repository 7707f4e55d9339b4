"""`make run` (bin/run-dev) for real, in a fresh data folder: every command it runs sees the same
configuration, so nothing warns about payments the stack does configure (the local Stripe
stand-in), and SIGTERM stops everything with status 0."""

from __future__ import annotations

import os
import signal
import socket
import subprocess
import threading
import time
import urllib.request
from pathlib import Path

import pytest
from django.conf import settings

ROOT = Path(settings.BASE_DIR)
START_SECONDS = 240


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


class _Output:
    """Everything the script prints, read on a thread so the pipe never fills."""

    def __init__(self, process: subprocess.Popen[bytes]) -> None:
        self.lines: list[str] = []
        self.thread = threading.Thread(target=self._read, args=(process,), daemon=True)
        self.thread.start()

    def _read(self, process: subprocess.Popen[bytes]) -> None:
        assert process.stdout is not None
        for raw in process.stdout:
            self.lines.append(raw.decode("utf-8", "replace").rstrip("\n"))

    def text(self) -> str:
        return "\n".join(self.lines)


@pytest.mark.slow
def test_make_run_starts_without_false_warnings_and_stops_cleanly(tmp_path: Path) -> None:
    port = _free_port()
    env = {
        "PATH": os.environ.get("PATH", "/usr/bin:/bin"),
        "HOME": str(tmp_path),
        "DATA_DIR": str(tmp_path / "var"),
        "RUN_ADDR": f"127.0.0.1:{port}",
        "STRIPE_STANDIN_PORT": str(_free_port()),
        "DEMO_ADMIN_PASSWORD": "a demo admin passphrase",
        "DEMO_PARTNER_PASSWORD": "a demo owner passphrase",
    }
    process = subprocess.Popen(
        ["bin/run-dev"],
        cwd=ROOT,
        env=env,
        stdin=subprocess.DEVNULL,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        start_new_session=True,
    )
    output = _Output(process)
    try:
        deadline = time.monotonic() + START_SECONDS
        while time.monotonic() < deadline and process.poll() is None:
            try:
                with urllib.request.urlopen(f"http://127.0.0.1:{port}/healthz", timeout=5) as r:
                    if r.status == 200:
                        break
            except OSError:
                time.sleep(1)
        else:
            pytest.fail(f"make run did not come up; it printed:\n{output.text()[-5000:]}")

        process.send_signal(signal.SIGTERM)
        status = process.wait(timeout=60)
    finally:
        if process.poll() is None:
            os.killpg(process.pid, signal.SIGKILL)
            process.wait()
    output.thread.join(timeout=10)
    text = output.text()

    assert status == 0, text[-5000:]
    assert "payments.W001" not in text, text[-5000:]
    assert "run-dev: payments: local Stripe stand-in" in text
    assert "run-dev: stopped" in text
    # demo_data's closing line names the server that runs, not a default address.
    assert f"Log in at http://127.0.0.1:{port}/admin/" in text
