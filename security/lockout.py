"""The login lockout (C11) around django-axes: the refusal page, the owners' warning email, and
the other ways in than the password form.

Axes counts failed logins per client IP in the database (settings: AXES_*). Its backend is the
first authentication backend, so a locked address is refused before any password is hashed;
axes' middleware then asks `lockout_response` for the answer: our 429 page (or JSON) saying the
address is locked and when it may try again. The same answer whatever the e-mail address was, so
the refusal says nothing about which accounts exist.

Besides the lock per address (IPv6: per /64, security.client_ip.lockout_key), each account has
a limit across all addresses (`AccountLockBackend`): LOCKOUT_ACCOUNT_FAILURE_LIMIT failures for
one account within the cool-off refuse its password from every address, before any hashing,
except from addresses the account logged in from successfully in the last
LOCKOUT_KNOWN_ADDRESS_DAYS days (axes' access log). The refusal looks like a wrong password, so
it tells nobody that the account exists; the owner is emailed (at most once an hour).

Steps that check a secret other than the password (the MFA code, a password reset link) join the
same count: `step_locked_refusal` before they check anything, `step_failed` when the secret was
wrong (it sends user_login_failed, as a wrong password does, so axes counts it and
security.signals logs it).
"""

from __future__ import annotations

import math
from datetime import datetime, timedelta
from typing import Any

from axes.handlers.proxy import AxesProxyHandler
from axes.helpers import get_cool_off
from axes.models import AccessAttempt, AccessLog
from django.conf import settings
from django.contrib.auth import get_user_model
from django.contrib.auth.signals import user_login_failed
from django.core.cache import cache
from django.core.exceptions import PermissionDenied
from django.db.models import Max, Sum
from django.db.models.functions import Lower, Trim
from django.http import HttpRequest, HttpResponse
from django.utils import timezone

from security.client_ip import lockout_address
from security.mail import send_templated_mail
from security.middleware import too_many_requests

LOCKED_MESSAGE = "Too many failed logins from your address: logins from it are locked for now."
# Steps besides the password form, named in user_login_failed's credentials (security.signals).
STEP_MFA = "mfa"
STEP_PASSWORD_RESET = "password_reset"  # noqa: S105 - a step's name


def locked_until(ip: str, *, cool_off: timedelta | None = None) -> datetime:
    """When the lock on `ip` lifts: the cool-off after its latest failure (each failure while
    locked restarts it, AXES_RESET_COOL_OFF_ON_FAILURE_DURING_LOCKOUT)."""
    cool_off = cool_off or timedelta(hours=settings.AXES_COOLOFF_HOURS)
    latest = AccessAttempt.objects.filter(ip_address=ip).aggregate(latest=Max("attempt_time"))[
        "latest"
    ]
    return (latest or timezone.now()) + cool_off


def lockout_response(
    request: HttpRequest, original_response: HttpResponse | None = None, credentials: Any = None
) -> HttpResponse:
    """AXES_LOCKOUT_CALLABLE."""
    ip = getattr(request, "axes_ip_address", None) or lockout_address(request)
    until = locked_until(ip, cool_off=get_cool_off(request))
    retry_after = max(1, math.ceil((until - timezone.now()).total_seconds()))
    return too_many_requests(
        request, retry_after, error="locked_out", message=LOCKED_MESSAGE, retry_at=until
    )


def step_failed(request: HttpRequest, *, username: str, step: str) -> None:
    """A wrong MFA code or reset link: counted for the client's address like a wrong password."""
    credentials = {settings.AXES_USERNAME_FORM_FIELD: username, "step": step}
    user_login_failed.send(sender=__name__, credentials=credentials, request=request)


def step_locked_refusal(
    request: HttpRequest, *, username: str, step: str, attempt: bool
) -> HttpResponse | None:
    """The lockout page if the client's address is locked, to answer before any secret is
    checked. An `attempt` (a secret submitted while locked) also counts as a failure, which
    restarts the cool-off, exactly like a password tried while locked."""
    if AxesProxyHandler.is_allowed(request, {settings.AXES_USERNAME_FORM_FIELD: username}):
        return None
    if attempt:
        step_failed(request, username=username, step=step)
    return lockout_response(request)


def account_name(username: str) -> str:
    """The account a typed login name means: logins ignore case and surrounding blanks, so the
    per-account count must too (or "ADA@example.com" would be a fresh account to guess)."""
    return username.strip().lower()


def _attempts_of(model: Any, username: str) -> Any:
    return model.objects.annotate(account=Lower(Trim("username"))).filter(
        account=account_name(username)
    )


def account_failures(username: str) -> int:
    """Failed logins for this account within the cool-off, from every address together."""
    since = timezone.now() - timedelta(hours=settings.AXES_COOLOFF_HOURS)
    total = (
        _attempts_of(AccessAttempt, username)
        .filter(attempt_time__gte=since)
        .aggregate(n=Sum("failures_since_start"))["n"]
    )
    return int(total or 0)


def known_address(username: str, ip: str) -> bool:
    """Did this account log in successfully from this address (its lockout key) lately?"""
    days = settings.LOCKOUT_KNOWN_ADDRESS_DAYS
    if not days:
        return False
    since = timezone.now() - timedelta(days=days)
    return bool(
        _attempts_of(AccessLog, username).filter(ip_address=ip, attempt_time__gte=since).exists()
    )


class AccountLockBackend:
    """The limit per account (C11), an authentication backend placed after axes' and before
    the password check: raising PermissionDenied ends authenticate() before any hash is
    computed, and Django reports it as a failed login (which axes counts for the address)."""

    def authenticate(
        self,
        request: HttpRequest | None,
        username: str | None = None,
        password: str | None = None,
        **kwargs: Any,
    ) -> None:
        if request is None or not username:
            return None
        if account_failures(username) < settings.LOCKOUT_ACCOUNT_FAILURE_LIMIT:
            return None
        ip = getattr(request, "axes_ip_address", None) or lockout_address(request)
        if known_address(username, ip):
            return None
        raise PermissionDenied("account locked")

    # No get_user(): this backend never logs anyone in, and Django's test client (force_login)
    # picks the first backend that has one.


def _mail_due(user_pk: Any) -> bool:
    """At most one lockout email per account in LOCKOUT_EMAIL_INTERVAL_MINUTES, across every
    worker (the shared cache). The time is kept in the entry, not only in its expiry, so the
    rule follows the clock the application reads. A cache outage sends the email."""
    key = f"lockout-mail:{user_pk}"
    now = timezone.now().timestamp()
    interval = settings.LOCKOUT_EMAIL_INTERVAL_MINUTES * 60
    try:
        if cache.add(key, now, timeout=interval):
            return True
        last = cache.get(key)
        if last is not None and now - float(last) < interval:
            return False
        cache.set(key, now, timeout=interval)
    except Exception:
        return True
    return True


def warn_targeted_accounts(*, usernames: list[str], ip: str) -> int:
    """Tell the owners of the accounts an address was trying (those that exist) that it is now
    locked, each at most once an hour. Runs in a task, so the attacker's response takes as long
    whether or not they exist."""
    User = get_user_model()
    field = f"{User.USERNAME_FIELD}__iexact"
    sent = 0
    for username in sorted({account_name(u) for u in usernames if u}):
        user = User._default_manager.filter(**{field: username}, is_active=True).first()
        if user is None or not _mail_due(user.pk):
            continue
        context = {
            "user": user,
            "ip": ip,
            "limit": settings.AXES_FAILURE_LIMIT,
            "account_limit": settings.LOCKOUT_ACCOUNT_FAILURE_LIMIT,
            "cooloff_hours": settings.AXES_COOLOFF_HOURS,
            "site_url": settings.SITE_URL,
        }
        send_templated_mail(
            template="security/email/lockout",
            context=context,
            to=getattr(user, User.get_email_field_name()),
        )
        sent += 1
    return sent
