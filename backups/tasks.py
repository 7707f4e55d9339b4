"""Scheduled backup jobs (settings/schedule.py). Thin: each calls one service. Every job is safe
to run twice: a job that finds another one holding the lock skips (the running one does the
work), except the daily verification, which tries again later rather than skip a day."""

from __future__ import annotations

import logging
from collections.abc import Callable
from typing import Any, TypedDict, TypeVar

from celery import shared_task

from backups import services

logger = logging.getLogger("backups")
T = TypeVar("T")


class _Limits(TypedDict):
    soft_time_limit: int
    time_limit: int
    ignore_result: bool


# Backups of a large database outlast the global 5-minute task limit.
LIMITS: _Limits = {"soft_time_limit": 3 * 3600, "time_limit": 3 * 3600 + 300, "ignore_result": True}
# The daily verification waits this long for a running job to finish, this many times.
VERIFY_RETRY_SECONDS, VERIFY_RETRIES = 600, 12


def _skip_if_locked(job: Callable[[], T]) -> T | None:
    try:
        return job()
    except services.BackupLocked:
        logger.info(
            "backup job skipped: another one holds the lock", extra={"event": "backup_skipped"}
        )
        return None


@shared_task(**LIMITS)
def backup_run() -> str | None:
    result = _skip_if_locked(services.backup_run)
    return result.backup_id if result else None


@shared_task(**LIMITS)
def ensure_fresh() -> None:
    services.ensure_fresh()


@shared_task(**LIMITS)
def offline_copy() -> str | None:
    return _skip_if_locked(services.offline_copy)


@shared_task(**LIMITS)
def backup_purge() -> bool | None:
    """Failures were alerted by the service as they happened; the next hourly run retries."""
    result = _skip_if_locked(services.backup_purge)
    return None if result is None else not result.failed


@shared_task(**LIMITS)
def backup_drill() -> bool:
    return services.backup_drill().ok


@shared_task(bind=True, max_retries=VERIFY_RETRIES, **LIMITS)
def backup_verify_scheduled(self: Any) -> int:
    """Returns how many copies did not verify (each alerted by the service)."""
    try:
        checks = services.backup_verify_scheduled()
    except services.BackupLocked as exc:
        raise self.retry(exc=exc, countdown=VERIFY_RETRY_SECONDS) from exc
    return sum(not c.ok for c in checks)
