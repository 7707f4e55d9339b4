from __future__ import annotations

import logging
from datetime import timedelta

from django.conf import settings
from django.http import HttpRequest, HttpResponse, JsonResponse
from django.shortcuts import render
from django.utils import timezone
from django.views.decorators.cache import cache_control, never_cache
from django.views.decorators.csrf import csrf_exempt
from django.views.decorators.http import require_POST, require_safe

from security.csp_reports import InvalidReport, csp_reports_store
from security.health import heartbeat_age_seconds, run_checks
from security.inputs import content_length

logger = logging.getLogger(__name__)

CSP_REPORT_MAX_BYTES = 8 * 1024


@never_cache
@require_safe
def healthz(request: HttpRequest) -> JsonResponse:
    """For uptime monitors: 200 when every component answers, 503 otherwise. No login, and
    nothing that helps an attacker (no hostnames, versions or error texts)."""
    checks = run_checks()
    healthy = all(state == "ok" for state in checks.values())
    body = {
        "status": "ok" if healthy else "down",
        "checks": checks,
        # Informational: seconds since the scheduled heartbeat last ran on a worker.
        "worker_heartbeat_age_seconds": heartbeat_age_seconds(),
    }
    return JsonResponse(body, status=200 if healthy else 503)


# Browsers send CSP reports without cookies or CSRF tokens, so the check cannot apply. Safe: the
# view only appends truncated rows to a capped table, is size-limited here and rate-limited by
# RateLimitMiddleware, and authenticates nobody.
@csrf_exempt
@require_POST
def csp_report(request: HttpRequest) -> HttpResponse:
    length = content_length(request.META.get("CONTENT_LENGTH"))
    if length is None or length > CSP_REPORT_MAX_BYTES:
        return JsonResponse({"error": "too_large", "message": "Report too large."}, status=413)
    body = request.read(CSP_REPORT_MAX_BYTES + 1)
    if len(body) > CSP_REPORT_MAX_BYTES:
        return JsonResponse({"error": "too_large", "message": "Report too large."}, status=413)
    try:
        stored = csp_reports_store(body=body, user_agent=request.headers.get("User-Agent", ""))
    except InvalidReport:
        return JsonResponse(
            {"error": "invalid", "message": "Not a CSP violation report."}, status=400
        )
    logger.warning("csp violation reported", extra={"reports": stored})
    return HttpResponse(status=204)


@require_safe
@cache_control(max_age=3600, public=True)
def security_txt(request: HttpRequest) -> HttpResponse:
    """RFC 9116. Expires is kept a fixed distance ahead so the file never goes stale."""
    expires = (timezone.now() + timedelta(days=settings.SECURITY_TXT_EXPIRES_DAYS)).replace(
        microsecond=0
    )
    lines = [
        *(f"Contact: {contact}" for contact in settings.SECURITY_CONTACTS),
        f"Expires: {expires.strftime('%Y-%m-%dT%H:%M:%SZ')}",
        f"Policy: {settings.SITE_URL}/security/policy",
        f"Preferred-Languages: {settings.SECURITY_TXT_LANGUAGES}",
        f"Canonical: {settings.SITE_URL}/.well-known/security.txt",
    ]
    return HttpResponse("\n".join(lines) + "\n", content_type="text/plain; charset=utf-8")


@require_safe
def security_policy(request: HttpRequest) -> HttpResponse:
    return render(request, "security/policy.html", {"contacts": settings.SECURITY_CONTACTS})
