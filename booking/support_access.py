"""Support grants and the audit of customer data views by platform staff (C15, C31).

Writes: `support_grant_create`, `support_grant_revoke` (each also writes its security event) and
`customer_data_viewed` (the `support_access` event for every unmasked view by platform staff).
`mask_*` are what staff without a grant see instead of a customer's details.
"""

from __future__ import annotations

from collections.abc import Iterable
from datetime import datetime, timedelta
from typing import Any

from django.core.exceptions import ValidationError
from django.db import transaction
from django.utils import timezone

from booking.events import BookingEvent
from booking.models import SUPPORT_GRANT_MAX_HOURS, Partner, SupportGrant
from booking.roles import SUPPORT
from security.events import record_event
from security.people import clearance_of

MASK = "•••"


def mask_name(value: str) -> str:
    value = value.strip()
    return f"{value[0]}{MASK}" if value else ""


def mask_email(value: str) -> str:
    local, at, domain = value.partition("@")
    if not at:
        return mask_name(value)
    return f"{local[:1]}{MASK}@{domain}"


def mask_text(value: str) -> str:
    return MASK if value else ""


def is_support_user(user: Any) -> bool:
    """Platform support staff: active staff in the Support group with no partner membership."""
    return bool(
        user.is_active
        and user.is_staff
        and not hasattr(user, "membership")
        and user.groups.filter(name=SUPPORT).exists()
    )


@transaction.atomic
def support_grant_create(
    *,
    partner: Partner,
    granted_to: Any,
    granted_by: Any,
    reason: str,
    hours: int,
    ip: str = "",
    now: datetime | None = None,
) -> SupportGrant:
    """Let `granted_to` (support staff) see `partner`'s customer data for `hours` hours."""
    now = now or timezone.now()
    if not 1 <= hours <= SUPPORT_GRANT_MAX_HOURS:
        raise ValidationError(
            {"hours": f"A grant runs between 1 and {SUPPORT_GRANT_MAX_HOURS} hours."}
        )
    if not is_support_user(granted_to):
        raise ValidationError({"granted_to": "Grants go to platform support staff only."})
    problems = clearance_of(granted_to, today=now.date()).problems
    if problems:  # C15: no agreement or no current training, no access to customer data
        raise ValidationError(
            {"granted_to": f"Not cleared for customer data: {'; '.join(problems)}."}
        )
    grant = SupportGrant(
        partner=partner,
        granted_to=granted_to,
        granted_by=granted_by,
        reason=reason.strip(),
        created_at=now,
        expires_at=now + timedelta(hours=hours),
    )
    grant.full_clean()
    grant.save()
    record_event(
        event_type=BookingEvent.SUPPORT_GRANT_CREATED,
        actor=granted_by,
        ip=ip,
        target=f"support_grant:{grant.pk}",
        detail={
            "partner_id": partner.pk,
            "granted_to": granted_to.get_username(),
            "reason": grant.reason,
            "expires_at": grant.expires_at.isoformat(),
        },
    )
    return grant


@transaction.atomic
def support_grant_revoke(
    *, grant: SupportGrant, revoked_by: Any, ip: str = "", now: datetime | None = None
) -> bool:
    """End a grant now. False when it had already ended (revoked or expired): nothing written."""
    now = now or timezone.now()
    updated = SupportGrant.objects.filter(
        pk=grant.pk, revoked_at__isnull=True, expires_at__gt=now
    ).update(revoked_at=now)
    if not updated:
        return False
    grant.revoked_at = now
    record_event(
        event_type=BookingEvent.SUPPORT_GRANT_REVOKED,
        actor=revoked_by,
        ip=ip,
        target=f"support_grant:{grant.pk}",
        detail={"partner_id": grant.partner_id, "granted_to_id": grant.granted_to_id},
    )
    return True


def customer_data_viewed(
    *,
    actor: Any,
    ip: str,
    view: str,
    booking_ids: Iterable[int],
    grants: dict[int, SupportGrant | None],
    customer_ids: Iterable[int] = (),
) -> None:
    """Write the `support_access` event: who (actor), which bookings (or customer records), when
    (the event's time) and why (each partner's grant and its reason; superusers need none)."""
    ids = sorted(set(booking_ids))
    customers = sorted(set(customer_ids))
    if not ids and not customers:
        return
    target = f"booking:{','.join(map(str, ids))}" if ids else ""
    if customers:
        target = f"{target} customer:{','.join(map(str, customers))}".strip()
    record_event(
        event_type=BookingEvent.SUPPORT_ACCESS,
        actor=actor,
        ip=ip,
        target=target[:500],
        detail={
            "view": view,
            "booking_ids": ids,
            **({"customer_ids": customers} if customers else {}),
            "superuser": bool(actor.is_superuser),
            "grants": [
                {
                    "partner_id": partner_id,
                    "grant_id": grant.pk if grant else None,
                    "reason": grant.reason if grant else "superuser access",
                }
                for partner_id, grant in sorted(grants.items())
            ],
        },
    )
