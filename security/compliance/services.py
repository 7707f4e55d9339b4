"""The hourly compliance job (C30): evaluate every control, store each result, and alert the
operators on every change of status (pass to warn or fail, and back), once per change."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta

from django.conf import settings
from django.db import transaction
from django.utils import timezone

from security.alerts import ops_alert
from security.compliance import Result, Status, evaluate
from security.models import ComplianceResult, ComplianceState


@dataclass(frozen=True)
class Change:
    control: str
    title: str
    before: str  # "" for a control seen for the first time
    after: str
    reason: str


def _store(result: Result) -> Change | None:
    """Store one result; the change it makes, if any. The state row is locked, so of two runs
    storing at once the second compares with the first one's result."""
    with transaction.atomic():
        state = ComplianceState.objects.select_for_update().filter(control=result.control).first()
        before = state.status if state is not None else ""
        changed = before != result.status and not (before == "" and result.status == Status.PASS)
        since = state.since if state is not None and before == result.status else None
        ComplianceState.objects.update_or_create(
            control=result.control,
            defaults={
                "title": result.title[:200],
                "status": result.status,
                "reason": result.reason[:500],
                "evidence": result.evidence,
                "since": since or result.evaluated_at,
                "evaluated_at": result.evaluated_at,
            },
        )
        ComplianceResult.objects.create(
            control=result.control,
            status=result.status,
            reason=result.reason[:500],
            evidence=result.evidence,
            evaluated_at=result.evaluated_at,
            changed=changed,
        )
    if not changed:
        return None
    return Change(result.control, result.title, before, str(result.status), result.reason)


def _alert(changes: list[Change]) -> None:
    broken = [c for c in changes if c.after != Status.PASS]
    names = ", ".join(
        f"{c.control} {'passes again' if c.after == Status.PASS else c.after + 's'}"
        for c in changes
    )
    lines = [
        f"{c.control} {c.title}: {c.before or 'new'} -> {c.after}. {c.reason}" for c in changes
    ]
    lines.append("")
    lines.append("Details: manage.py compliance_report, or the admin's compliance page.")
    ops_alert(
        source="compliance",
        subject=names,
        message="\n".join(lines),
        good_news=not broken,
        controls={c.control: c.after for c in changes},
    )


def compliance_run(*, now: datetime | None = None) -> list[Result]:
    """Evaluate, store, alert on changes, and forget results older than the history period."""
    now = now or timezone.now()
    results = evaluate(now=now)
    changes = [change for result in results if (change := _store(result)) is not None]
    if changes:
        _alert(changes)
    ComplianceResult.objects.filter(
        evaluated_at__lt=now - timedelta(days=settings.COMPLIANCE_HISTORY_DAYS)
    ).delete()
    return results


def last_run_at() -> datetime | None:
    return (
        ComplianceResult.objects.order_by("-evaluated_at")
        .values_list("evaluated_at", flat=True)
        .first()
    )
