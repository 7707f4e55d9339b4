"""The security event types of accounts (MFA), registered with security at start-up."""

from __future__ import annotations

from django.db.models import TextChoices


class AccountEvent(TextChoices):
    MFA_ENROLLED = "mfa_enrolled", "MFA enrolled"
    MFA_SUCCESS = "mfa_success", "MFA passed"
    MFA_BACKUP_CODE_USED = "mfa_backup_code_used", "MFA backup code used"
    MFA_BACKUP_CODES_REGENERATED = "mfa_backup_codes_regenerated", "MFA backup codes regenerated"
    MFA_RESET = "mfa_reset", "MFA reset by an operator"
