"""C11 across app servers, as the attacker over real HTTP: two gunicorn processes share one
database (a SQLite file on the SQLite pass, a scratch database on the same PostgreSQL server on
the PostgreSQL pass). Failures spread over both lock the address on both: the 4th attempt is
refused by either process, with the correct password, and the attacker never gets in."""

from __future__ import annotations

import http.cookiejar
import os
import re
import secrets
import subprocess
import sys
import urllib.error
import urllib.parse
import urllib.request
from collections.abc import Iterator
from pathlib import Path

import pytest
from django.conf import settings
from django.db import connection

from tests.app_servers import app_servers

pytestmark = pytest.mark.slow

ROOT = Path(settings.BASE_DIR)
EMAIL = "owner@example.com"
PASSWORD = "the real passphrase 2026"  # noqa: S105



@pytest.fixture
def database_url(tmp_path: Path) -> Iterator[str]:
    if connection.vendor != "postgresql":
        yield f"sqlite:///{tmp_path / 'db.sqlite3'}"
        return
    import psycopg

    live = connection.settings_dict
    name = f"{live['NAME']}_lockout_{secrets.token_hex(3)}"
    params = {"host": live["HOST"] or "127.0.0.1", "port": live["PORT"] or 5432, "user": live["USER"], "password": live["PASSWORD"] or None}
    # The server's maintenance database: the test database may not exist yet when this runs alone.
    with psycopg.connect(dbname="postgres", autocommit=True, **params) as conn:
        conn.execute(f'CREATE DATABASE "{name}"')
    try:
        password = f":{urllib.parse.quote(live['PASSWORD'])}" if live["PASSWORD"] else ""
        yield f"postgres://{live['USER']}{password}@{params['host']}:{params['port']}/{name}"
    finally:
        with psycopg.connect(dbname="postgres", autocommit=True, **params) as conn:
            conn.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


@pytest.fixture
def app_env(tmp_path: Path, database_url: str) -> dict[str, str]:
    env = {
        **os.environ,
        "DJANGO_SETTINGS_MODULE": "settings.test",
        "PYTHONPATH": str(ROOT),
        "DATA_DIR": str(tmp_path / "data"),
        "DATABASE_URL": database_url,
        "CACHE_KEY_PREFIX": f"lockout-processes-{secrets.token_hex(4)}",
        "TRUSTED_PROXIES": "",
        "TRUSTED_PROXY_COUNT": "0",
        "LOG_LEVEL": "WARNING",
    }
    script = (
        "from django.core.management import call_command; call_command('migrate', verbosity=0); "
        "from django.contrib.auth import get_user_model; "
        f"get_user_model().objects.create_user({EMAIL!r}, {PASSWORD!r}, is_staff=True)"
    )
    setup = subprocess.run(
        [sys.executable, "manage.py", "shell", "-c", script], env=env, cwd=ROOT, capture_output=True, text=True, timeout=120
    )
    assert setup.returncode == 0, setup.stderr[-3000:]
    return env


@pytest.fixture
def two_processes(app_env: dict[str, str], tmp_path: Path) -> Iterator[list[str]]:
    with app_servers(app_env, tmp_path) as bases:
        yield bases


class Browser:
    """One attacker: cookies (CSRF) kept per server, as a browser would."""

    def __init__(self) -> None:
        self.opener = urllib.request.build_opener(
            urllib.request.HTTPCookieProcessor(http.cookiejar.CookieJar()), _NoRedirect()
        )

    def login(self, base: str, password: str) -> tuple[int, str]:
        page = self.opener.open(f"{base}/admin/login/", timeout=10).read().decode()
        token = re.search(r'name="csrfmiddlewaretoken" value="([^"]+)"', page).group(1)
        data = urllib.parse.urlencode({"csrfmiddlewaretoken": token, "username": EMAIL, "password": password, "next": "/admin/"})
        request = urllib.request.Request(f"{base}/admin/login/", data=data.encode(), headers={"Referer": f"{base}/admin/login/"})  # noqa: S310
        try:
            with self.opener.open(request, timeout=10) as response:
                return response.status, response.read().decode()
        except urllib.error.HTTPError as error:
            return error.code, error.read().decode()


class _NoRedirect(urllib.request.HTTPRedirectHandler):
    def redirect_request(self, *args, **kwargs):  # a 302 after login is the answer we want to see
        return None


def test_lockout_holds_across_two_app_processes(two_processes: list[str]) -> None:
    first, second = two_processes
    attacker = Browser()
    # A scripted brute force alternating between the servers; the real password is in the list.
    wordlist = ["wrong guess one", "wrong guess two", "wrong guess three", PASSWORD, PASSWORD]
    results = [attacker.login((first, second)[n % 2], guess) for n, guess in enumerate(wordlist)]

    statuses = [status for status, _ in results]
    assert statuses == [200, 200, 429, 429, 429]  # failures on both processes add up to the lock
    # Attempt 4 went to the second process, attempt 5 to the first: both refuse the right password.
    assert all("locked" in body for _, body in results[2:])
    assert 302 not in statuses  # the password was never found
