"""File integrity (C32): what a malware scanner on the host would catch first. The baseline is
the SHA-256 of every file under INTEGRITY_PATHS (the deployed code, templates and collected
static files; byte-code caches excluded), recorded after a deployment; an hourly job hashes them
again and alerts the operators when something changed, was added or removed (once per distinct
difference, and once when the files match again)."""

from __future__ import annotations

import hashlib
import json
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from pathlib import Path

from django.conf import settings
from django.db import transaction
from django.utils import timezone

from security.actors import Actor
from security.alerts import ops_alert
from security.events import SecurityEventType, record_event
from security.models import IntegrityBaseline, IntegrityCheck

_SKIP_DIRS = {"__pycache__", ".mypy_cache", ".ruff_cache", ".pytest_cache"}
_SKIP_SUFFIXES = {".pyc", ".pyo"}
# Checks older than this are forgotten (the newest of each difference is enough to compare).
KEEP_DAYS = 90


def _hash(path: Path) -> str:
    digest = hashlib.sha256()
    with open(path, "rb") as handle:
        while chunk := handle.read(1 << 20):
            digest.update(chunk)
    return digest.hexdigest()


def current_hashes() -> dict[str, str]:
    """path -> SHA-256 of every file under INTEGRITY_PATHS (a path may also name one file)."""
    hashes: dict[str, str] = {}
    for root in map(Path, settings.INTEGRITY_PATHS):
        if root.is_file():
            hashes[str(root)] = _hash(root)
            continue
        if not root.is_dir():
            continue
        for path in sorted(root.rglob("*")):
            if (
                path.is_file()
                and not path.is_symlink()
                and path.suffix not in _SKIP_SUFFIXES
                and not _SKIP_DIRS & set(path.relative_to(root).parts)
            ):
                hashes[str(path)] = _hash(path)
    return hashes


def _digest(document: object) -> str:
    return hashlib.sha256(json.dumps(document, sort_keys=True).encode()).hexdigest()


@transaction.atomic
def integrity_baseline_record(*, actor: Actor) -> IntegrityBaseline:
    files = current_hashes()
    baseline = IntegrityBaseline.objects.create(
        created_by=actor.job or (actor.account.get_username() if actor.account else ""),
        file_count=len(files),
        digest=_digest(sorted(files.items())),
        files=files,
    )
    record_event(
        event_type=SecurityEventType.INTEGRITY_BASELINE,
        actor=actor,
        target=f"integrity_baseline:{baseline.pk}",
        detail={"files": baseline.file_count, "digest": baseline.digest},
    )
    return baseline


@dataclass
class Difference:
    changed: list[str] = field(default_factory=list)
    added: list[str] = field(default_factory=list)
    removed: list[str] = field(default_factory=list)

    @property
    def ok(self) -> bool:
        return not (self.changed or self.added or self.removed)

    def lines(self, limit: int = 50) -> list[str]:
        out = [f"changed: {p}" for p in self.changed]
        out += [f"added: {p}" for p in self.added]
        out += [f"removed: {p}" for p in self.removed]
        return out[:limit] + ([f"... and {len(out) - limit} more"] if len(out) > limit else [])


def compare(baseline: IntegrityBaseline, files: dict[str, str]) -> Difference:
    recorded: dict[str, str] = baseline.files
    return Difference(
        changed=sorted(p for p in files.keys() & recorded.keys() if files[p] != recorded[p]),
        added=sorted(files.keys() - recorded.keys()),
        removed=sorted(recorded.keys() - files.keys()),
    )


def newest_baseline() -> IntegrityBaseline | None:
    return IntegrityBaseline.objects.order_by("-created_at", "-id").first()


def integrity_check(*, now: datetime | None = None) -> IntegrityCheck | None:
    """Hourly: hash, compare with the newest baseline, store, alert on a new difference. None
    when there is no baseline yet (the compliance report says so)."""
    now = now or timezone.now()
    baseline = newest_baseline()
    if baseline is None:
        return None
    difference = compare(baseline, current_hashes())
    digest = (
        "" if difference.ok else _digest([difference.changed, difference.added, difference.removed])
    )
    previous = (
        IntegrityCheck.objects.filter(baseline=baseline).order_by("-checked_at", "-id").first()
    )
    check = IntegrityCheck.objects.create(
        checked_at=now,
        baseline=baseline,
        changed=difference.changed,
        added=difference.added,
        removed=difference.removed,
        difference_digest=digest,
    )
    before = previous.difference_digest if previous is not None else ""
    if digest != before:
        if difference.ok:
            ops_alert(
                source="integrity",
                subject="deployed files match the baseline again",
                message=f"Baseline {baseline.pk} of {baseline.created_at:%Y-%m-%d %H:%M} UTC.",
                good_news=True,
            )
        else:
            ops_alert(
                source="integrity",
                subject=(
                    f"deployed files differ from the baseline: {len(difference.changed)} changed, "
                    f"{len(difference.added)} added, {len(difference.removed)} removed"
                ),
                message="\n".join(
                    [
                        *difference.lines(),
                        "",
                        "If this was a deployment, record a new baseline: manage.py integrity_baseline",
                    ]
                ),
                changed=len(difference.changed),
                added=len(difference.added),
                removed=len(difference.removed),
            )
    IntegrityCheck.objects.filter(checked_at__lt=now - timedelta(days=KEEP_DAYS)).delete()
    return check
