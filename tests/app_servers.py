"""Real app processes for tests that act as an attacker over real HTTP, or must show state shared
across app servers (rate limits, the login lockout, MFA): gunicorn on free loopback ports,
stopped whatever happens; a scratch database they share; and a cookie-keeping HTTP visitor."""

from __future__ import annotations

import http.cookiejar
import os
import secrets
import socket
import subprocess
import sys
import time
import urllib.error
import urllib.parse
import urllib.request
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import pytest
from django.conf import settings
from django.db import connection

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
            pytest.fail(
                f"{url}: the process exited with {process.returncode}:\n{log.read_text()[-3000:]}"
            )
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
                        [
                            sys.executable,
                            "-m",
                            "gunicorn",
                            "settings.wsgi:application",
                            "--bind",
                            f"127.0.0.1:{port}",
                            "--workers",
                            "1",
                            "--timeout",
                            "20",
                            "--graceful-timeout",
                            "1",
                        ],
                        env=env,
                        cwd=ROOT,
                        stdout=out,
                        stderr=subprocess.STDOUT,
                        start_new_session=True,
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


@contextmanager
def scratch_database_url(tmp_path: Path, label: str) -> Iterator[str]:
    """A database for the app processes: a SQLite file on the SQLite pass, a scratch database on
    the same PostgreSQL server (dropped afterwards) on the PostgreSQL pass."""
    if connection.vendor != "postgresql":
        yield f"sqlite:///{tmp_path / 'db.sqlite3'}"
        return
    import psycopg

    live = connection.settings_dict
    name = f"{live['NAME']}_{label}_{secrets.token_hex(3)}"
    params = {
        "host": live["HOST"] or "127.0.0.1",
        "port": live["PORT"] or 5432,
        "user": live["USER"],
        "password": live["PASSWORD"] or None,
    }
    # The server's maintenance database: the test database may not exist yet when this runs alone.
    with psycopg.connect(dbname="postgres", autocommit=True, **params) as conn:
        conn.execute(f'CREATE DATABASE "{name}"')
    try:
        password = f":{urllib.parse.quote(live['PASSWORD'])}" if live["PASSWORD"] else ""
        yield f"postgres://{live['USER']}{password}@{params['host']}:{params['port']}/{name}"
    finally:
        with psycopg.connect(dbname="postgres", autocommit=True, **params) as conn:
            conn.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


def app_environment(tmp_path: Path, database_url: str, *, label: str, setup: str) -> dict[str, str]:
    """The app processes' environment, with the database migrated and `setup` (Python run by
    `manage.py shell`) done: e.g. the accounts under attack."""
    env = {
        **os.environ,
        "DJANGO_SETTINGS_MODULE": "settings.test",
        "PYTHONPATH": str(ROOT),
        "DATA_DIR": str(tmp_path / "data"),
        "DATABASE_URL": database_url,
        "CACHE_KEY_PREFIX": f"{label}-{secrets.token_hex(4)}",
        "TRUSTED_PROXIES": "",
        "TRUSTED_PROXY_COUNT": "0",
        "LOG_LEVEL": "WARNING",
    }
    run_in_app(
        env,
        "from django.core.management import call_command; call_command('migrate', verbosity=0)\n"
        + setup,
    )
    return env


def run_in_app(env: dict[str, str], script: str) -> str:
    """Run Python in the app's environment (its database); returns what it printed."""
    done = subprocess.run(
        [sys.executable, "manage.py", "shell", "-v", "0", "-c", script],
        env=env,
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert done.returncode == 0, done.stderr[-3000:]
    return done.stdout


class _NoRedirect(urllib.request.HTTPRedirectHandler):
    def redirect_request(self, *args, **kwargs):  # the redirect itself is the answer to look at
        return None


class Visitor:
    """One client with its own cookies (session, CSRF), as a browser keeps them; redirects are
    returned, not followed. Answers are (status, headers, body)."""

    def __init__(self) -> None:
        self.cookies = http.cookiejar.CookieJar()
        self.opener = urllib.request.build_opener(
            urllib.request.HTTPCookieProcessor(self.cookies), _NoRedirect()
        )

    def request(
        self,
        method: str,
        url: str,
        data: dict[str, str] | None = None,
        headers: dict[str, str] | None = None,
    ) -> tuple[int, dict[str, str], str]:
        body = urllib.parse.urlencode(data).encode() if data is not None else None
        origin = "{0.scheme}://{0.netloc}".format(urllib.parse.urlsplit(url))
        request = urllib.request.Request(  # noqa: S310 - local test server
            url, data=body, method=method, headers={"Referer": f"{origin}/", **(headers or {})}
        )
        try:
            with self.opener.open(request, timeout=10) as response:
                return response.status, dict(response.headers), response.read().decode()
        except urllib.error.HTTPError as error:
            return error.code, dict(error.headers), error.read().decode()

    def get(self, url: str, **headers: str) -> tuple[int, dict[str, str], str]:
        return self.request("GET", url, headers=headers)

    def post(
        self, url: str, data: dict[str, str], **headers: str
    ) -> tuple[int, dict[str, str], str]:
        """A form POST carrying the CSRF token from this visitor's cookie, as the form would."""
        return self.request(
            "POST", url, {"csrfmiddlewaretoken": self.csrf_token(), **data}, headers
        )

    def csrf_token(self) -> str:
        return next((c.value for c in self.cookies if c.name == settings.CSRF_COOKIE_NAME), "")

    def login(self, base: str, email: str, password: str) -> tuple[int, dict[str, str], str]:
        """The admin login form: fetched first (for its CSRF cookie), then posted."""
        self.get(f"{base}/admin/login/")
        return self.post(
            f"{base}/admin/login/", {"username": email, "password": password, "next": "/admin/"}
        )
