"""The login lockout (C11) around django-axes: the refusal page and the owners' warning email.

Axes counts failed logins per client IP in the database (settings: AXES_*). Its backend is the
first authentication backend, so a locked address is refused before any password is hashed;
axes' middleware then asks `lockout_response` for the answer: our 429 page (or JSON) saying the
address is locked and when it may try again. The same answer whatever the e-mail address was, so
the refusal says nothing about which accounts exist.
"""

from __future__ import annotations

import math
from datetime import datetime, timedelta
from typing import Any

from axes.helpers import get_cool_off
from axes.models import AccessAttempt
from django.conf import settings
from django.contrib.auth import get_user_model
from django.core.mail import send_mail
from django.db.models import Max
from django.http import HttpRequest, HttpResponse
from django.template.loader import render_to_string
from django.utils import timezone

from security.client_ip import client_ip
from security.middleware import too_many_requests

LOCKED_MESSAGE = "Too many failed logins from your address: logins from it are locked for now."


def locked_until(ip: str, *, cool_off: timedelta | None = None) -> datetime:
    """When the lock on `ip` lifts: the cool-off after its latest failure (each failure while
    locked restarts it, AXES_RESET_COOL_OFF_ON_FAILURE_DURING_LOCKOUT)."""
    cool_off = cool_off or timedelta(hours=settings.AXES_COOLOFF_HOURS)
    latest = AccessAttempt.objects.filter(ip_address=ip).aggregate(latest=Max("attempt_time"))["latest"]
    return (latest or timezone.now()) + cool_off


def lockout_response(request: HttpRequest, original_response: HttpResponse | None = None, credentials: Any = None) -> HttpResponse:
    """AXES_LOCKOUT_CALLABLE."""
    ip = getattr(request, "axes_ip_address", None) or client_ip(request)
    until = locked_until(ip, cool_off=get_cool_off(request))
    retry_after = max(1, math.ceil((until - timezone.now()).total_seconds()))
    return too_many_requests(request, retry_after, error="locked_out", message=LOCKED_MESSAGE, retry_at=until)


def warn_targeted_accounts(*, usernames: list[str], ip: str) -> int:
    """Tell the owners of the accounts an address was trying (those that exist) that it is now
    locked. Runs in a task, so the attacker's response takes as long whether or not they exist."""
    User = get_user_model()
    field = f"{User.USERNAME_FIELD}__iexact"
    sent = 0
    for username in sorted({u for u in usernames if u}):
        user = User._default_manager.filter(**{field: username}, is_active=True).first()
        if user is None:
            continue
        context = {
            "user": user,
            "ip": ip,
            "limit": settings.AXES_FAILURE_LIMIT,
            "cooloff_hours": settings.AXES_COOLOFF_HOURS,
            "site_url": settings.SITE_URL,
        }
        send_mail(
            subject=render_to_string("security/email/lockout_subject.txt", context).strip(),
            message=render_to_string("security/email/lockout.txt", context),
            html_message=render_to_string("security/email/lockout.html", context),
            from_email=None,
            recipient_list=[getattr(user, User.get_email_field_name())],
        )
        sent += 1
    return sent
