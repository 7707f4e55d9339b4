"""Login, lockout and password events into the security event log (C31), the lockout owners'
email (C11) and the session clock (C14). Connected in SecurityConfig.ready, after axes' own
receivers, so a failed login is already counted by axes when these run."""

from __future__ import annotations

from typing import Any

from django.conf import settings
from django.contrib.auth import get_user_model
from django.contrib.auth.signals import user_logged_in, user_login_failed
from django.db import transaction
from django.db.models.signals import post_save
from django.http import HttpRequest

from security.client_ip import client_ip
from security.events import SecurityEventType, record_event
from security.lockout import STEP_MFA, STEP_PASSWORD_RESET
from security.password_change import AUDITED_FLAG
from security.sessions import session_mark_login


def _ip(request: HttpRequest | None) -> str:
    return client_ip(request) if request is not None else ""


def on_logged_in(sender: Any, request: HttpRequest | None, user: Any, **kwargs: Any) -> None:
    if request is not None and hasattr(request, "session"):
        session_mark_login(request)
    record_event(
        event_type=SecurityEventType.LOGIN_SUCCESS,
        actor=user,
        ip=_ip(request),
        target=user.get_username(),
    )


def on_login_failed(
    sender: Any, credentials: dict[str, Any], request: HttpRequest | None = None, **kwargs: Any
) -> None:
    # Only the name that was tried: Django already masks the password in `credentials`, and
    # nothing else from them is kept. Wrong MFA codes and reset links arrive here too
    # (security.lockout.step_failed); an MFA code comes from a user logged in with the password:
    # one mfa_failure event, with that user as actor.
    username = str(credentials.get(settings.AXES_USERNAME_FORM_FIELD) or "")
    step = str(credentials.get("step") or "")
    mfa = step == STEP_MFA
    failures = getattr(request, "axes_failures_since_start", None)
    locked_before = failures is not None and failures > settings.AXES_FAILURE_LIMIT
    wrong = {STEP_MFA: "invalid_code", STEP_PASSWORD_RESET: "invalid_reset_link"}.get(
        step, "invalid_credentials"
    )
    reason = "locked_out" if locked_before else wrong
    detail: dict[str, Any] = {"reason": reason}
    if failures is not None:
        detail["failures"] = failures
    record_event(
        event_type=SecurityEventType.MFA_FAILURE if mfa else SecurityEventType.LOGIN_FAILURE,
        actor=getattr(request, "user", None) if mfa else None,
        ip=_ip(request),
        target=username[:254],
        detail=detail,
    )
    if username and request is not None:
        _account_lock_reached(username)


def _account_lock_reached(username: str) -> None:
    """The failure that brings an account to its limit (from any addresses) is its lockout:
    one event, and its owner is warned. Later refused attempts add to the count, past the limit,
    and write no further lockout."""
    from security.lockout import account_failures, account_name
    from security.tasks import lockout_warn_owners

    if account_failures(username) != settings.LOCKOUT_ACCOUNT_FAILURE_LIMIT:
        return
    name = account_name(username)
    record_event(
        event_type=SecurityEventType.ACCOUNT_LOCKOUT,
        target=name[:254],
        detail={
            "failure_limit": settings.LOCKOUT_ACCOUNT_FAILURE_LIMIT,
            "cooloff_hours": settings.AXES_COOLOFF_HOURS,
        },
    )
    transaction.on_commit(lambda: lockout_warn_owners.delay([name], ""))


def on_locked_out(
    sender: Any, request: HttpRequest, username: str | None, ip_address: str, **kwargs: Any
) -> None:
    # axes signals again for every refused attempt while locked; only the attempt that reached
    # the limit is the lockout.
    if getattr(request, "axes_failures_since_start", None) != settings.AXES_FAILURE_LIMIT:
        return
    from axes.models import AccessAttempt

    from security.tasks import lockout_warn_owners

    usernames = sorted(
        {
            u
            for u in AccessAttempt.objects.filter(ip_address=ip_address).values_list(
                "username", flat=True
            )
            if u
        }
    )
    record_event(
        event_type=SecurityEventType.LOCKOUT,
        ip=ip_address,
        target=(username or "")[:254],
        detail={
            "failure_limit": settings.AXES_FAILURE_LIMIT,
            "cooloff_hours": settings.AXES_COOLOFF_HOURS,
            "usernames_tried": len(usernames),
        },
    )
    transaction.on_commit(lambda: lockout_warn_owners.delay(usernames, ip_address))


def on_user_saved(sender: Any, instance: Any, created: bool, **kwargs: Any) -> None:
    """The safety net of security.password_change: a password set outside its audited forms
    (`manage.py changepassword`, a shell) is logged too, without an actor (none is known here,
    and none is guessed from a request). AbstractBaseUser keeps the new raw password in
    `_password` from set_password() until the save completes, so a save carrying it is a password
    change (the raw value is never read here)."""
    if created or getattr(instance, "_password", None) is None:
        return
    if getattr(instance, AUDITED_FLAG, False):
        return  # password_set logs it, with its actor
    record_event(
        event_type=SecurityEventType.PASSWORD_CHANGE,
        target=instance.get_username(),
        detail={"by_self": False, "attributed": False},
    )


def connect() -> None:
    import axes.signals  # connects axes' receivers first

    user_logged_in.connect(on_logged_in, dispatch_uid="security.on_logged_in")
    user_login_failed.connect(on_login_failed, dispatch_uid="security.on_login_failed")
    axes.signals.user_locked_out.connect(on_locked_out, dispatch_uid="security.on_locked_out")
    post_save.connect(on_user_saved, sender=get_user_model(), dispatch_uid="security.on_user_saved")
