"""Shared test set-up.

Tests marked `postgres` need the database to be PostgreSQL and tests marked `redis` need
REDIS_URL: in a run configured otherwise (the SQLite pass) they are deselected, not skipped,
because .ci/run's PostgreSQL + Redis pass runs them. When the run IS configured for them and the
server does not answer, they fail: under CI a missing service is never a skip.
"""

from __future__ import annotations

import os

import pytest
from django.conf import settings


def _is_postgres() -> bool:
    return settings.DATABASES["default"]["ENGINE"] == "django.db.backends.postgresql"


def pytest_collection_modifyitems(config: pytest.Config, items: list[pytest.Item]) -> None:
    keep, drop = [], []
    for item in items:
        if (item.get_closest_marker("postgres") and not _is_postgres()) or (
            item.get_closest_marker("redis") and not settings.REDIS_URL
        ):
            drop.append(item)
        else:
            keep.append(item)
    if drop:
        config.hook.pytest_deselected(items=drop)
        items[:] = keep


def pytest_report_header(config: pytest.Config) -> list[str]:
    engine = "PostgreSQL" if _is_postgres() else "SQLite"
    return [
        f"booking: database={engine} redis={'yes' if settings.REDIS_URL else 'no'} "
        f"CI={os.environ.get('CI', '')!r} (postgres/redis-marked tests run only when configured)"
    ]


@pytest.fixture(autouse=True)
def _clean_cache() -> None:
    # The cache is shared (files or Redis), so a test must not see another test's counters.
    from django.core.cache import cache

    cache.clear()
