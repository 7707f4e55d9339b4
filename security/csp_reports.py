"""Parsing and storing CSP violation reports (both the legacy report-uri format and the
Reporting API's list of reports)."""

from __future__ import annotations

import json
from typing import Any

from django.conf import settings
from django.utils import timezone

from security.logging import redact
from security.models import CspReport

MAX_REPORTS_PER_REQUEST = 10


class InvalidReport(ValueError):
    pass


def _text(value: Any, limit: int) -> str:
    return str(value)[:limit] if isinstance(value, str | int) else ""


def parse_reports(body: bytes) -> list[dict[str, Any]]:
    try:
        data = json.loads(body)
    except (ValueError, UnicodeDecodeError) as exc:
        raise InvalidReport("not JSON") from exc
    if isinstance(data, dict) and isinstance(data.get("csp-report"), dict):
        return [data["csp-report"]]
    if isinstance(data, list):  # Reporting API: [{"type": "csp-violation", "body": {...}}, ...]
        bodies = [
            item.get("body")
            for item in data[:MAX_REPORTS_PER_REQUEST]
            if isinstance(item, dict) and item.get("type") == "csp-violation"
        ]
        reports = [
            {
                "document-uri": b.get("documentURL", ""),
                "violated-directive": b.get("effectiveDirective", ""),
                "blocked-uri": b.get("blockedURL", ""),
                "source-file": b.get("sourceFile", ""),
                "line-number": b.get("lineNumber"),
                "script-sample": b.get("sample", ""),
            }
            for b in bodies
            if isinstance(b, dict)
        ]
        if reports:
            return reports
    raise InvalidReport("not a CSP report")


def csp_reports_store(*, body: bytes, user_agent: str) -> int:
    """Store the reports in `body`; returns how many. Old rows beyond the retention cap go."""
    reports = parse_reports(body)
    now = timezone.now()
    rows = []
    for report in reports:
        line = report.get("line-number")
        rows.append(
            CspReport(
                received_at=now,
                # A violation on a manage page reports its URL: stored without the token.
                document_uri=redact(_text(report.get("document-uri"), 500)),
                violated_directive=_text(
                    report.get("violated-directive") or report.get("effective-directive"), 200
                ),
                blocked_uri=redact(_text(report.get("blocked-uri"), 500)),
                source_file=_text(report.get("source-file"), 500),
                line_number=line if isinstance(line, int) and 0 <= line < 2**31 else None,
                sample=_text(report.get("script-sample"), 200),
                user_agent=user_agent[:300],
            )
        )
    CspReport.objects.bulk_create(rows)
    cap = settings.CSP_REPORTS_KEEP
    stale = CspReport.objects.order_by("-received_at", "-pk").values_list("pk", flat=True)[
        cap : cap + 1000
    ]
    CspReport.objects.filter(pk__in=list(stale)).delete()
    return len(rows)
