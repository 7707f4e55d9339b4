from __future__ import annotations

from celery import shared_task

from security.health import heartbeat_record


@shared_task(ignore_result=True)
def heartbeat() -> str:
    """Scheduled every minute (settings/schedule.py): records that beat and a worker are alive."""
    return heartbeat_record().isoformat()


@shared_task(ignore_result=True)
def lockout_warn_owners(usernames: list[str], ip: str) -> int:
    """Queued when an address gets locked out (security.signals): emails the owners of the
    accounts it tried."""
    from security.lockout import warn_targeted_accounts

    return warn_targeted_accounts(usernames=usernames, ip=ip)


@shared_task(ignore_result=True)
def compliance_check() -> int:
    """Hourly (settings/schedule.py): evaluate every control, store, alert on changes (C30)."""
    from security.compliance.services import compliance_run

    return len(compliance_run())


@shared_task(ignore_result=True)
def integrity_check() -> bool | None:
    """Hourly (settings/schedule.py): compare the deployed files with the baseline (C32)."""
    from security.integrity import integrity_check as check

    result = check()
    return None if result is None else result.ok


@shared_task(ignore_result=True)
def access_review_mail() -> int:
    """Quarterly (settings/schedule.py): the access review to the operators (C16)."""
    from django.core.mail import mail_admins
    from django.utils import timezone

    from security.access_review import access_review_rows, as_text

    now = timezone.now()
    rows = access_review_rows(now=now)
    mail_admins(
        "[access review] quarterly review of staff and partner accounts",
        as_text(rows, now=now)
        + '\n\nReview, then sign off: manage.py access_review --sign-off "Your Name"',
    )
    return len(rows)


@shared_task(ignore_result=True)
def anchor_write() -> int | None:
    """Daily (settings/schedule.py): the event log's head, signed, to the stores and the
    operators' mail (C31)."""
    from security.anchor import anchor_write as write

    anchor = write()
    return None if anchor is None else anchor.event_id
