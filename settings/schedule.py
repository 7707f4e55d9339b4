"""Every periodic job of the platform, in one place (Celery beat reads it through settings).

Each entry says in words when it runs. Jobs are safe to run twice; beat does not catch up on
runs missed while it was down, so jobs that must not be skipped check freshness themselves.
"""

from __future__ import annotations

BEAT_SCHEDULE: dict[str, dict[str, object]] = {
    # Every minute: proves beat and a worker are alive; /healthz reports its age.
    "worker-heartbeat": {
        "task": "security.tasks.heartbeat",
        "schedule": 60.0,
        "options": {"expires": 55},
    },
}
