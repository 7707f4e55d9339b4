"""Telling the operators that something needs them: an ERROR log line (WARNING for good news),
an email to OPERATOR_EMAILS and an `ops_alert` security event, in one call. Used by compliance,
intrusion detection, the file integrity check and the access review."""

from __future__ import annotations

import logging
from typing import Any

from django.core.mail import mail_admins

from security.events import SecurityEventType, record_event

logger = logging.getLogger("security.alerts")


def ops_alert(
    *, source: str, subject: str, message: str, good_news: bool = False, **fields: Any
) -> None:
    """One alert. Never raises: an alert must reach whoever it can when a part is down."""
    logger.log(
        logging.WARNING if good_news else logging.ERROR,
        "%s alert: %s",
        source,
        subject,
        extra={"event": f"{source}_alert", "subject": subject, "detail": message, **fields},
    )
    mail_admins(f"[{source}] {subject}", message, fail_silently=True)
    try:
        record_event(
            event_type=SecurityEventType.OPS_ALERT,
            target=source,
            detail={"subject": subject, "message": message[:2000], **fields},
        )
    except Exception:  # the mail and the log line went out; the database may be what is down
        logger.exception("alert not written to the security event log")
