"""Invitations: an owner (or an operator, `manage.py partner_invite`) invites a person by email to
work for a partner, so that nobody ever emails a password.

The link is `/invitation/<invitation id>.<secret>/`; the secret (256 random bits) exists only in
the email: the database holds its SHA-256 (`Invitation.token_hash`), compared in constant time.
The secret is made where the email is made, in the worker (`invitation_email_send`), as Django's
password reset makes its token there: it never passes through the task queue, a log or the
database. A re-send empties the hash at once (the older link stops working) and the worker sets
the new one. Logs never see the link either: security.logging redacts the path segment after
/invitation/, and the page that takes the link moves it into the session (as a hash) and
redirects to a URL without it.

Every write is one function taking its actor and writing its security event in the same
transaction: `invitation_create`, `invitation_resend`, `invitation_revoke`, `invitation_accept`,
and the refusal of a link (`invitation_check`, `invitation_held`).

An address that belongs to an account already is refused when the link is opened (409), never
when the owner invites: telling an owner which addresses have an account on the platform would
let any owner probe for them. A user works for one partner only (PartnerMembership), so the
invitation cannot add a membership to an existing account; the page says to ask the platform.
"""

from __future__ import annotations

import hashlib
import hmac
import logging
import re
import secrets
from dataclasses import dataclass
from datetime import datetime
from functools import partial
from typing import Any, cast

from django.conf import settings
from django.contrib.auth import get_user_model
from django.contrib.auth.models import Group
from django.core.exceptions import PermissionDenied, ValidationError
from django.db import IntegrityError, transaction
from django.db.models import TextChoices
from django.urls import reverse
from django.utils import timezone, translation
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from booking.events import BookingEvent
from booking.models import (
    INVITATION_LIFETIME,
    Invitation,
    InvitationStatus,
    Partner,
    PartnerMembership,
    StaffMember,
)
from booking.roles import MEMBERSHIP_GROUPS
from security import ratelimit
from security.actors import Actor, ActorKind, Via
from security.events import record_event
from security.mail import send_templated_mail

logger = logging.getLogger(__name__)

_TOKEN = re.compile(r"([1-9][0-9]{0,18})\.([A-Za-z0-9_-]{43})")


# The role as the invited person reads it (PartnerMembership.Role's labels are the admin's).
ROLE_LABELS = {
    PartnerMembership.Role.OWNER: gettext_lazy("owner"),
    PartnerMembership.Role.MEMBER: gettext_lazy("team member"),
}


def role_label(role: str) -> str:
    return str(ROLE_LABELS.get(role, role))  # type: ignore[call-overload]  # a TextChoices member is a str


class Refusal(TextChoices):
    """Why an invitation link was refused (the page says it; the event records it)."""

    UNKNOWN = "unknown", "Unknown, forged or replaced link"
    USED = "used", "Link used already"
    EXPIRED = "expired", "Link expired"
    REVOKED = "revoked", "Invitation revoked"
    SIGNED_IN = "signed_in", "Opened while signed in as someone"
    ACCOUNT_EXISTS = "account_exists", "The address has an account already"


class InvitationRefused(Exception):
    def __init__(self, reason: Refusal, invitation: Invitation | None = None) -> None:
        super().__init__(reason.value)
        self.reason = reason
        self.invitation = invitation


@dataclass(frozen=True)
class Held:
    """What the session keeps between opening the link and setting the password: the
    invitation's id and the hash of the link that was opened (never the link)."""

    invitation_id: int
    token_hash: str

    def as_session(self) -> dict[str, Any]:
        return {"id": self.invitation_id, "hash": self.token_hash}

    @classmethod
    def from_session(cls, value: Any) -> Held | None:
        if not isinstance(value, dict):
            return None
        pk, token_hash = value.get("id"), value.get("hash")
        if not isinstance(pk, int) or not isinstance(token_hash, str) or not token_hash:
            return None
        return cls(invitation_id=pk, token_hash=token_hash)


def hash_secret(secret: str) -> str:
    return hashlib.sha256(secret.encode("utf-8", "surrogatepass")).hexdigest()


def _matches(stored: str, candidate: str) -> bool:
    # An invitation whose email has not gone out yet (or was just re-sent) has no hash: nothing
    # matches it, the empty string included.
    return bool(stored) and hmac.compare_digest(stored, candidate)


def _rate_limited(partner: Partner) -> bool:
    conf = settings.RATE_LIMITS["invitation_email"]
    return not ratelimit.hit(
        scope="invitation_email",
        key=str(partner.pk),
        rate=ratelimit.Rate.parse(conf["rate"]),
        fail_open=conf["fail_open"],
    ).allowed


def _too_many() -> ValidationError:
    return ValidationError(
        _("Too many invitations were sent in the last hour. Please try again later.")
    )


def may_invite(actor: Actor, partner: Partner) -> bool:
    """The partner's owners and platform superusers invite from the admin; operators from the
    command line. Members and support staff never do."""
    if actor.kind == ActorKind.SYSTEM:
        return actor.via == Via.COMMAND
    account: Any = actor.account
    if account is None or not (account.is_active and account.is_staff):
        return False
    if account.is_superuser:
        return True
    return PartnerMembership.objects.filter(
        user=account, partner=partner, role=PartnerMembership.Role.OWNER
    ).exists()


def _supported(language: str | None) -> str:
    try:
        return translation.get_supported_language_variant(language or "")
    except LookupError:
        return str(settings.LANGUAGE_CODE)


def _queue_email(invitation_id: int) -> None:
    from booking.tasks import invitation_send

    transaction.on_commit(partial(invitation_send.delay, invitation_id))


def _detail(invitation: Invitation, **more: Any) -> dict[str, Any]:
    return {
        "partner_id": invitation.partner_id,
        "email": invitation.email,
        "role": invitation.role,
        **more,
    }


def invitation_create(
    *,
    partner: Partner,
    email: str,
    role: str,
    actor: Actor,
    staff_member: StaffMember | None = None,
    now: datetime | None = None,
    language: str | None = None,
    queue_email: bool = True,
) -> Invitation:
    """Invite `email` to work for `partner` as `role` (optionally as `staff_member`'s login). The
    email goes out after commit (`queue_email`; the command sends it itself). ValidationError
    for a bad address, a second pending invitation of the address, a staff member of another
    partner or with a login, too many emails; PermissionDenied when `actor` may not invite.
    The email is in `language` (default: the active language, the inviter's)."""
    if not may_invite(actor, partner):
        raise PermissionDenied
    now = now or timezone.now()
    with transaction.atomic():
        invitation = Invitation(
            partner=partner,
            email=email.strip().lower(),
            role=role,
            staff_member=staff_member,
            invited_by=cast(Any, actor.account),  # accounts.User, or None for a command
            created_at=now,
            expires_at=now + INVITATION_LIFETIME,
            language=_supported(language or translation.get_language()),
        )
        invitation.full_clean()
        if _rate_limited(partner):
            raise _too_many()
        try:
            with transaction.atomic():
                invitation.save()
        except IntegrityError as exc:
            # Another request invited the address between the check above and this insert
            # (the one unique constraint): the same answer as the check's.
            raise ValidationError(
                {"email": _("This address has a pending invitation already.")}
            ) from exc
        record_event(
            event_type=BookingEvent.INVITATION_SENT,
            actor=actor,
            target=f"invitation:{invitation.pk}",
            detail=_detail(invitation, staff_member_id=invitation.staff_member_id),
        )
        if queue_email:
            _queue_email(invitation.pk)
    return invitation


def invitation_resend(
    *, invitation: Invitation, actor: Actor, now: datetime | None = None, queue_email: bool = True
) -> bool:
    """A new email with a new link, valid INVITATION_LIFETIME from now; the older link stops
    working at once. False (nothing written) when the invitation is no longer pending."""
    if not may_invite(actor, invitation.partner):
        raise PermissionDenied
    now = now or timezone.now()
    with transaction.atomic():
        locked = (
            Invitation.objects.select_for_update(of=("self",))
            .filter(pk=invitation.pk, status=InvitationStatus.PENDING)
            .first()
        )
        if locked is None:
            return False
        if _rate_limited(locked.partner):
            raise _too_many()
        locked.token_hash = ""
        locked.expires_at = now + INVITATION_LIFETIME
        locked.save(update_fields=["token_hash", "expires_at"])
        record_event(
            event_type=BookingEvent.INVITATION_RESENT,
            actor=actor,
            target=f"invitation:{locked.pk}",
            detail=_detail(locked),
        )
        if queue_email:
            _queue_email(locked.pk)
    invitation.token_hash, invitation.expires_at = locked.token_hash, locked.expires_at
    return True


def invitation_revoke(*, invitation: Invitation, actor: Actor, now: datetime | None = None) -> bool:
    """End a pending invitation now (its link answers "revoked"). False when it was not pending."""
    if not may_invite(actor, invitation.partner):
        raise PermissionDenied
    now = now or timezone.now()
    with transaction.atomic():
        updated = Invitation.objects.filter(
            pk=invitation.pk, status=InvitationStatus.PENDING
        ).update(status=InvitationStatus.REVOKED, finished_at=now)
        if not updated:
            return False
        record_event(
            event_type=BookingEvent.INVITATION_REVOKED,
            actor=actor,
            target=f"invitation:{invitation.pk}",
            detail=_detail(invitation),
        )
    invitation.status, invitation.finished_at = InvitationStatus.REVOKED, now
    return True


def invitation_email_send(*, invitation_id: int, now: datetime | None = None) -> bool:
    """Make the link's secret, store its hash and email the link (the worker's task, or the
    command). False when the invitation is no longer pending or has expired: nothing is sent.
    A failed send raises (the task retries with a new secret; the unsent one never worked)."""
    now = now or timezone.now()
    with transaction.atomic():
        invitation = (
            Invitation.objects.select_for_update(of=("self",))
            .select_related("partner", "invited_by")
            .filter(pk=invitation_id, status=InvitationStatus.PENDING, expires_at__gt=now)
            .first()
        )
        if invitation is None:
            return False
        secret = secrets.token_urlsafe(32)
        invitation.token_hash = hash_secret(secret)
        invitation.sent_at = now
        invitation.save(update_fields=["token_hash", "sent_at"])
    link = settings.SITE_URL + reverse("booking:invitation", args=[f"{invitation.pk}.{secret}"])
    inviter: Any = invitation.invited_by
    with translation.override(invitation.language):
        _send(invitation, inviter=inviter, link=link)
    logger.info("invitation email sent", extra={"invitation_id": invitation.pk})
    return True


def _send(invitation: Invitation, *, inviter: Any, link: str) -> None:
    send_templated_mail(
        template="booking/email/invitation",
        context={
            "partner_name": invitation.partner.name,
            "role": role_label(invitation.role),
            "inviter": inviter.get_full_name() if inviter is not None else "",
            "invitation_url": link,
            "valid_hours": int(INVITATION_LIFETIME.total_seconds() // 3600),
            "site_url": settings.SITE_URL,
        },
        to=invitation.email,
    )


def _refuse(
    reason: Refusal, *, ip: str, invitation: Invitation | None = None, user: Any = None
) -> InvitationRefused:
    """Write the refusal's event (its own transaction: a refusal changes nothing else)."""
    with transaction.atomic():
        record_event(
            event_type=BookingEvent.INVITATION_REFUSED,
            actor=Actor.customer(via=Via.INVITATION_LINK, ip=ip)
            if user is None or not user.is_authenticated
            else Actor.user(user, ip=ip, via=Via.INVITATION_LINK),
            target=f"invitation:{invitation.pk}" if invitation is not None else "invitation",
            detail={
                "reason": reason.value,
                **({"partner_id": invitation.partner_id} if invitation is not None else {}),
            },
        )
    return InvitationRefused(reason, invitation)


def _email_taken(email: str) -> bool:
    User = get_user_model()
    return User._default_manager.filter(**{f"{User.EMAIL_FIELD}__iexact": email}).exists()


def _reason(
    invitation: Invitation | None, token_hash: str, *, user: Any, now: datetime
) -> Refusal | None:
    if invitation is None or not _matches(invitation.token_hash, token_hash):
        return Refusal.UNKNOWN
    if invitation.status == InvitationStatus.ACCEPTED:
        return Refusal.USED
    if invitation.status == InvitationStatus.REVOKED:
        return Refusal.REVOKED
    if invitation.is_expired(now):
        return Refusal.EXPIRED
    if user is not None and user.is_authenticated:
        return Refusal.SIGNED_IN
    if _email_taken(invitation.email):
        return Refusal.ACCOUNT_EXISTS
    return None


def _usable(
    invitation: Invitation | None, token_hash: str, *, user: Any, ip: str, now: datetime
) -> Invitation:
    reason = _reason(invitation, token_hash, user=user, now=now)
    if reason is None and invitation is not None:
        return invitation
    reason = reason or Refusal.UNKNOWN
    known = invitation if reason != Refusal.UNKNOWN else None
    raise _refuse(reason, ip=ip, invitation=known, user=user)


def invitation_check(*, token: str, user: Any, ip: str, now: datetime | None = None) -> Held:
    """The link as opened: what the session keeps, or InvitationRefused (and its event)."""
    now = now or timezone.now()
    match = _TOKEN.fullmatch(token)
    if match is None:
        raise _refuse(Refusal.UNKNOWN, ip=ip, user=user)
    invitation = Invitation.objects.filter(pk=int(match.group(1))).first()
    token_hash = hash_secret(match.group(2))
    _usable(invitation, token_hash, user=user, ip=ip, now=now)
    return Held(invitation_id=int(match.group(1)), token_hash=token_hash)


def invitation_held(
    *, held: Held | None, user: Any, ip: str, now: datetime | None = None
) -> Invitation:
    """The invitation the session opened, checked again (it may have been revoked, re-sent or
    used since), or InvitationRefused."""
    now = now or timezone.now()
    invitation = (
        Invitation.objects.select_related("partner", "staff_member")
        .filter(pk=held.invitation_id)
        .first()
        if held is not None
        else None
    )
    return _usable(invitation, held.token_hash if held else "", user=user, ip=ip, now=now)


def invitation_accept(*, held: Held, password: str, ip: str, now: datetime | None = None) -> Any:
    """Create the invited person's account with `password` (validated by the caller's form with
    the project's validators), give it the role's group and the membership of the partner, link
    it to the staff member if one was named, and close the invitation. Returns the new user; they
    enrol MFA next (the admin answers no one without it). InvitationRefused if the invitation
    is no longer usable."""
    now = now or timezone.now()
    with transaction.atomic():
        invitation = (
            Invitation.objects.select_for_update(of=("self",))
            .select_related("partner")
            .filter(pk=held.invitation_id)
            .first()
        )
        # Checked again under the row's lock: a second tab, a revocation or a re-send since the
        # page was shown. A refusal's event is written after this transaction has ended.
        reason = _reason(invitation, held.token_hash, user=None, now=now)
        if reason is None and invitation is not None:
            return _accept(invitation, password=password, ip=ip, now=now)
    reason = reason or Refusal.UNKNOWN
    raise _refuse(reason, ip=ip, invitation=invitation if reason != Refusal.UNKNOWN else None)


def _accept(invitation: Invitation, *, password: str, ip: str, now: datetime) -> Any:
    """invitation_accept's writes, in its transaction, the invitation's row locked."""
    user = get_user_model()(email=invitation.email, is_staff=True)
    user.set_password(password)
    user.full_clean()
    user.save()
    user.groups.add(Group.objects.get(name=MEMBERSHIP_GROUPS[invitation.role]))
    PartnerMembership.objects.create(partner=invitation.partner, user=user, role=invitation.role)
    linked = 0
    if invitation.staff_member_id is not None:
        # Only if the person still has no login: an owner may have linked someone since.
        linked = StaffMember.objects.filter(
            pk=invitation.staff_member_id, partner=invitation.partner, user__isnull=True
        ).update(user=user)
    invitation.status = InvitationStatus.ACCEPTED
    invitation.finished_at = now
    invitation.accepted_user = user
    invitation.save(update_fields=["status", "finished_at", "accepted_user"])
    record_event(
        event_type=BookingEvent.INVITATION_ACCEPTED,
        actor=Actor.user(user, ip=ip, via=Via.INVITATION_LINK),
        target=f"invitation:{invitation.pk}",
        detail=_detail(invitation, staff_member_id=invitation.staff_member_id if linked else None),
    )
    return user
