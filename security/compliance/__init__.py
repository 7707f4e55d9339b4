"""Continuous compliance (C30): one registry of checks, one per control id of the controls
catalogue, each judging live evidence (settings, the database, the files, what the other apps
report) and never a constant.

Apps register their checks at start-up, as they register event types: security knows no app's
models, so `booking`, `payments` and `backups` each hand it theirs in AppConfig.ready()
(`register_checks(*CHECKS)`). security's own are in security/compliance/checks.py.

A check is a function of the evaluation time returning a `Finding`: pass, warn or fail, a
one-line reason and the evidence (numbers, ids, times). `evaluate` turns them into `Result`s;
a check that raises fails, with the error as its reason, so a broken check never passes.
"""

from __future__ import annotations

import logging
import re
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from django.core.exceptions import ImproperlyConfigured
from django.db.models import TextChoices
from django.utils import timezone
from django.utils.functional import Promise

logger = logging.getLogger("security.compliance")

_CONTROL = re.compile(r"C\d\d")


class Status(TextChoices):
    PASS = "pass", "pass"
    WARN = "warn", "warn"
    FAIL = "fail", "fail"


SEVERITY = {Status.PASS: 0, Status.WARN: 1, Status.FAIL: 2}


@dataclass(frozen=True)
class Finding:
    """What a check says: the status, one line of reason, and the evidence it judged."""

    status: Status
    reason: str
    evidence: dict[str, Any] = field(default_factory=dict)


def passed(reason: str, **evidence: Any) -> Finding:
    return Finding(Status.PASS, reason, evidence)


def warned(reason: str, **evidence: Any) -> Finding:
    return Finding(Status.WARN, reason, evidence)


def failed(reason: str, **evidence: Any) -> Finding:
    return Finding(Status.FAIL, reason, evidence)


def worst(findings: Iterable[Finding]) -> Status:
    return max((f.status for f in findings), key=lambda s: SEVERITY[s], default=Status.PASS)


CheckFunction = Callable[[datetime], Finding]


@dataclass(frozen=True)
class Check:
    control: str  # "C21"
    title: str | Promise  # what the control promises, in a few words (translatable)
    evaluate: CheckFunction
    owner: str = ""  # the app that registered it (set by register_checks)


@dataclass(frozen=True)
class Result:
    control: str
    title: str
    status: Status
    reason: str
    evidence: dict[str, Any]
    evaluated_at: datetime

    @property
    def ok(self) -> bool:
        return self.status == Status.PASS


_registry: dict[str, Check] = {}


def register_checks(*checks: Check, owner: str = "") -> None:
    """Make these checks part of the report. One check per control id: a second app claiming a
    control is a configuration error (as for event types); registering the same again is fine."""
    for check in checks:
        if not _CONTROL.fullmatch(check.control):
            raise ImproperlyConfigured(f"Compliance check {check.control!r}: ids look like C21.")
        existing = _registry.get(check.control)
        if existing is not None and existing.evaluate is not check.evaluate:
            raise ImproperlyConfigured(
                f"Compliance control {check.control} is already checked by {existing.owner or existing.evaluate.__module__}."
            )
    for check in checks:
        _registry[check.control] = Check(
            check.control, check.title, check.evaluate, owner or check.evaluate.__module__
        )


def registered_checks() -> list[Check]:
    return sorted(_registry.values(), key=lambda c: c.control)


def check_for(control: str) -> Check | None:
    return _registry.get(control)


def _run(check: Check, now: datetime) -> Finding:
    try:
        return check.evaluate(now)
    except Exception as exc:  # a check that cannot judge has not shown the control holds
        logger.exception("compliance check failed to run", extra={"control": check.control})
        return failed(
            f"the check itself failed: {type(exc).__name__}: {exc}"[:300], error=type(exc).__name__
        )


def evaluate(controls: Iterable[str] | None = None, *, now: datetime | None = None) -> list[Result]:
    """Every registered check (or those of `controls`), evaluated now, in control order."""
    now = now or timezone.now()
    wanted = set(controls) if controls is not None else None
    results = []
    for check in registered_checks():
        if wanted is not None and check.control not in wanted:
            continue
        finding = _run(check, now)
        results.append(
            Result(
                control=check.control,
                title=str(check.title),
                status=Status(finding.status),
                reason=finding.reason,
                evidence=finding.evidence,
                evaluated_at=now,
            )
        )
    return results
