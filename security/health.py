"""Component checks behind /healthz (C01). Failures are logged here, never shown to clients."""

from __future__ import annotations

import logging
import threading
import time
import uuid
from collections.abc import Callable
from datetime import datetime

from celery import current_app
from django.conf import settings
from django.core.cache import cache
from django.db import connection
from django.utils import timezone

logger = logging.getLogger(__name__)

HEARTBEAT_KEY = "health:worker-heartbeat"
# The URL path of the health check: routed in security.urls, answered early by
# security.middleware.HealthCheckMiddleware.
HEALTHZ_PATH = "/healthz"


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


class BrokerDown(RuntimeError):
    """The broker's last check (at most HEALTHZ_BROKER_CHECK_SECONDS ago) failed."""


# Per process: broker URL -> (time of the check, its failure or None). Keyed by the URL so a
# changed configuration is checked afresh; guarded so parallel requests share one check.
_broker_answers: dict[str, tuple[float, BaseException | None]] = {}
_broker_lock = threading.Lock()


def _broker_connect() -> None:
    with current_app.connection_for_write() as conn:
        conn.ensure_connection(max_retries=1, timeout=2)


def _broker() -> None:
    url = str(current_app.conf.broker_url)
    with _broker_lock:
        now = time.time()
        answer = _broker_answers.get(url)
        # A clock set back makes the age negative: check again rather than trust the old answer.
        if answer is None or not 0 <= now - answer[0] < settings.HEALTHZ_BROKER_CHECK_SECONDS:
            try:
                _broker_connect()
            except Exception as exc:
                answer = (now, exc)
            else:
                answer = (now, None)
            _broker_answers[url] = answer
    if answer[1] is not None:
        raise BrokerDown(f"broker check at {answer[0]:.0f} failed") from answer[1]


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
