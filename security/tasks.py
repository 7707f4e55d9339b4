from __future__ import annotations

from celery import shared_task

from security.health import heartbeat_record


@shared_task(ignore_result=True)
def heartbeat() -> str:
    """Scheduled every minute (settings/schedule.py): records that beat and a worker are alive."""
    return heartbeat_record().isoformat()
