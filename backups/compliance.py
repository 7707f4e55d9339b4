"""backups' compliance checks (C21-C25), registered with security in BackupsConfig.ready().

Read only: what the destinations hold (backups.selectors) and what the jobs recorded (BackupLog).
Nothing here writes, so the checks can run every hour next to the backup jobs."""

from __future__ import annotations

from datetime import datetime, timedelta

from django.conf import settings
from django.utils.translation import gettext_lazy as _

from backups.models import BackupLog
from backups.selectors import Freshness, backup_freshness, backup_list, offline_destination
from security.compliance import Check, Finding, failed, passed, warned

# Daily jobs (the drill) count as current for a day plus the slack of a late beat.
DAILY_HOURS = 26
# The purge runs hourly (settings.schedule) and deletes what would pass the retention before
# its next run, so nothing may be older than the retention plus the slack of one late run.
PURGE_HOURS = 2


def _describe(status: Freshness) -> str:
    if status.error:
        return f"{status.destination}: unreachable ({status.error[:100]})"
    if status.newest is None:
        return f"{status.destination}: no backup"
    return (
        f"{status.destination}: newest {status.age_hours:.1f} h old (limit {status.limit_hours} h)"
    )


def _freshness(offline: bool) -> list[Freshness]:
    label = offline_destination().label
    return [s for s in backup_freshness() if (s.destination == label) == offline]


def _evidence(statuses: list[Freshness]) -> dict[str, object]:
    return {
        s.destination: {
            "newest": s.newest,
            "age_hours": round(s.age_hours, 1) if s.age_hours is not None else None,
            "limit_hours": s.limit_hours,
            "error": s.error or None,
        }
        for s in statuses
    }


def regular_backups(now: datetime) -> Finding:
    statuses = _freshness(offline=False)
    evidence = {"destinations": _evidence(statuses)}
    stale = [s for s in statuses if not s.ok]
    if stale:
        return failed("; ".join(_describe(s) for s in stale), **evidence)
    if len(statuses) < 3:
        return failed(f"only {len(statuses)} backup destinations (3 needed)", **evidence)
    oldest = max(s.age_hours or 0 for s in statuses)
    return passed(
        f"{len(statuses)} destinations, newest backup at most {oldest:.1f} h old", **evidence
    )


def offline_copy(now: datetime) -> Finding:
    statuses = _freshness(offline=True)
    evidence = {"destinations": _evidence(statuses)}
    if not statuses or not statuses[0].ok:
        return failed(
            "; ".join(_describe(s) for s in statuses) or "no offline destination", **evidence
        )
    return passed(f"offline copy {statuses[0].age_hours:.1f} h old", **evidence)


def _last(action: str) -> BackupLog | None:
    return BackupLog.objects.filter(action=action).order_by("-created_at", "-id").first()


def _log_evidence(log: BackupLog | None) -> dict[str, object]:
    if log is None:
        return {"last": None}
    return {
        "last": log.created_at.isoformat(),
        "ok": log.ok,
        "backup_id": log.backup_id,
        "detail": log.detail[:300],
    }


def restore_drill(now: datetime) -> Finding:
    log = _last(BackupLog.Action.DRILL)
    evidence = _log_evidence(log)
    if log is None:
        return failed("no restore drill has run yet", **evidence)
    if not log.ok:
        return failed(f"the last restore drill failed: {log.detail[:200]}", **evidence)
    hours = (now - log.created_at).total_seconds() / 3600
    if hours > DAILY_HOURS:
        return failed(f"the last restore drill ran {hours:.0f} h ago", **evidence)
    return passed(f"drill restored {log.backup_id} {hours:.1f} h ago: {log.detail}", **evidence)


def encrypted_and_verified(now: datetime) -> Finding:
    listing = backup_list(include_offline=True)
    newest = max((c.backup_id for c in listing.copies if not c.offline), default=None)
    copies = [c for c in listing.copies if c.backup_id == newest]
    results = {
        c.destination: c.verification.result if c.verification else "never checked" for c in copies
    }
    evidence = {
        "public_key_configured": bool(settings.BACKUP_PUBLIC_KEY) or settings.DEBUG,
        "newest_backup": newest,
        "verification": results,
        "unreachable": listing.unreachable,
    }
    if not evidence["public_key_configured"]:
        return failed("BACKUP_PUBLIC_KEY is not set: backups cannot be encrypted", **evidence)
    if newest is None:
        return failed("no complete backup to verify", **evidence)
    bad = {d: r for d, r in results.items() if r != "ok"}
    if bad:
        return failed(
            f"copies of {newest} not verified: " + ", ".join(f"{d} {r}" for d, r in bad.items()),
            **evidence,
        )
    return passed(f"{newest} encrypted and verified on {len(copies)} destinations", **evidence)


def retention(now: datetime) -> Finding:
    log = _last(BackupLog.Action.PURGE)
    listing = backup_list(include_offline=True)
    oldest = min(listing.copies, key=lambda c: c.created_at, default=None)
    limit = timedelta(days=settings.BACKUP_RETENTION_DAYS, hours=PURGE_HOURS)
    evidence = {
        **{f"purge_{k}": v for k, v in _log_evidence(log).items()},
        "retention_days": settings.BACKUP_RETENTION_DAYS,
        "oldest_backup": oldest.backup_id if oldest else None,
        "oldest_on": oldest.destination if oldest else None,
        "oldest_age_days": round(oldest.age.total_seconds() / 86400, 1) if oldest else None,
    }
    if oldest is not None and now - oldest.created_at > limit:
        return failed(
            f"{oldest.backup_id} on {oldest.destination} is older than "
            f"{settings.BACKUP_RETENTION_DAYS} days",
            **evidence,
        )
    if log is not None and not log.ok:
        return failed(f"the last purge failed: {log.detail[:200]}", **evidence)
    if log is None or (now - log.created_at).total_seconds() / 3600 > PURGE_HOURS:
        return warned(f"no purge in the last {PURGE_HOURS} hours", **evidence)
    return passed(
        f"purged hourly; oldest backup {evidence['oldest_age_days']} days old "
        f"(limit {settings.BACKUP_RETENTION_DAYS})",
        **evidence,
    )


CHECKS = [
    Check("C21", _("Backups every 12 hours on 3 destinations"), regular_backups),
    Check("C22", _("Daily offline copy"), offline_copy),
    Check("C23", _("Restore drill"), restore_drill),
    Check("C24", _("Encrypted, checksummed, verified backups"), encrypted_and_verified),
    Check("C25", _("Backups kept at most 30 days"), retention),
]
