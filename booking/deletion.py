"""Partner deletion (C25): everything a partner owns leaves the live database at once.

`partner_delete` is the one write path (the admin's deletion page and `manage.py partner_delete`
call it), one transaction:

1. Lock the partner (every booking write of the partner takes the same lock first).
2. Cancel its future bookings: each customer of a confirmed one gets an email in the language
   they booked in (rendered now, sent after commit: the booking is gone by then), and
   `booking_cancelled` lets payments refund the paid ones through the existing refund path.
3. `partner_deleting`: payments detaches its payments from the bookings (they and their refunds
   stay as accounting records without personal data).
4. Pseudonymise the security events about the partner, its bookings and its people (the chain
   still verifies: security.events), and delete the admin's history entries about its rows.
5. Delete the partner's rows (bookings first: they protect their service, staff and customer),
   its users (they belong to no other partner: a user has one membership at most) with their
   sessions, MFA devices (cascade) and lockout records.

`PARTNER_DATA` says, for every model that can refer to a partner or to a partner's user, how the
deletion covers it; tests/booking/test_partner_deletion_coverage.py walks every model of every
app and fails on one that is not listed, so a new model cannot be forgotten.
"""

from __future__ import annotations

import logging
from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any

from django.conf import settings
from django.contrib.admin.models import LogEntry
from django.contrib.auth import get_user_model
from django.contrib.contenttypes.models import ContentType
from django.contrib.sessions.models import Session
from django.core.exceptions import ValidationError
from django.db import models, transaction
from django.db.models import Q
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from booking import emails, slot_cache
from booking.events import BookingEvent
from booking.models import (
    Booking,
    BookingReminder,
    CalendarFeed,
    CancelledBecause,
    Closure,
    Customer,
    DateOverride,
    DateOverrideRange,
    Invitation,
    OpeningHours,
    Partner,
    PartnerMembership,
    Resource,
    ResourceAbsence,
    Service,
    ServiceStaff,
    ServiceTranslation,
    StaffAbsence,
    StaffHours,
    StaffMember,
    SupportGrant,
)
from booking.signals import partner_deleting, partner_deletion_preview
from security.actors import Actor
from security.events import events_pseudonymise, record_event
from security.models import SecurityEvent

logger = logging.getLogger(__name__)


class Coverage:
    DELETED = "deleted with the partner"
    USER_DELETED = "deleted with the partner's users"
    DETACHED = "kept without the booking: an accounting record with no personal data"
    PSEUDONYMISED = "kept with personal fields replaced by a pseudonym"
    NOT_PARTNER_DATA = "refers to users, never to a partner's (platform staff only)"


# Every model that can refer to a partner or to a user, through a chain of foreign keys.
PARTNER_DATA: dict[str, str] = {
    "booking.Partner": Coverage.DELETED,
    "booking.PartnerMembership": Coverage.DELETED,
    "booking.Service": Coverage.DELETED,
    "booking.ServiceTranslation": Coverage.DELETED,
    "booking.OpeningHours": Coverage.DELETED,
    "booking.DateOverride": Coverage.DELETED,
    "booking.Closure": Coverage.DELETED,
    "booking.DateOverrideRange": Coverage.DELETED,
    "booking.StaffMember": Coverage.DELETED,
    "booking.StaffHours": Coverage.DELETED,
    "booking.StaffAbsence": Coverage.DELETED,
    "booking.Resource": Coverage.DELETED,
    "booking.ResourceAbsence": Coverage.DELETED,
    "booking.ServiceStaff": Coverage.DELETED,
    "booking.Customer": Coverage.DELETED,
    "booking.Booking": Coverage.DELETED,
    "booking.BookingReminder": Coverage.DELETED,
    "booking.SupportGrant": Coverage.DELETED,
    "booking.Invitation": Coverage.DELETED,
    "booking.CalendarFeed": Coverage.DELETED,
    "admin.LogEntry": Coverage.DELETED,
    "accounts.User": Coverage.USER_DELETED,
    "accounts.User_groups": Coverage.USER_DELETED,
    "accounts.User_user_permissions": Coverage.USER_DELETED,
    "accounts.BackupCodeDevice": Coverage.USER_DELETED,
    "accounts.BackupCode": Coverage.USER_DELETED,
    "otp_totp.TOTPDevice": Coverage.USER_DELETED,
    "security.SecurityEvent": Coverage.PSEUDONYMISED,
    "security.PersonnelRecord": Coverage.NOT_PARTNER_DATA,
}
# Models of the partner deleted row by row (besides the partner itself), for the admin history.
_OWNED: tuple[tuple[type[models.Model], str], ...] = (
    (Booking, "partner"),
    (BookingReminder, "booking__partner"),
    (Customer, "partner"),
    (Service, "partner"),
    (ServiceTranslation, "service__partner"),
    (ServiceStaff, "service__partner"),
    (OpeningHours, "partner"),
    (DateOverride, "partner"),
    (Closure, "partner"),
    (DateOverrideRange, "override__partner"),
    (StaffMember, "partner"),
    (StaffHours, "staff__partner"),
    (StaffAbsence, "staff__partner"),
    (Resource, "partner"),
    (ResourceAbsence, "resource__partner"),
    (SupportGrant, "partner"),
    (Invitation, "partner"),
    (CalendarFeed, "partner"),
    (PartnerMembership, "partner"),
)


def register_partner_data(label: str, coverage: str) -> None:
    """Another app's model that refers to a partner's rows, and how its partner_deleting
    receiver covers it (payments registers its payments and refunds)."""
    PARTNER_DATA[label] = coverage


class PartnerNameMismatch(ValidationError):
    pass


@dataclass(frozen=True)
class DeletionPreview:
    """What deleting the partner would do: shown before anyone confirms."""

    partner: Partner
    counts: dict[str, int]
    future_bookings: int
    refunds: int
    users: list[str]
    # Backups taken until now hold the data until the purge after this moment (C25).
    backups_hold_until: datetime


@dataclass
class DeletionSummary:
    partner_name: str
    counts: dict[str, int] = field(default_factory=dict)
    cancelled: int = 0
    customers_told: int = 0
    users_deleted: int = 0
    events_pseudonymised: int = 0
    legacy_events_kept: int = 0
    backups_hold_until: datetime | None = None


def backups_hold_until(now: datetime) -> datetime:
    """The latest moment a backup taken now may still exist: retention, then the purge that
    runs after it (BACKUP_PURGE_INTERVAL_HOURS). The purge keeps an older backup only when no
    newer one verifies; the operators are alerted when that happens."""
    return now + timedelta(
        days=settings.BACKUP_RETENTION_DAYS, hours=settings.BACKUP_PURGE_INTERVAL_HOURS
    )


def _future(partner: Partner, now: datetime) -> models.QuerySet[Booking]:
    return Booking.objects.filter(partner=partner, status__in=Booking.BLOCKING, start__gt=now)


def _users(partner: Partner) -> models.QuerySet[Any]:
    # A platform superuser given a membership keeps their account; only the membership goes.
    return get_user_model().objects.filter(membership__partner=partner, is_superuser=False)


def partner_deletion_preview_for(
    *, partner: Partner, now: datetime | None = None
) -> DeletionPreview:
    now = now or timezone.now()
    future_ids = list(_future(partner, now).values_list("pk", flat=True))
    refunds = 0
    for _receiver, answer in partner_deletion_preview.send(
        sender=Partner, partner=partner, booking_ids=future_ids
    ):
        if isinstance(answer, dict):
            refunds += int(answer.get("refunds", 0))
    counts = {
        "services": Service.objects.filter(partner=partner).count(),
        "staff": StaffMember.objects.filter(partner=partner).count(),
        "resources": Resource.objects.filter(partner=partner).count(),
        "customers": Customer.objects.filter(partner=partner).count(),
        "bookings": Booking.objects.filter(partner=partner).count(),
    }
    return DeletionPreview(
        partner=partner,
        counts=counts,
        future_bookings=len(future_ids),
        refunds=refunds,
        users=sorted(u.get_username() for u in _users(partner)),
        backups_hold_until=backups_hold_until(now),
    )


def check_partner_name(*, partner: Partner, typed: str) -> None:
    """The person deleting typed the partner's name (case and surrounding spaces aside)."""
    if typed.strip().casefold() != partner.name.strip().casefold():
        raise PartnerNameMismatch({"name": _("Type the business's name exactly as shown.")})


def _event_ids(partner: Partner, booking_ids: list[int], people: list[str]) -> set[int]:
    """The security events about this partner, its bookings and its people."""
    about = (
        Q(detail__partner_id=partner.pk)
        | Q(target=f"partner:{partner.pk}")
        | Q(actor__membership__partner=partner)
        | Q(actor_email__in=people)
        | Q(target__in=people)
        | Q(
            target__in=[
                f"support_grant:{pk}" for pk in partner.support_grants.values_list("pk", flat=True)
            ]
        )
        | Q(
            target__in=[
                f"invitation:{pk}" for pk in partner.invitations.values_list("pk", flat=True)
            ]
        )
    )
    ids = set(SecurityEvent.objects.filter(about).values_list("pk", flat=True))
    for start in range(0, len(booking_ids), 500):
        chunk = [f"booking:{pk}" for pk in booking_ids[start : start + 500]]
        ids |= set(SecurityEvent.objects.filter(target__in=chunk).values_list("pk", flat=True))
    return ids


def _delete_history(rows: Iterable[tuple[type[models.Model], list[Any]]]) -> None:
    """The admin's change history of the partner's rows: its text names them (a customer's
    booking, say), so it goes with them."""
    for model, pks in rows:
        if not pks:
            continue
        content_type = ContentType.objects.get_for_model(model)
        keys = [str(pk) for pk in pks]
        for start in range(0, len(keys), 500):
            LogEntry.objects.filter(
                content_type=content_type, object_id__in=keys[start : start + 500]
            ).delete()


def _end_sessions(user_ids: set[Any]) -> int:
    """Database sessions of the deleted users (SESSION_ENGINE is the database's)."""
    wanted = {str(pk) for pk in user_ids}
    ended = 0
    for session in Session.objects.filter(expire_date__gt=timezone.now()).iterator():
        if str(session.get_decoded().get("_auth_user_id", "")) in wanted:
            session.delete()
            ended += 1
    return ended


def _delete_lockout_records(usernames: list[str]) -> None:
    from axes.models import AccessAttempt, AccessFailureLog, AccessLog

    for model in (AccessAttempt, AccessFailureLog, AccessLog):
        model.objects.filter(username__in=usernames).delete()


def partner_delete(
    *, partner: Partner, actor: Actor, reason: str, now: datetime | None = None
) -> DeletionSummary:
    """Delete the partner and everything it owns (module docstring: the steps). Raises
    ValidationError for a missing or too long reason; nothing is deleted then."""
    now = now or timezone.now()
    reason = reason.strip()
    if not reason or len(reason) > 500:
        raise ValidationError({"reason": _("Give a reason of at most 500 characters.")})
    summary = DeletionSummary(partner_name=partner.name, backups_hold_until=backups_hold_until(now))
    with transaction.atomic():
        from booking.services import bookings_cancel_for_erasure, partner_lock

        partner_lock(partner.pk)
        partner = Partner.objects.get(pk=partner.pk)
        partner_pk = partner.pk
        future = list(
            _future(partner, now).select_related("partner", "service", "staff", "resource")
        )
        # A hold was never announced, so its end is not either.
        outbox = [
            emails.partner_closed_email(b) for b in future if not b.is_hold and b.customer_email
        ]
        bookings_cancel_for_erasure(
            bookings=future, actor=actor, because=CancelledBecause.PARTNER, now=now
        )
        summary.cancelled = len(future)
        summary.customers_told = len(outbox)
        booking_ids = list(Booking.objects.filter(partner=partner).values_list("pk", flat=True))
        partner_deleting.send(sender=Partner, partner=partner, actor=actor, booking_ids=booking_ids)

        users = list(_users(partner))
        people = [u.get_username() for u in users]
        user_ids = {u.pk for u in users}
        event_ids = _event_ids(partner, booking_ids, people)
        owned = [
            (
                model,
                list(model._default_manager.filter(**{path: partner}).values_list("pk", flat=True)),
            )
            for model, path in _OWNED
        ]
        summary.counts = {model._meta.model_name or "": len(pks) for model, pks in owned}
        _delete_history([*owned, (Partner, [partner.pk])])

        with slot_cache.partner_going(partner.pk):
            Booking.objects.filter(partner=partner).update(rescheduled_from=None)
            Booking.objects.filter(partner=partner).delete()
            Customer.objects.filter(partner=partner).delete()
            partner.delete()
        _end_sessions(user_ids)
        _delete_lockout_records(people)
        # Superusers keep their account; their membership went with the partner.
        get_user_model().objects.filter(pk__in=user_ids).delete()
        summary.users_deleted = len(user_ids)

        deleted_event = record_event(
            event_type=BookingEvent.PARTNER_DELETED,
            actor=actor,
            target=f"partner:{partner_pk}",
            detail={
                "reason": reason,
                "cancelled": summary.cancelled,
                "customers_told": summary.customers_told,
                "users_deleted": summary.users_deleted,
                "rows": summary.counts,
            },
        )
        if actor.account is not None and actor.account.pk in user_ids:
            event_ids.add(deleted_event.pk)  # the deleting owner is one of the deleted people
        result = events_pseudonymise(event_ids=event_ids, now=now)
        summary.events_pseudonymised = result.pseudonymised
        summary.legacy_events_kept = result.legacy_kept
        for email in outbox:
            transaction.on_commit(email.send, robust=True)
    logger.info(
        "partner deleted",
        extra={
            "cancelled": summary.cancelled,
            "users_deleted": summary.users_deleted,
            "events_pseudonymised": summary.events_pseudonymised,
        },
    )
    return summary
