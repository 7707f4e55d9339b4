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

    created_at = models.DateTimeField(default=timezone.now, db_index=True)
    # No choices here: each app registers its own event types at start-up (security.events), so a
    # new type needs no migration of this app; record_event refuses unregistered ones.
    event_type = models.CharField(max_length=40, db_index=True)
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

    @property
    def event_type_label(self) -> str:
        from security.events import event_type_label

        return event_type_label(self.event_type)
