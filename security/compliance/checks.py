"""security's own compliance checks (C30). Each judges live evidence: the running settings,
Django's deploy checks, the database, the files of this deployment. Registered in
SecurityConfig.ready(); the other apps register theirs the same way."""

from __future__ import annotations

import hashlib
import re
import sys
from collections import Counter
from datetime import date, datetime, timedelta
from pathlib import Path
from typing import Any

import django
from django.conf import settings
from django.contrib.auth import get_user_model
from django.contrib.auth.hashers import BCryptSHA256PasswordHasher
from django.core import checks as django_checks
from django.http import HttpRequest
from django.urls import resolve
from django.utils.module_loading import import_string
from django.utils.translation import gettext_lazy as _

from security.compliance import Check, Finding, failed, passed, warned
from security.compliance.encryption import field_encryption

# --- C02: support windows ------------------------------------------------------------------------
# The last day each line gets security fixes (Django: the LTS's extended support; Python: the end
# of its security releases). A version missing here fails the check: add its date when upgrading.
SUPPORT_ENDS: dict[str, dict[str, date]] = {
    "Django": {"5.2": date(2028, 4, 30)},
    "Python": {"3.11": date(2027, 10, 31), "3.12": date(2028, 10, 31), "3.13": date(2029, 10, 31)},
}
SUPPORT_WARN_DAYS = 180


def _version(name: str) -> str:
    if name == "Django":
        return "{}.{}".format(*django.VERSION[:2])
    return "{}.{}".format(*sys.version_info[:2])


def support_windows(now: datetime) -> Finding:
    today = now.date()
    evidence: dict[str, Any] = {}
    problems, warnings = [], []
    for name, table in SUPPORT_ENDS.items():
        version = _version(name)
        end = table.get(version)
        evidence[name] = {
            "version": version,
            "security_support_ends": end.isoformat() if end else None,
        }
        if end is None:
            problems.append(f"{name} {version} has no known support end date")
        elif today > end:
            problems.append(f"{name} {version} lost security support on {end.isoformat()}")
        elif (end - today).days <= SUPPORT_WARN_DAYS:
            warnings.append(f"{name} {version} loses security support on {end.isoformat()}")
    if problems:
        return failed("; ".join(problems + warnings), **evidence)
    if warnings:
        return warned("; ".join(warnings) + ": plan the upgrade", **evidence)
    ends = ", ".join(
        f"{n} {e['version']} until {e['security_support_ends']}" for n, e in evidence.items()
    )
    return passed(f"supported: {ends}", **evidence)


# --- C03: dependencies ---------------------------------------------------------------------------
LOCK_FILE = "requirements.lock"
DEPENDABOT_FILE = ".github/dependabot.yml"
LOCK_WARN_DAYS = 60
_PIN = re.compile(r"^([A-Za-z0-9_.\-]+)==(\S+)")


def lock_file_facts(text: str) -> dict[str, Any]:
    """Pinned requirements of a pip-compile lock and which of them carry hashes."""
    pins: dict[str, bool] = {}
    current = ""
    for line in text.splitlines():
        match = _PIN.match(line)
        if match:
            current = match.group(1).lower()
            pins[current] = False
        elif current and line.strip().startswith("--hash=sha256:"):
            pins[current] = True
        elif line and not line.startswith((" ", "#")):
            current = ""
    unpinned = [
        line.split()[0]
        for line in text.splitlines()
        if line and not line.startswith((" ", "#", "-")) and not _PIN.match(line)
    ]
    return {
        "pinned": len(pins),
        "without_hash": sorted(name for name, hashed in pins.items() if not hashed),
        "unpinned": unpinned,
    }


def _lock_first_seen(sha: str, now: datetime) -> datetime:
    """When the hourly job first saw this lock content (now, if it never stored it)."""
    from security.models import ComplianceResult

    history = ComplianceResult.objects.filter(control="C03")
    other = (
        history.exclude(evidence__lock_sha256=sha)
        .order_by("-evaluated_at")
        .values_list("evaluated_at", flat=True)
        .first()
    )
    same = history.filter(evidence__lock_sha256=sha)
    if other is not None:
        same = same.filter(evaluated_at__gt=other)
    first = same.order_by("evaluated_at").values_list("evaluated_at", flat=True).first()
    return first or now


def dependencies(now: datetime) -> Finding:
    base = Path(settings.BASE_DIR)
    lock = base / LOCK_FILE
    if not lock.is_file():
        return failed(f"{LOCK_FILE} is missing: the installed dependencies are not pinned")
    raw = lock.read_bytes()
    facts = lock_file_facts(raw.decode("utf-8", "replace"))
    sha = hashlib.sha256(raw).hexdigest()
    first_seen = _lock_first_seen(sha, now)
    age_days = (now - first_seen).days
    dependabot = base / DEPENDABOT_FILE
    config = dependabot.read_text(encoding="utf-8") if dependabot.is_file() else ""
    updates = "package-ecosystem: pip" in config and "interval:" in config
    evidence = {
        **facts,
        "lock_sha256": sha,
        "lock_unchanged_since": first_seen.isoformat(),
        "lock_unchanged_days": age_days,
        "dependency_updates": DEPENDABOT_FILE if updates else None,
    }
    if facts["without_hash"] or facts["unpinned"] or not facts["pinned"]:
        return failed(
            f"{LOCK_FILE}: {len(facts['without_hash'])} pins without hashes, "
            f"{len(facts['unpinned'])} unpinned requirements",
            **evidence,
        )
    if not updates:
        return failed(f"no automatic dependency updates ({DEPENDABOT_FILE} with pip)", **evidence)
    if age_days > LOCK_WARN_DAYS:
        return warned(
            f"{LOCK_FILE} unchanged for {age_days} days: merge the dependency updates", **evidence
        )
    return passed(
        f"{facts['pinned']} pinned packages, all with hashes; weekly updates configured",
        **evidence,
    )


# --- C04: Django's deploy checks (HTTPS, HSTS, cookies) -----------------------------------------
def deploy_checks(now: datetime) -> Finding:
    messages = django_checks.run_checks(include_deployment_checks=True)
    found = sorted(
        {
            str(m.id)
            for m in messages
            if m.id and str(m.id).startswith("security.") and m.level >= django_checks.WARNING
        }
    )
    if found:
        return failed(
            f"manage.py check --deploy reports {', '.join(found)}",
            check_ids=found,
            count=len(found),
        )
    return passed("manage.py check --deploy reports no security finding", check_ids=[])


# --- C01: rate limits and their shared store -----------------------------------------------------
def _cache_backend() -> str:
    return str(settings.CACHES["default"]["BACKEND"])


def _cache_answers() -> bool:
    from django.core.cache import cache

    key = f"compliance:probe:{hashlib.sha256(str(id(object())).encode()).hexdigest()[:12]}"
    try:
        cache.set(key, "1", timeout=10)
        ok = bool(cache.get(key) == "1")
        cache.delete(key)
    except Exception:
        return False
    return ok


def rate_limits(now: datetime) -> Finding:
    from security.ratelimit import Rate

    backend = _cache_backend()
    rates = {scope: conf["rate"] for scope, conf in settings.RATE_LIMITS.items()}
    evidence = {
        "enabled": settings.RATE_LIMIT_ENABLED,
        "rates": rates,
        "cache": backend,
        "claim_at_most": settings.RATE_LIMIT_LEASE_MAX,
    }
    if not settings.RATE_LIMIT_ENABLED:
        return failed("rate limits are switched off (RATE_LIMIT_ENABLED)", **evidence)
    bad = []
    for scope, rate in rates.items():
        try:
            Rate.parse(rate)
        except ValueError:
            bad.append(scope)
    if bad:
        return failed(f"invalid rates for {', '.join(bad)}", **evidence)
    if "locmem" in backend.lower() or "dummy" in backend.lower():
        return failed("counters live in one process's memory: each server counts alone", **evidence)
    if not _cache_answers():
        return failed("the cache that keeps the counters does not answer", **evidence)
    if "redis" not in backend.lower() and not settings.DEBUG:
        return warned(
            "counters are shared by this host's processes only (no REDIS_URL)", **evidence
        )
    return passed(f"{len(rates)} scopes limited; counters in the shared cache", **evidence)


# --- C06, C07: browser policies ------------------------------------------------------------------
def csp(now: datetime) -> Finding:
    from security.checks import check_csp
    from security.models import CspReport

    errors = [str(e.msg) for e in check_csp()]
    recent = CspReport.objects.filter(received_at__gte=now - timedelta(hours=24))
    directives = Counter(recent.values_list("violated_directive", flat=True))
    evidence = {
        "policy_errors": errors,
        "reports_24h": sum(directives.values()),
        "reports_by_directive": dict(directives.most_common(5)),
    }
    if errors:
        return failed(errors[0], **evidence)
    if directives:
        return warned(
            f"{sum(directives.values())} CSP violation reports in the last 24 h (admin: CSP violation reports)",
            **evidence,
        )
    return passed("strict policy without unsafe sources; no violation reported in 24 h", **evidence)


def other_headers(now: datetime) -> Finding:
    evidence = {
        "nosniff": settings.SECURE_CONTENT_TYPE_NOSNIFF,
        "referrer_policy": settings.SECURE_REFERRER_POLICY,
        "cross_origin_opener_policy": settings.SECURE_CROSS_ORIGIN_OPENER_POLICY,
        "x_frame_options": settings.X_FRAME_OPTIONS,
        "permissions_policy": bool(getattr(settings, "PERMISSIONS_POLICY", "")),
        "middleware": "security.middleware.SecurityHeadersMiddleware" in settings.MIDDLEWARE,
    }
    missing = [name for name, value in evidence.items() if not value]
    if evidence["x_frame_options"] != "DENY":
        missing.append("x_frame_options")
    if missing:
        return failed(f"headers missing or weakened: {', '.join(sorted(set(missing)))}", **evidence)
    return passed("nosniff, Referrer-Policy, Permissions-Policy, COOP and framing set", **evidence)


# --- C10-C14: identity ---------------------------------------------------------------------------
def password_hashing(now: datetime) -> Finding:
    first = settings.PASSWORD_HASHERS[0] if settings.PASSWORD_HASHERS else ""
    try:
        first_class = import_string(first) if first else None
    except ImportError:
        first_class = None
    algorithms: Counter[str] = Counter()
    for encoded in get_user_model()._default_manager.values_list("password", flat=True).iterator():
        if encoded and not encoded.startswith("!"):
            algorithms[encoded.split("$", 1)[0]] += 1
    older = sum(n for name, n in algorithms.items() if name != "bcrypt_sha256")
    evidence = {
        "first_hasher": first,
        "bcrypt_rounds": settings.PASSWORD_BCRYPT_ROUNDS,
        "users_by_algorithm": dict(algorithms),
        "users_with_older_hashes": older,
    }
    if first_class is None or not issubclass(first_class, BCryptSHA256PasswordHasher):
        return failed(
            f"new passwords are hashed with {first or 'nothing'}, not bcrypt-sha256", **evidence
        )
    if settings.PASSWORD_BCRYPT_ROUNDS < 12:
        return failed("bcrypt cost below 12", **evidence)
    if older:
        return warned(
            f"{older} users still have older hashes (upgraded at their next login)", **evidence
        )
    return passed(
        f"bcrypt-sha256 at cost {settings.PASSWORD_BCRYPT_ROUNDS}; no older hashes", **evidence
    )


def strong_passwords(now: datetime) -> Finding:
    validators: list[Any] = list(settings.AUTH_PASSWORD_VALIDATORS)
    names = [str(v["NAME"]).rsplit(".", 1)[-1] for v in validators]
    minimum = next(
        (
            int(v.get("OPTIONS", {}).get("min_length", 8))
            for v in validators
            if str(v["NAME"]).endswith("MinimumLengthValidator")
        ),
        0,
    )
    wanted = {
        "UserAttributeSimilarityValidator",
        "CommonPasswordValidator",
        "MaximumLengthValidator",
    }
    evidence = {"validators": names, "min_length": minimum}
    if minimum < 12 or not wanted <= set(names):
        return failed(
            "password rules weaker than 12 characters, not common, not like the account", **evidence
        )
    return passed(f"at least {minimum} characters, not common, not like the account", **evidence)


def lockout(now: datetime) -> Finding:
    from axes.models import AccessAttempt

    backends = list(settings.AUTHENTICATION_BACKENDS)
    evidence = {
        "failure_limit": settings.AXES_FAILURE_LIMIT,
        "cooloff_hours": settings.AXES_COOLOFF_HOURS,
        "store": settings.AXES_HANDLER,
        "ipv6_per_64": settings.AXES_CLIENT_IP_CALLABLE == "security.client_ip.lockout_address",
        "account_failure_limit": settings.LOCKOUT_ACCOUNT_FAILURE_LIMIT,
        "locked_addresses_now": AccessAttempt.objects.filter(
            failures_since_start__gte=settings.AXES_FAILURE_LIMIT,
            attempt_time__gte=now - timedelta(hours=settings.AXES_COOLOFF_HOURS),
        ).count(),
    }
    problems = []
    if settings.AXES_FAILURE_LIMIT != 3:
        problems.append(f"locks after {settings.AXES_FAILURE_LIMIT} failures, not 3")
    if settings.AXES_HANDLER != "axes.handlers.database.AxesDatabaseHandler":
        problems.append("failures are not counted in the shared database")
    if not backends or backends[0] != "axes.backends.AxesStandaloneBackend":
        problems.append("the lockout is not the first authentication backend")
    if "security.lockout.AccountLockBackend" not in backends:
        problems.append("no limit per account")
    if not evidence["ipv6_per_64"]:
        problems.append("IPv6 is not locked per /64")
    if problems:
        return failed("; ".join(problems), **evidence)
    return passed(
        f"3 failures lock an address (IPv6 /64) for {settings.AXES_COOLOFF_HOURS} h, "
        f"{settings.LOCKOUT_ACCOUNT_FAILURE_LIMIT} an account; kept in the database",
        **evidence,
    )


def mfa_coverage(now: datetime) -> Finding:
    from django_otp.plugins.otp_totp.models import TOTPDevice

    from security.checks import check_mfa_enforced

    staff = get_user_model()._default_manager.filter(is_active=True, is_staff=True)
    enrolled = set(
        TOTPDevice.objects.filter(confirmed=True, user__in=staff).values_list("user_id", flat=True)
    )
    missing = sorted(u.get_username() for u in staff if u.pk not in enrolled)
    enforcement = [str(e.msg) for e in check_mfa_enforced()]
    evidence = {
        "staff_users": staff.count(),
        "enrolled": len(enrolled),
        "without_second_factor": missing,
        "enforcement_errors": enforcement,
    }
    if enforcement:
        return failed(enforcement[0], **evidence)
    if missing:
        return failed(
            f"{len(missing)} of {evidence['staff_users']} staff and partner users have no second factor",
            **evidence,
        )
    return passed(
        f"all {evidence['staff_users']} staff and partner users use a second factor", **evidence
    )


def sessions(now: datetime) -> Finding:
    evidence = {
        "idle_minutes": settings.SESSION_IDLE_TIMEOUT_MINUTES,
        "max_age_hours": settings.SESSION_MAX_AGE_HOURS,
        "enforced": "security.sessions.SessionLimitMiddleware" in settings.MIDDLEWARE,
        "engine": settings.SESSION_ENGINE,
    }
    if not evidence["enforced"]:
        return failed(
            "session limits are not enforced (SessionLimitMiddleware missing)", **evidence
        )
    if settings.SESSION_IDLE_TIMEOUT_MINUTES > 30 or settings.SESSION_MAX_AGE_HOURS > 12:
        return warned("staff sessions last longer than 30 minutes idle or 12 hours", **evidence)
    return passed(
        f"staff sessions end after {settings.SESSION_IDLE_TIMEOUT_MINUTES} idle minutes and "
        f"{settings.SESSION_MAX_AGE_HOURS} h",
        **evidence,
    )


def access_reviews(now: datetime) -> Finding:
    from security.access_review import (
        REVIEW_VALID_DAYS,
        access_review_rows,
        flag_counts,
        last_sign_off,
    )

    last = last_sign_off()
    rows = access_review_rows(now=now)
    evidence: dict[str, Any] = {
        "accounts": len(rows),
        "flags_now": flag_counts(rows),
        "last_sign_off": last.created_at.isoformat() if last else None,
        "reviewer": last.detail.get("reviewer") if last else None,
    }
    if last is None:
        return failed("no access review was ever signed off (manage.py access_review)", **evidence)
    days = (now - last.created_at).days
    evidence["days_since_sign_off"] = days
    if days > REVIEW_VALID_DAYS:
        return failed(f"the last access review was signed off {days} days ago", **evidence)
    return passed(
        f"signed off {days} days ago by {evidence['reviewer']}; {len(rows)} accounts", **evidence
    )


# --- C30, C31: assurance -------------------------------------------------------------------------
COMPLIANCE_STALE_HOURS = 2


def continuous_compliance(now: datetime) -> Finding:
    from security.compliance.services import last_run_at

    last = last_run_at()
    evidence: dict[str, Any] = {"last_run": last.isoformat() if last else None}
    if last is None:
        return warned(
            "the hourly compliance check has not run yet (Celery beat and a worker)", **evidence
        )
    hours = (now - last).total_seconds() / 3600
    evidence["hours_since_last_run"] = round(hours, 1)
    if hours > COMPLIANCE_STALE_HOURS:
        return failed(f"the hourly compliance check last ran {hours:.0f} h ago", **evidence)
    return passed("the hourly compliance check runs and alerts on changes", **evidence)


def audit_log(now: datetime) -> Finding:
    from security.events import verify_chain
    from security.models import SecurityEvent

    problems = verify_chain()
    head = SecurityEvent.objects.order_by("-id").values("id", "hash", "created_at").first()
    evidence: dict[str, Any] = {
        "events": SecurityEvent.objects.count(),
        "head_id": head["id"] if head else None,
        "head_hash": head["hash"] if head else None,
        "problems": [str(p) for p in problems[:10]],
    }
    if problems:
        return failed(f"the event chain is broken at {problems[0]}", **evidence)
    from security.anchor import stores, verify_against_anchor

    anchored = verify_against_anchor()
    anchor = anchored.anchor
    evidence["anchor"] = anchor.body() if anchor else None
    evidence["anchor_stores"] = [s.label for s in stores()]
    if anchored.problems:
        return failed(anchored.problems[0], **evidence)
    if anchor is None:
        return warned("no anchor of the log's head yet (the daily job)", **evidence)
    age = now - datetime.fromisoformat(anchor.anchored_at)
    if age > timedelta(hours=26):
        return warned(f"the newest anchor is {age.days} days old", **evidence)
    if not evidence["anchor_stores"]:
        return warned("anchors go to the operators' mail only (ANCHOR_DESTINATIONS)", **evidence)
    return passed(
        f"hash chain intact over {evidence['events']} events; anchored {anchor.anchored_at[:16]} UTC",
        **evidence,
    )


# --- C32: intrusion detection --------------------------------------------------------------------
def intrusion_detection(now: datetime) -> Finding:
    from security.ids import rules

    backend = _cache_backend()
    evidence: dict[str, Any] = {
        "mode": settings.IDS_MODE,
        "signatures": len(rules()),
        "block_score": settings.IDS_BLOCK_SCORE,
        "block_minutes": settings.IDS_BLOCK_MINUTES,
        "allow_list": list(settings.IDS_ALLOW_LIST),
        "block_recheck_seconds": settings.IDS_BLOCK_RECHECK_SECONDS,
        "store": backend,
        "installed": "security.ids.IntrusionDetectionMiddleware" in settings.MIDDLEWARE,
    }
    findings: list[Finding] = []
    if not evidence["installed"] or settings.IDS_MODE == "off":
        findings.append(failed("intrusion detection is off", **evidence))
    elif "locmem" in backend.lower() or "dummy" in backend.lower():
        findings.append(failed("blocks live in one process's memory", **evidence))
    elif settings.IDS_MODE == "detect":
        findings.append(warned("intrusion detection only logs (IDS_MODE=detect)", **evidence))
    findings += integrity_findings(now, evidence)
    if findings:
        worst_first = sorted(findings, key=lambda f: f.status != "fail")
        reasons = "; ".join(f.reason for f in worst_first)
        return Finding(worst_first[0].status, reasons, evidence)
    return passed(
        f"{evidence['signatures']} signatures; clients blocked at {settings.IDS_BLOCK_SCORE} "
        f"for {settings.IDS_BLOCK_MINUTES} min on every server (within "
        f"{settings.IDS_BLOCK_RECHECK_SECONDS} s)",
        **evidence,
    )


def integrity_findings(now: datetime, evidence: dict[str, Any]) -> list[Finding]:
    """The file integrity part of C32 (security.integrity)."""
    from security.integrity import newest_baseline
    from security.models import IntegrityCheck

    baseline = newest_baseline()
    if baseline is None:
        evidence["integrity_baseline"] = None
        return [warned("no file integrity baseline (manage.py integrity_baseline)")]
    last = IntegrityCheck.objects.filter(baseline=baseline).order_by("-checked_at", "-id").first()
    evidence["integrity_baseline"] = {
        "id": baseline.pk,
        "files": baseline.file_count,
        "recorded": baseline.created_at.isoformat(),
        "last_check": last.checked_at.isoformat() if last else None,
    }
    if last is None:
        return [warned("the files were not compared with the baseline yet")]
    evidence["integrity_baseline"].update(
        changed=len(last.changed), added=len(last.added), removed=len(last.removed)
    )
    if not last.ok:
        return [
            failed(
                f"deployed files differ from the baseline ({len(last.changed)} changed, "
                f"{len(last.added)} added, {len(last.removed)} removed)"
            )
        ]
    if now - last.checked_at > timedelta(hours=COMPLIANCE_STALE_HOURS):
        return [warned("the hourly file integrity check has not run for over 2 h")]
    return []


# --- C34: vulnerability disclosure ---------------------------------------------------------------
SECURITY_TXT_WARN_DAYS = 30


def security_txt_fields(text: str) -> dict[str, list[str]]:
    fields: dict[str, list[str]] = {}
    for line in text.splitlines():
        name, sep, value = line.partition(":")
        if sep and not line.startswith("#"):
            fields.setdefault(name.strip().lower(), []).append(value.strip())
    return fields


def _served_security_txt() -> tuple[int, str]:
    """The file as the site serves it now, through its own view."""
    request = HttpRequest()
    request.method = "GET"
    request.path = request.path_info = "/.well-known/security.txt"
    host = settings.SITE_DOMAIN or "localhost"
    request.META = {"SERVER_NAME": host, "SERVER_PORT": "443", "HTTP_HOST": host}
    match = resolve(request.path_info)
    response = match.func(request, *match.args, **match.kwargs)
    return response.status_code, response.content.decode("utf-8", "replace")


def security_txt(now: datetime) -> Finding:
    status, text = _served_security_txt()
    fields = security_txt_fields(text)
    policy = (Path(settings.BASE_DIR) / "SECURITY.md").is_file()
    expires_text = (fields.get("expires") or [""])[0]
    try:
        expires = datetime.fromisoformat(expires_text.replace("Z", "+00:00"))
    except ValueError:
        expires = None
    evidence = {
        "status": status,
        "contacts": fields.get("contact", []),
        "expires": expires.isoformat() if expires else expires_text or None,
        "security_md": policy,
    }
    if status != 200 or not fields.get("contact"):
        return failed("security.txt is not served with a Contact", **evidence)
    if expires is None or expires <= now:
        return failed(f"security.txt has expired ({expires_text or 'no Expires'})", **evidence)
    days = (expires - now).days
    if days > 366:
        return warned("security.txt expires more than a year ahead (RFC 9116)", **evidence)
    if days < SECURITY_TXT_WARN_DAYS:
        return warned(f"security.txt expires in {days} days", **evidence)
    if not policy:
        return warned("SECURITY.md (the disclosure policy) is missing", **evidence)
    return passed(f"served, valid until {expires:%Y-%m-%d}; SECURITY.md present", **evidence)


CHECKS = [
    Check("C01", _("Rate limits in a shared store"), rate_limits),
    Check("C02", _("Supported Django and Python"), support_windows),
    Check("C03", _("Pinned, hashed and updated dependencies"), dependencies),
    Check("C04", _("HTTPS, HSTS and hardened cookies"), deploy_checks),
    Check("C06", _("Strict Content-Security-Policy"), csp),
    Check("C07", _("Other security headers"), other_headers),
    Check("C10", _("bcrypt-sha256 password hashes"), password_hashing),
    Check("C11", _("Login lockout"), lockout),
    Check("C12", _("Strong passwords"), strong_passwords),
    Check("C13", _("MFA for staff and partners"), mfa_coverage),
    Check("C14", _("Session limits"), sessions),
    Check("C16", _("Quarterly access reviews"), access_reviews),
    Check("C26", _("Customer data encrypted at rest"), field_encryption),
    Check("C30", _("Continuous compliance"), continuous_compliance),
    Check("C31", _("Tamper-evident security log"), audit_log),
    Check("C32", _("Intrusion detection"), intrusion_detection),
    Check("C34", _("security.txt and disclosure policy"), security_txt),
]
