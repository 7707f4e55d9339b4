"""Every periodic job of the platform, in one place (Celery beat reads it through settings).

Each entry says in words when it runs. Jobs are safe to run twice; beat does not catch up on
runs missed while it was down, so jobs that must not be skipped check freshness themselves.
"""

from __future__ import annotations

from celery.schedules import crontab

BEAT_SCHEDULE: dict[str, dict[str, object]] = {
    # Every minute: release holds (pending payment) that ran out unpaid, cancel their
    # PaymentIntents, resend refunds that never reached Stripe (C20).
    "payments-holds-release": {
        "task": "payments.tasks.holds_release",
        "schedule": 60.0,
        "options": {"expires": 55},
    },
    # Every minute: the reminder emails that are due (each exactly once, however many workers).
    "booking-reminders-send": {
        "task": "booking.tasks.reminders_send",
        "schedule": 60.0,
        "options": {"expires": 55},
    },
    # Every minute: proves beat and a worker are alive; /healthz reports its age.
    "worker-heartbeat": {
        "task": "security.tasks.heartbeat",
        "schedule": 60.0,
        "options": {"expires": 55},
    },
    # Every 12 hours, at 00:15 and 12:15 UTC: a full backup to the three destinations (C21).
    "backups-run": {
        "task": "backups.tasks.backup_run",
        "schedule": crontab(minute=15, hour="0,12"),
    },
    # Every hour at minute 45: back up if the newest backup is older than 12 hours (beat does not
    # catch up on missed runs) and alert if a destination's newest is over 13 h (offline: 25 h).
    "backups-ensure-fresh": {
        "task": "backups.tasks.ensure_fresh",
        "schedule": crontab(minute=45),
        "options": {"expires": 3000},
    },
    # Daily at 02:30 UTC: the newest backup to the offline destination (C22).
    "backups-offline-copy": {
        "task": "backups.tasks.offline_copy",
        "schedule": crontab(minute=30, hour=2),
    },
    # Every hour at minute 20: delete backups that would pass 30 days before the next run, on
    # every destination it can reach, offline included (C25); one that was down is retried
    # within the hour, and nothing outlives the 30 days. (Not at minute 5: the compliance check
    # lists the destinations then.)
    "backups-purge": {
        "task": "backups.tasks.backup_purge",
        "schedule": crontab(minute=20),
        "options": {"expires": 3000},
    },
    # Daily at 04:30 UTC: restore the newest backup that verifies into a scratch database and
    # compare; a copy it had to pass over fails the drill (C23).
    "backups-restore-drill": {
        "task": "backups.tasks.backup_drill",
        "schedule": crontab(minute=30, hour=4),
    },
    # Daily at 05:30 UTC: read back the newest backup on every destination and, in turn, a few
    # older ones; repair a damaged copy from a good one and alert (C24). If another backup job
    # holds the lock, it tries again every 10 minutes for two hours.
    "backups-verify": {
        "task": "backups.tasks.backup_verify_scheduled",
        "schedule": crontab(minute=30, hour=5),
    },
    # Every hour at minute 5: evaluate every security control, store the results and alert the
    # operators when one changes between pass, warn and fail (C30).
    "security-compliance-check": {
        "task": "security.tasks.compliance_check",
        "schedule": crontab(minute=5),
        "options": {"expires": 3000},
    },
    # Every hour at minute 35: hash the deployed code and static files and alert when they differ
    # from the baseline recorded after the deployment (C32).
    "security-integrity-check": {
        "task": "security.tasks.integrity_check",
        "schedule": crontab(minute=35),
        "options": {"expires": 3000},
    },
    # Quarterly, on 1 January, April, July and October at 07:00 UTC: the access review of every
    # staff and partner account to the operators, to check and sign off (C16).
    "security-access-review": {
        "task": "security.tasks.access_review_mail",
        "schedule": crontab(minute=0, hour=7, day_of_month=1, month_of_year="1,4,7,10"),
    },
    # Daily at 00:10 UTC: the security event log's head as a signed file to the anchor stores
    # and in the operators' daily mail, so a deleted tail of the log can be named (C31).
    "security-anchor": {
        "task": "security.tasks.anchor_write",
        "schedule": crontab(minute=10, hour=0),
    },
    # Daily at 03:15 UTC: bookings that ended longer ago than their partner's retention period
    # are anonymised (C25; booking.erasure.retention_enforce).
    "booking-retention": {
        "task": "booking.tasks.retention_enforce",
        "schedule": crontab(minute=15, hour=3),
    },
}
