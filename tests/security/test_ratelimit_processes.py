"""Rate limits hold across app processes (C01, ARCHITECTURE "Scale-out"): two real gunicorn
processes share the cache (the file cache in one DATA_DIR, or Redis when REDIS_URL is set), so a
client alternating between them is refused at the same count as with one process (a limit this
small is counted hit by hit; larger ones in claims, tests/security/test_ratelimit.py)."""

from __future__ import annotations

import os
import secrets
import subprocess
import sys
import time
import urllib.error
import urllib.request
from collections.abc import Iterator
from pathlib import Path

import pytest
from django.conf import settings

from tests.app_servers import app_servers

pytestmark = pytest.mark.slow

ROOT = Path(settings.BASE_DIR)
LIMIT = 4


def _get(url: str) -> tuple[int, dict[str, str], bytes]:
    request = urllib.request.Request(url, headers={"Accept": "application/json"})  # noqa: S310 - local test server
    try:
        with urllib.request.urlopen(request, timeout=10) as response:  # noqa: S310 - local test server
            return response.status, dict(response.headers), response.read()
    except urllib.error.HTTPError as error:
        return error.code, dict(error.headers), error.read()


@pytest.fixture
def app_env(tmp_path: Path) -> dict[str, str]:
    env = {
        **os.environ,
        "DJANGO_SETTINGS_MODULE": "settings.test",
        "PYTHONPATH": str(ROOT),
        "DATA_DIR": str(tmp_path / "data"),  # one DATA_DIR: one file cache for both processes
        "DATABASE_URL": f"sqlite:///{tmp_path / 'db.sqlite3'}",
        "RATE_LIMIT_MANAGE": f"{LIMIT}/h",
        "CACHE_KEY_PREFIX": f"rl-processes-{secrets.token_hex(4)}",  # isolates the Redis pass
        "TRUSTED_PROXIES": "",
        "TRUSTED_PROXY_COUNT": "0",
        "LOG_LEVEL": "WARNING",
    }
    migrate = subprocess.run(
        [sys.executable, "manage.py", "migrate", "--noinput", "-v", "0"],
        env=env,
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert migrate.returncode == 0, migrate.stderr[-3000:]
    return env


@pytest.fixture
def two_processes(app_env: dict[str, str], tmp_path: Path) -> Iterator[list[str]]:
    with app_servers(app_env, tmp_path) as bases:
        yield bases


def _not_near_a_window_edge() -> None:
    # The limit is per hour in a fixed window; do not start the burst just before the hour ends.
    left = 3600 - time.time() % 3600
    if left < 15:
        time.sleep(left + 0.5)


def test_limit_is_shared_by_two_app_processes(
    two_processes: list[str], app_env: dict[str, str]
) -> None:
    first, second = two_processes
    _not_near_a_window_edge()
    results = []
    for n in range(LIMIT + 2):
        base = (first, second)[n % 2]
        status, headers, body = _get(f"{base}/manage/{secrets.token_urlsafe(24)}/")
        results.append((base, status, headers.get("Retry-After")))
    statuses = [status for _, status, _ in results]
    # Four requests, two per process, are served (404: no such booking); the fifth is refused by
    # whichever process gets it, and so is the sixth by the other one.
    assert statuses == [404, 404, 404, 404, 429, 429], results
    assert results[4][0] == first and results[5][0] == second
    assert all(retry and int(retry) > 0 for _, status, retry in results if status == 429)

    if settings.REDIS_URL:
        # The Redis pass: the shared counter really is in Redis, not in the file cache.
        import redis

        keys = redis.Redis.from_url(settings.REDIS_URL).keys(
            f"{app_env['CACHE_KEY_PREFIX']}:*rl:manage:*"
        )
        assert len(keys) == 1, keys
