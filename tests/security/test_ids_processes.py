"""Intrusion-detection blocks hold across app processes (C32, ARCHITECTURE "Scale-out"): a
scanner probing one gunicorn process is refused by the other, which shares the cache (one file
cache, or Redis when REDIS_URL is set)."""

from __future__ import annotations

import secrets
import time
from collections.abc import Iterator
from pathlib import Path

import pytest
from django.conf import settings

from tests.app_servers import app_servers
from tests.security.test_ratelimit_processes import _get
from tests.security.test_ratelimit_processes import app_env as _app_env  # noqa: F401

pytestmark = pytest.mark.slow

RECHECK_SECONDS = 1  # the default of IDS_BLOCK_RECHECK_SECONDS, which the servers keep


@pytest.fixture
def ids_env(_app_env: dict[str, str]) -> dict[str, str]:  # noqa: F811
    env = {**_app_env, "IDS_MODE": "block", "CACHE_KEY_PREFIX": f"ids-{secrets.token_hex(4)}"}
    env.pop("IDS_BLOCK_RECHECK_SECONDS", None)
    return env


@pytest.fixture
def two_processes(ids_env: dict[str, str], tmp_path: Path) -> Iterator[list[str]]:
    with app_servers(ids_env, tmp_path) as bases:
        yield bases


def test_a_scanner_blocked_by_one_process_is_refused_by_the_other(
    two_processes: list[str], ids_env: dict[str, str]
) -> None:
    first, second = two_processes
    assert _get(f"{second}/healthz")[0] in (200, 503)  # the second process reads "not blocked"
    assert _get(f"{first}/.env")[0] == 404
    assert _get(f"{first}/wp-login.php")[0] == 403  # the second probe reaches the threshold
    blocked_at = time.monotonic()
    assert _get(f"{first}/healthz")[0] == 403  # at once where it was blocked
    # The other process trusts its reading for IDS_BLOCK_RECHECK_SECONDS (1 s), then refuses.
    while True:
        status, headers, body = _get(f"{second}/healthz")
        if status == 403 or time.monotonic() - blocked_at > RECHECK_SECONDS + 1:
            break
        time.sleep(0.05)
    assert status == 403 and body == b"Forbidden\n"
    assert time.monotonic() - blocked_at <= RECHECK_SECONDS + 1
    if settings.REDIS_URL:
        import redis

        keys = redis.Redis.from_url(settings.REDIS_URL).keys(
            f"{ids_env['CACHE_KEY_PREFIX']}:*ids:block:*"
        )
        assert len(keys) == 1, keys
