from __future__ import annotations

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
