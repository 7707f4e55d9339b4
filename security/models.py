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
    hashed identity is the `actor_email` snapshot.

    Hash format 2 (every row written since partner deletion exists): the chain hashes a salted
    SHA-256 commitment (`personal_digest`) to the personal fields (actor_email, ip, target,
    detail) instead of the fields themselves. While the row is whole, verification recomputes
    the commitment from the fields and the salt; `events_pseudonymise` replaces the fields by a
    pseudonym and drops the salt (without it the stored digest cannot be tested against guessed
    addresses), and from then on the stored digest stands for them. Format 1 rows (older) hash
    the fields directly: they keep verifying as before and cannot be pseudonymised."""

    class HashVersion(models.IntegerChoices):
        FIELDS = 1, "Fields hashed directly"
        COMMITMENT = 2, "Personal fields hashed through a salted commitment"

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
    hash_version = models.PositiveSmallIntegerField(
        choices=HashVersion.choices, default=HashVersion.FIELDS
    )
    # Format 2: hex of 32 random bytes, emptied when the row is pseudonymised.
    personal_salt = models.CharField(max_length=64, blank=True)
    personal_digest = models.CharField(max_length=64, blank=True)
    # When the personal fields were replaced by a pseudonym (partner deletion, customer erasure).
    pseudonymised_at = models.DateTimeField(null=True, blank=True)
    # The row's hash before migration 0011 re-sealed format 1 rows into format 2 (and every row
    # after them, whose predecessor's hash changed): anchors written before still name it. Part
    # of the row's format 2 hash, so it cannot be edited unseen.
    legacy_hash = models.CharField(max_length=64, blank=True)

    class Meta:
        ordering = ["-id"]
        verbose_name = "security event"
        constraints = [
            models.CheckConstraint(
                condition=models.Q(hash_version__in=[1, 2]), name="security_event_hash_version"
            ),
            # Only a format 2 row can be pseudonymised, and a pseudonymised row keeps no salt.
            models.CheckConstraint(
                condition=models.Q(pseudonymised_at__isnull=True)
                | models.Q(hash_version=2, personal_salt=""),
                name="security_event_pseudonymised_format",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.created_at:%Y-%m-%d %H:%M:%S} {self.event_type} {self.actor_email}".strip()

    @property
    def event_type_label(self) -> str:
        from security.events import event_type_label

        return event_type_label(self.event_type)


class ComplianceState(models.Model):
    """The current state of one control (C30): what the hourly check last found and since when
    the status has been what it is. The job compares each new result with this row, under a row
    lock, so a change is alerted exactly once even when two runs overlap."""

    control = models.CharField(max_length=3, unique=True)
    title = models.CharField(max_length=200)
    status = models.CharField(max_length=4)
    reason = models.CharField(max_length=500)
    evidence = models.JSONField(default=dict, blank=True)
    since = models.DateTimeField()
    evaluated_at = models.DateTimeField()

    class Meta:
        ordering = ["control"]
        verbose_name = "compliance control"
        constraints = [
            models.CheckConstraint(
                condition=models.Q(status__in=["pass", "warn", "fail"]),
                name="compliance_state_status_valid",
            )
        ]

    def __str__(self) -> str:
        return f"{self.control} {self.status}"


class ComplianceResult(models.Model):
    """One evaluation of one control by the hourly job: the history behind ComplianceState."""

    control = models.CharField(max_length=3)
    status = models.CharField(max_length=4)
    reason = models.CharField(max_length=500)
    evidence = models.JSONField(default=dict, blank=True)
    evaluated_at = models.DateTimeField()
    # The status differs from the previous result's: an alert went out for it.
    changed = models.BooleanField(default=False)

    class Meta:
        ordering = ["-evaluated_at", "-id"]
        indexes = [models.Index(fields=["control", "-evaluated_at"], name="compliance_history")]
        constraints = [
            models.CheckConstraint(
                condition=models.Q(status__in=["pass", "warn", "fail"]),
                name="compliance_result_status_valid",
            )
        ]

    def __str__(self) -> str:
        return f"{self.control} {self.status} at {self.evaluated_at:%Y-%m-%d %H:%M} UTC"


class IntegrityBaseline(models.Model):
    """The SHA-256 of every deployed code and static file (C32), recorded by
    `manage.py integrity_baseline` after a deployment. Kept in the database, off the host whose
    files it describes: someone who changes the code there cannot change the baseline too."""

    created_at = models.DateTimeField(default=timezone.now)
    created_by = models.CharField(max_length=100, blank=True)
    file_count = models.PositiveIntegerField()
    digest = models.CharField(max_length=64)  # over the sorted (path, hash) list
    files = models.JSONField(default=dict)

    class Meta:
        ordering = ["-created_at", "-id"]
        verbose_name = "file integrity baseline"

    def __str__(self) -> str:
        return f"{self.file_count} files at {self.created_at:%Y-%m-%d %H:%M} UTC"


class IntegrityCheck(models.Model):
    """One hourly comparison of the deployed files with the newest baseline."""

    checked_at = models.DateTimeField(default=timezone.now, db_index=True)
    baseline = models.ForeignKey(IntegrityBaseline, on_delete=models.CASCADE, related_name="checks")
    changed = models.JSONField(default=list)
    added = models.JSONField(default=list)
    removed = models.JSONField(default=list)
    # Over the three lists: two checks with the same difference have the same digest.
    difference_digest = models.CharField(max_length=64, blank=True)

    class Meta:
        ordering = ["-checked_at", "-id"]

    def __str__(self) -> str:
        return f"integrity check at {self.checked_at:%Y-%m-%d %H:%M} UTC"

    @property
    def ok(self) -> bool:
        return not (self.changed or self.added or self.removed)


class PersonnelRecord(models.Model):
    """A platform staff member's signed confidentiality agreement or completed security training
    (C15), recorded by a superuser. Append-only: a new agreement or training is a new row."""

    class Kind(models.TextChoices):
        CONFIDENTIALITY_AGREEMENT = "confidentiality_agreement", "Signed confidentiality agreement"
        SECURITY_TRAINING = "security_training", "Completed security training"

    user = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="personnel_records"
    )
    kind = models.CharField(max_length=30, choices=Kind.choices)
    on = models.DateField("date", help_text="When it was signed or completed.")
    note = models.CharField(
        max_length=200, blank=True, help_text="e.g. the agreement's version or the course."
    )
    recorded_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, on_delete=models.SET_NULL, related_name="+"
    )
    recorded_at = models.DateTimeField(default=timezone.now)

    class Meta:
        ordering = ["-on", "-id"]
        verbose_name = "personnel record"
        constraints = [
            models.CheckConstraint(
                condition=models.Q(kind__in=["confidentiality_agreement", "security_training"]),
                name="personnel_record_kind_valid",
            )
        ]

    def __str__(self) -> str:
        return f"{self.get_kind_display()} of {self.user} on {self.on:%Y-%m-%d}"
