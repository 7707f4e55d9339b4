"""Account writes: MFA (C13) enrolment, the code check, backup codes and the operator's reset, each
writing its security event (C31) in the same transaction as the change it logs; and the password
reset emails."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from functools import partial
from typing import Any

from django.conf import settings
from django.contrib.auth import get_user_model
from django.contrib.auth.tokens import default_token_generator
from django.db import transaction
from django.urls import reverse
from django.utils import timezone
from django.utils.encoding import force_bytes
from django.utils.http import urlsafe_base64_encode
from django_otp.models import Device
from django_otp.plugins.otp_totp.models import TOTPDevice

from accounts import backup_codes
from accounts.events import AccountEvent
from accounts.models import BackupCode, BackupCodeDevice, User
from security.events import record_event
from security.mail import send_templated_mail

AUTHENTICATOR_NAME = "Authenticator app"
BACKUP_CODES_NAME = "Backup codes"
TOTP, BACKUP_CODE = "totp", "backup_code"


@dataclass(frozen=True)
class Enrolment:
    device: TOTPDevice
    backup_codes: list[str]  # shown once, never stored


@dataclass(frozen=True)
class CodeCheck:
    device: Device  # the device that accepted the code
    method: str
    backup_codes_left: int | None = None


class CodeRefused(Exception):
    """A wrong or already used code, or one not even checked because of django-otp's back-off
    after wrong codes in a row (`retry_at`: when the next code will be checked)."""

    def __init__(self, retry_at: datetime | None = None) -> None:
        super().__init__("MFA code refused")
        self.retry_at = retry_at


def _throttled_until(device: Device) -> datetime | None:
    allowed, info = device.verify_is_allowed()
    return None if allowed else (info or {}).get("locked_until") or timezone.now()


def mfa_enrolment_start(*, user: User, pending_device_id: object) -> TOTPDevice:
    """The unconfirmed authenticator an enrolment shows: the session's own if it still exists,
    otherwise a new one with a new secret. Unconfirmed devices of other sessions are removed, so
    a secret once shown elsewhere can never be the one confirmed here."""
    with transaction.atomic():
        if isinstance(pending_device_id, int):
            device = TOTPDevice.objects.filter(
                pk=pending_device_id, user=user, confirmed=False
            ).first()
            if device is not None:
                return device
        TOTPDevice.objects.filter(user=user, confirmed=False).delete()
        device = TOTPDevice(user=user, name=AUTHENTICATOR_NAME, confirmed=False)
        device.full_clean()
        device.save()
        return device


def mfa_enrolment_confirm(*, user: User, device_id: int, code: str, ip: str) -> Enrolment:
    """Confirm the pending device with its first code (CodeRefused if it is wrong).

    1. Lock the pending device row; django-otp checks the code (and remembers its time step, so
       the same code cannot pass the MFA step afterwards).
    2. Confirm it; any earlier authenticator of the user is removed (re-enrolment replaces it).
    3. New backup codes replace any old ones; they are returned to be shown once.
    """
    with transaction.atomic():
        device = (
            TOTPDevice.objects.select_for_update()
            .filter(pk=device_id, user=user, confirmed=False)
            .first()
        )
        retry_at = _throttled_until(device) if device is not None else None
        ok = device is not None and retry_at is None and device.verify_token(code)
    # Raised outside the transaction: a failure's throttling count must be kept.
    if device is None or not ok:
        raise CodeRefused(retry_at)
    with transaction.atomic():
        replaced, _ = TOTPDevice.objects.filter(user=user, confirmed=True).delete()
        device.confirmed = True
        device.save(update_fields=["confirmed"])
        codes = _backup_codes_replace(user)
        record_event(
            event_type=AccountEvent.MFA_ENROLLED,
            actor=user,
            ip=ip,
            target=user.get_username(),
            detail={"method": TOTP, "replaced_devices": replaced, "backup_codes": len(codes)},
        )
    return Enrolment(device=device, backup_codes=codes)


def mfa_check_code(*, user: User, method: str, code: str, ip: str) -> CodeCheck:
    """Check one MFA code (CodeRefused if it does not pass). The caller has refused locked
    addresses before, and reports a refusal as a failure (security.lockout.step_failed), which also
    counts it towards the lockout and logs it.

    1. Lock the user's device row (as django_otp.verify_token does), so two requests with the
       same code are checked one after the other.
    2. TOTP: django-otp accepts a code only for a later time step than the last one accepted
       (last_t): a code works once. Backup code: the matching row is deleted.
    3. Success is logged here: mfa_success, and mfa_backup_code_used for a backup code.
    """
    model = TOTPDevice if method == TOTP else BackupCodeDevice
    left: int | None = None
    with transaction.atomic():
        device = (
            model.objects.select_for_update()
            .filter(user=user, confirmed=True)
            .order_by("pk")
            .first()
        )
        retry_at = _throttled_until(device) if device is not None else None
        ok = device is not None and retry_at is None and device.verify_token(code)
        if ok:
            detail: dict[str, Any] = {"method": method}
            if isinstance(device, BackupCodeDevice):
                left = detail["backup_codes_left"] = device.codes.count()
            record_event(
                event_type=AccountEvent.MFA_SUCCESS,
                actor=user,
                ip=ip,
                target=user.get_username(),
                detail=detail,
            )
            if method == BACKUP_CODE:
                record_event(
                    event_type=AccountEvent.MFA_BACKUP_CODE_USED,
                    actor=user,
                    ip=ip,
                    target=user.get_username(),
                    detail={"backup_codes_left": left},
                )
    # Raised outside the transaction: a failure's throttling count must be kept.
    if device is None or not ok:
        raise CodeRefused(retry_at)
    return CodeCheck(device=device, method=method, backup_codes_left=left)


def mfa_backup_codes_regenerate(*, user: User, ip: str) -> list[str]:
    """New backup codes; every old one stops working. Returned to be shown once."""
    with transaction.atomic():
        codes = _backup_codes_replace(user)
        record_event(
            event_type=AccountEvent.MFA_BACKUP_CODES_REGENERATED,
            actor=user,
            ip=ip,
            target=user.get_username(),
            detail={"backup_codes": len(codes)},
        )
    return codes


@transaction.atomic
def mfa_reset(*, user: User, reason: str = "", by: str = "manage.py mfa_reset") -> int:
    """An operator removes all of a user's MFA devices (lost phone); the user enrols again at the
    next login, and sessions verified by the removed devices end (security.mfa). Returns the
    number of devices removed."""
    totp, _ = TOTPDevice.objects.filter(user=user).delete()
    backup = BackupCodeDevice.objects.filter(user=user)
    backup_sets = backup.count()
    backup.delete()
    record_event(
        event_type=AccountEvent.MFA_RESET,
        target=user.get_username(),
        detail={"devices_removed": totp + backup_sets, "reason": reason[:500], "by": by},
    )
    return totp + backup_sets


def _backup_codes_replace(user: User) -> list[str]:
    device, _ = BackupCodeDevice.objects.select_for_update().get_or_create(
        user=user, defaults={"name": BACKUP_CODES_NAME}
    )
    device.codes.all().delete()
    device.throttle_reset()
    codes = backup_codes.generate()
    salts = [backup_codes.new_salt() for _ in codes]
    BackupCode.objects.bulk_create(
        BackupCode(device=device, salt=salt, code_hash=backup_codes.digest(code, salt))
        for code, salt in zip(codes, salts, strict=True)
    )
    return codes


def _resettable_users(**lookup: Any) -> list[User]:
    """Accounts that may reset their password by email: active staff with a usable password."""
    User = get_user_model()
    return [
        u
        for u in User._default_manager.filter(is_active=True, is_staff=True, **lookup)
        if u.has_usable_password()
    ]


def password_reset_request(*, email: str) -> None:
    """Queue the reset email if `email` belongs to an account that may reset its password, and do
    nothing otherwise. The caller answers the same either way, and the email goes out from the
    worker, so neither the answer nor its timing tells whether the account exists."""
    from accounts.tasks import password_reset_email_send

    field = f"{get_user_model().EMAIL_FIELD}__iexact"
    for user in _resettable_users(**{field: email.strip()}):
        transaction.on_commit(partial(password_reset_email_send.delay, user.pk))


def password_reset_email_send(*, user_id: int) -> bool:
    """Email the user a link to set a new password (Django's token: single use, as it depends
    on the password hash and last login, and valid PASSWORD_RESET_TIMEOUT seconds)."""
    user = next(iter(_resettable_users(pk=user_id)), None)
    if user is None:
        return False
    path = reverse(
        "accounts:password-reset-confirm",
        kwargs={
            "uidb64": urlsafe_base64_encode(force_bytes(user.pk)),
            "token": default_token_generator.make_token(user),
        },
    )
    context = {
        "user": user,
        "reset_url": f"{settings.SITE_URL}{path}",
        "valid_hours": settings.PASSWORD_RESET_TIMEOUT // 3600,
        "site_url": settings.SITE_URL,
    }
    send_templated_mail(
        template="accounts/email/password_reset",
        context=context,
        to=getattr(user, user.get_email_field_name()),
    )
    return True
