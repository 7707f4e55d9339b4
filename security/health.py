"""Component checks behind /healthz (C01). Failures are logged here, never shown to clients."""

from __future__ import annotations

import logging
import uuid
from collections.abc import Callable
from datetime import datetime

from celery import current_app
from django.core.cache import cache
from django.db import connection
from django.utils import timezone

logger = logging.getLogger(__name__)

HEARTBEAT_KEY = "health:worker-heartbeat"


def _database() -> None:
    with connection.cursor() as cursor:
        cursor.execute("SELECT 1")
        cursor.fetchone()


def _cache() -> None:
    key = f"health:probe:{uuid.uuid4().hex}"
    cache.set(key, "1", timeout=10)
    if cache.get(key) != "1":
        raise RuntimeError("cache did not return the value just written")
    cache.delete(key)


def _broker() -> None:
    with current_app.connection_for_write() as conn:
        conn.ensure_connection(max_retries=1, timeout=2)


CHECKS: dict[str, Callable[[], None]] = {"database": _database, "cache": _cache, "broker": _broker}


def run_checks() -> dict[str, str]:
    results: dict[str, str] = {}
    for name, check in CHECKS.items():
        try:
            check()
        except Exception:  # any failure means "down"; the detail goes to the log only
            logger.warning("health check failed", extra={"component": name}, exc_info=True)
            results[name] = "down"
        else:
            results[name] = "ok"
    return results


def heartbeat_record() -> datetime:
    now = timezone.now()
    cache.set(HEARTBEAT_KEY, now.isoformat(), timeout=None)
    return now


def heartbeat_age_seconds() -> int | None:
    try:
        raw = cache.get(HEARTBEAT_KEY)
    except Exception:
        return None
    if not raw:
        return None
    return max(0, int((timezone.now() - datetime.fromisoformat(raw)).total_seconds()))
