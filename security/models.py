from __future__ import annotations

from django.conf import settings
from django.db import models
from django.utils import timezone


class CspReport(models.Model):
    """A Content-Security-Policy violation reported by a browser (C06). Read-only in the admin.
    Fields are truncated on the way in; the endpoint is size- and rate-limited."""

    received_at = models.DateTimeField(default=timezone.now, db_index=True)
    document_uri = models.CharField(max_length=500, blank=True)
    violated_directive = models.CharField(max_length=200, blank=True)
    blocked_uri = models.CharField(max_length=500, blank=True)
    source_file = models.CharField(max_length=500, blank=True)
    line_number = models.PositiveIntegerField(null=True, blank=True)
    sample = models.CharField(max_length=200, blank=True)
    user_agent = models.CharField(max_length=300, blank=True)

    class Meta:
        ordering = ["-received_at"]
        verbose_name = "CSP violation report"

    def __str__(self) -> str:
        return f"{self.violated_directive} on {self.document_uri}"


class SecurityEvent(models.Model):
    """One row of the append-only, tamper-evident security log (C31).

    Rows are only ever inserted, through `security.events.record_event`. Each row's `hash` is
    SHA-256 over the previous row's hash and the canonical JSON of its own fields, so editing or
    deleting a row breaks the chain at the next row (`verify_chain`, `manage.py security_events
    --verify`). `actor` is a convenience link that becomes NULL when the user is deleted; the
    hashed identity is the `actor_email` snapshot."""

    class Type(models.TextChoices):
        LOGIN_SUCCESS = "login_success", "Login succeeded"
        LOGIN_FAILURE = "login_failure", "Login failed"
        LOCKOUT = "lockout", "Account locked out"
        UNLOCK = "unlock", "Account unlocked"
        MFA_ENROLLED = "mfa_enrolled", "MFA enrolled"
        MFA_REMOVED = "mfa_removed", "MFA removed"
        MFA_SUCCESS = "mfa_success", "MFA passed"
        MFA_FAILURE = "mfa_failure", "MFA code refused"
        MFA_BACKUP_CODE_USED = "mfa_backup_code_used", "MFA backup code used"
        MFA_BACKUP_CODES_REGENERATED = (
            "mfa_backup_codes_regenerated",
            "MFA backup codes regenerated",
        )
        MFA_RESET = "mfa_reset", "MFA reset by an operator"
        PASSWORD_CHANGE = "password_change", "Password changed"
        PERMISSION_DENIED = "permission_denied", "Permission denied"
        SUPPORT_ACCESS = "support_access", "Customer data viewed by platform staff"
        DATA_EXPORT = "data_export", "Data exported"
        SUPPORT_GRANT_CREATED = "support_grant_created", "Support grant created"
        SUPPORT_GRANT_REVOKED = "support_grant_revoked", "Support grant revoked"
        OPS_ALERT = "ops_alert", "Operations alert (backups, compliance)"
        PAYMENT_WEBHOOK_REJECTED = (
            "payment_webhook_rejected",
            "Payment webhook refused (signature, age, format)",
        )
        PAYMENT_WEBHOOK_REPLAYED = (
            "payment_webhook_replayed",
            "Payment webhook event received again",
        )
        PAYMENT_MISMATCH = "payment_mismatch", "Payment event not matching our records"
        REFUND = "refund", "Payment refunded"

    created_at = models.DateTimeField(default=timezone.now, db_index=True)
    event_type = models.CharField(max_length=40, choices=Type.choices, db_index=True)
    actor = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    actor_email = models.CharField(max_length=254, blank=True)
    ip = models.CharField(max_length=45, blank=True)
    target = models.CharField(max_length=500, blank=True)
    detail = models.JSONField(default=dict, blank=True)
    prev_hash = models.CharField(max_length=64, blank=True)
    hash = models.CharField(max_length=64, unique=True)

    class Meta:
        ordering = ["-id"]
        verbose_name = "security event"

    def __str__(self) -> str:
        return f"{self.created_at:%Y-%m-%d %H:%M:%S} {self.event_type} {self.actor_email}".strip()
