"""Access reviews (C16): every staff and partner account with its roles, partner, second
factor, last login and open support grants, flagged when unused for 90 days, without MFA, or a
superuser. An operator signs the review off (a security event the compliance check reads: it
fails 92 days after the last sign-off) and may deactivate the unused accounts.

security knows no partner or grant: booking registers a source of extra columns at start-up
(`register_access_review_source`), as it registers event types and compliance checks."""

from __future__ import annotations

import hashlib
import json
from collections.abc import Callable, Iterable
from dataclasses import asdict, dataclass, field
from datetime import datetime, timedelta
from typing import Any

from django.contrib.auth import get_user_model
from django.db import transaction
from django.utils import timezone
from django_otp.plugins.otp_totp.models import TOTPDevice

from security.actors import Actor
from security.events import SecurityEventType, record_event
from security.models import SecurityEvent
from security.people import clearances

UNUSED_DAYS = 90
REVIEW_VALID_DAYS = 92
FLAG_UNUSED = "unused_90_days"
FLAG_NO_MFA = "no_mfa"
FLAG_SUPERUSER = "superuser"
FLAG_NO_CLEARANCE = "no_clearance"

# user ids -> {user id: {column: text}}
ReviewSource = Callable[[list[Any]], dict[Any, dict[str, str]]]
_sources: list[ReviewSource] = []


def register_access_review_source(source: ReviewSource) -> None:
    if source not in _sources:
        _sources.append(source)


@dataclass
class AccountRow:
    id: Any
    email: str
    name: str
    active: bool
    superuser: bool
    roles: list[str]
    mfa: bool
    last_login: str | None
    joined: str
    extra: dict[str, str] = field(default_factory=dict)
    flags: list[str] = field(default_factory=list)


def access_review_rows(*, now: datetime | None = None) -> list[AccountRow]:
    now = now or timezone.now()
    users = list(
        get_user_model()
        ._default_manager.filter(is_staff=True, is_active=True)
        .prefetch_related("groups")
        .order_by("email")
    )
    ids = [u.pk for u in users]
    enrolled = set(
        TOTPDevice.objects.filter(user_id__in=ids, confirmed=True).values_list("user_id", flat=True)
    )
    extra: dict[Any, dict[str, str]] = {pk: {} for pk in ids}
    for source in _sources:
        for pk, columns in source(ids).items():
            extra.setdefault(pk, {}).update(columns)
    cleared = clearances([u.pk for u in users if u.is_superuser])
    rows = []
    for user in users:
        last_use = user.last_login or user.date_joined
        flags = []
        if now - last_use > timedelta(days=UNUSED_DAYS):
            flags.append(FLAG_UNUSED)
        if user.pk not in enrolled:
            flags.append(FLAG_NO_MFA)
        if user.is_superuser:
            flags.append(FLAG_SUPERUSER)
            if not cleared[user.pk].ok:
                flags.append(FLAG_NO_CLEARANCE)
        rows.append(
            AccountRow(
                id=user.pk,
                email=user.get_username(),
                name=getattr(user, "full_name", "") or "",
                active=user.is_active,
                superuser=user.is_superuser,
                roles=sorted(g.name for g in user.groups.all()),
                mfa=user.pk in enrolled,
                last_login=user.last_login.isoformat() if user.last_login else None,
                joined=user.date_joined.isoformat(),
                extra=extra.get(user.pk, {}),
                flags=flags,
            )
        )
    return rows


def report_digest(rows: Iterable[AccountRow]) -> str:
    """What was reviewed, as one hash: the sign-off event names exactly this report."""
    return hashlib.sha256(
        json.dumps([asdict(r) for r in rows], sort_keys=True, default=str).encode()
    ).hexdigest()


def flag_counts(rows: Iterable[AccountRow]) -> dict[str, int]:
    counts: dict[str, int] = {}
    for row in rows:
        for flag in row.flags:
            counts[flag] = counts.get(flag, 0) + 1
    return counts


def access_review_sign_off(*, reviewer: str, rows: list[AccountRow], actor: Actor) -> SecurityEvent:
    return record_event(
        event_type=SecurityEventType.ACCESS_REVIEW,
        actor=actor,
        target="access_review",
        detail={
            "reviewer": reviewer,
            "accounts": len(rows),
            "flags": flag_counts(rows),
            "report_sha256": report_digest(rows),
        },
    )


@transaction.atomic
def access_review_deactivate_stale(*, rows: list[AccountRow], actor: Actor) -> list[str]:
    """Deactivate the accounts flagged unused (their sessions stop working: an inactive user is
    not loaded). Returns their emails."""
    User = get_user_model()
    done = []
    for row in rows:
        if FLAG_UNUSED not in row.flags:
            continue
        user = User._default_manager.select_for_update().get(pk=row.id)
        if not user.is_active:
            continue
        user.is_active = False
        user.save(update_fields=["is_active"])
        record_event(
            event_type=SecurityEventType.ACCOUNT_DEACTIVATED,
            actor=actor,
            target=row.email,
            detail={"reason": FLAG_UNUSED, "last_login": row.last_login},
        )
        done.append(row.email)
    return done


def last_sign_off() -> SecurityEvent | None:
    return (
        SecurityEvent.objects.filter(event_type=SecurityEventType.ACCESS_REVIEW)
        .order_by("-id")
        .first()
    )


def as_text(rows: list[AccountRow], *, now: datetime) -> str:
    from security.operator_output import utc_text

    lines = [f"Access review, {utc_text(now)}: {len(rows)} staff and partner accounts", ""]
    for row in rows:
        roles = ", ".join(["superuser"] * row.superuser + row.roles) or "no role"
        extra = "; ".join(f"{k}: {v}" for k, v in sorted(row.extra.items()) if v)
        last = utc_text(datetime.fromisoformat(row.last_login)) if row.last_login else "never"
        flags = f"  [{', '.join(row.flags)}]" if row.flags else ""
        lines.append(
            f"{row.email}  {roles}; MFA {'yes' if row.mfa else 'NO'}; last login {last}"
            + (f"; {extra}" if extra else "")
            + flags
        )
    counts = flag_counts(rows)
    lines += ["", "Flags: " + (", ".join(f"{k} {v}" for k, v in sorted(counts.items())) or "none")]
    signed = last_sign_off()
    lines.append(
        f"Last signed off: {utc_text(signed.created_at)} by {signed.detail.get('reviewer', '?')}"
        if signed
        else "Never signed off."
    )
    return "\n".join(lines)
