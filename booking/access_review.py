"""booking's columns of the access review (C16): each account's partner and its open support
grants. Registered with security in BookingConfig.ready()."""

from __future__ import annotations

from typing import Any

from django.utils import timezone

from booking.models import PartnerMembership, SupportGrant


def access_review_columns(user_ids: list[Any]) -> dict[Any, dict[str, str]]:
    columns: dict[Any, dict[str, str]] = {pk: {} for pk in user_ids}
    for membership in PartnerMembership.objects.filter(user_id__in=user_ids).select_related(
        "partner"
    ):
        columns[membership.user_id]["partner"] = (
            f"{membership.partner.name} ({membership.get_role_display().lower()})"
        )
    now = timezone.now()
    open_grants = SupportGrant.objects.filter(
        granted_to_id__in=user_ids, revoked_at__isnull=True, expires_at__gt=now
    ).select_related("partner")
    for grant in open_grants.order_by("expires_at"):
        text = f"{grant.partner.name} until {grant.expires_at:%Y-%m-%d %H:%M} UTC"
        entry = columns[grant.granted_to_id]
        entry["open_support_grants"] = (
            f"{entry['open_support_grants']}, {text}" if "open_support_grants" in entry else text
        )
    return columns
