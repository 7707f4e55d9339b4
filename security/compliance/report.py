"""The compliance report in three forms: text for an operator's terminal, JSON for machines,
Markdown for auditors (with the evidence and the head of the event log)."""

from __future__ import annotations

import json
from collections import Counter
from datetime import datetime
from typing import Any

from django.utils.translation import gettext as _

from security.compliance import Result, Status
from security.operator_output import json_text, utc_iso, utc_text

_MARK = {Status.PASS: "PASS", Status.WARN: "WARN", Status.FAIL: "FAIL"}


def summary(results: list[Result]) -> dict[str, int]:
    counts = Counter(str(r.status) for r in results)
    return {status.value: counts.get(status.value, 0) for status in Status}


def as_document(
    results: list[Result], *, now: datetime, head: dict[str, Any] | None
) -> dict[str, Any]:
    return {
        "evaluated_at": utc_iso(now),
        "summary": summary(results),
        "event_log_head": head,
        "controls": [
            {
                "control": r.control,
                "title": r.title,
                "status": str(r.status),
                "reason": r.reason,
                "evidence": r.evidence,
                "evaluated_at": utc_iso(r.evaluated_at),
            }
            for r in results
        ],
    }


def as_json(results: list[Result], *, now: datetime, head: dict[str, Any] | None) -> str:
    return json_text(as_document(results, now=now, head=head))


def as_text(results: list[Result], *, now: datetime, head: dict[str, Any] | None) -> str:
    width = max((len(r.title) for r in results), default=10)
    lines = [_("Compliance report, evaluated %(time)s") % {"time": utc_text(now)}, ""]
    for r in results:
        lines.append(f"{_MARK[r.status]}  {r.control}  {r.title:<{width}}  {r.reason}")
    counts = summary(results)
    lines.append("")
    lines.append(
        _("%(pass)d pass, %(warn)d warn, %(fail)d fail.")
        % {"pass": counts["pass"], "warn": counts["warn"], "fail": counts["fail"]}
    )
    return "\n".join(lines)


def _cell(value: Any) -> str:
    text = value if isinstance(value, str) else json.dumps(value, sort_keys=True, default=str)
    return text.replace("|", "\\|").replace("\n", " ")


def as_markdown(results: list[Result], *, now: datetime, head: dict[str, Any] | None) -> str:
    counts = summary(results)
    lines = [
        "# " + _("Compliance report"),
        "",
        _("Evaluated %(time)s by the platform itself (manage.py compliance_report).")
        % {"time": utc_text(now)},
        "",
        _("Result: %(pass)d pass, %(warn)d warn, %(fail)d fail.")
        % {"pass": counts["pass"], "warn": counts["warn"], "fail": counts["fail"]},
        "",
    ]
    if head:
        lines += [
            _("Security event log head: event %(id)s, %(time)s, hash `%(hash)s`.")
            % {"id": head["id"], "time": head["created_at"], "hash": head["hash"]},
            "",
        ]
    lines += ["| " + " | ".join([_("control"), _("status"), _("what"), _("finding")]) + " |"]
    lines += ["|---|---|---|---|"]
    for r in results:
        lines.append(
            f"| {r.control} | **{_MARK[r.status]}** | {_cell(r.title)} | {_cell(r.reason)} |"
        )
    lines += ["", "## " + _("Evidence"), ""]
    for r in results:
        lines += [f"### {r.control} {r.title}: {_MARK[r.status]}", "", r.reason, ""]
        for key, value in sorted(r.evidence.items()):
            lines.append(f"- `{key}`: {_cell(value)}")
        lines.append("- " + _("evaluated: %(time)s") % {"time": utc_text(r.evaluated_at)})
        lines.append("")
    return "\n".join(lines).rstrip() + "\n"
