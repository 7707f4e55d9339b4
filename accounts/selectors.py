"""Reads about a user's MFA devices (C13)."""

from __future__ import annotations

from dataclasses import dataclass

from django_otp.plugins.otp_totp.models import TOTPDevice

from accounts.models import BackupCode, User


@dataclass(frozen=True)
class MfaStatus:
    authenticator: TOTPDevice | None
    backup_codes_left: int


def mfa_enrolled(*, user: User) -> bool:
    """Has the user a confirmed authenticator app? (Backup codes alone are not an enrolment.)"""
    return TOTPDevice.objects.filter(user=user, confirmed=True).exists()


def mfa_pending_device(*, user: User, device_id: object) -> TOTPDevice | None:
    """The unconfirmed device an enrolment in progress shows (its id is kept in the session)."""
    if not isinstance(device_id, int):
        return None
    return TOTPDevice.objects.filter(pk=device_id, user=user, confirmed=False).first()


def mfa_status(*, user: User) -> MfaStatus:
    return MfaStatus(
        authenticator=TOTPDevice.objects.filter(user=user, confirmed=True).order_by("pk").first(),
        backup_codes_left=BackupCode.objects.filter(device__user=user).count(),
    )
