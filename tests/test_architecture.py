"""The architecture's rules, enforced (../shared/ARCHITECTURE.md, STYLE.md "State and actors").

1. Imports between our apps follow the table: security imports none of them, booking never
   imports payments, backups only security, and there are no cycles.
2. A booking's status is written only in booking/services.py (the one write path per action,
   which takes the actor and writes the audit event).
3. The partner lock is taken only through booking.services.partner_lock, so every writer takes
   it the same way and in the same order.
4. The models and their migrations agree.

The rules read the source (ast), function-level imports included. Each rule is also run against
small snippets that break it, so a rule that stopped catching anything fails here too.
"""

from __future__ import annotations

import ast
import io
from collections.abc import Iterator
from pathlib import Path

import pytest
from django.core.management import call_command

ROOT = Path(__file__).resolve().parent.parent
APPS = ("accounts", "booking", "payments", "security", "backups", "settings")

# Which of our apps each app may import (ARCHITECTURE.md, "Apps and what they own").
ALLOWED_IMPORTS: dict[str, frozenset[str]] = {
    "settings": frozenset({"accounts", "security"}),  # URLs and WSGI only
    "accounts": frozenset({"security"}),
    "security": frozenset(),
    "booking": frozenset({"accounts", "security"}),
    "payments": frozenset({"booking", "security"}),
    "backups": frozenset({"security"}),
}

STATUS_WRITER = "booking/services.py"
LOCK_MODULE, LOCK_FUNCTION = "booking/services.py", "partner_lock"
# Status fields of other models, and who writes them (each a model of that module's own app).
OTHER_STATUS_WRITES = frozenset(
    {
        ("payments/services.py", "payment.status"),
        ("payments/refunds.py", "refund.status"),
        ("booking/invitations.py", "invitation.status"),
    }
)
_WRITE_METHODS = frozenset(
    {"update", "create", "get_or_create", "update_or_create", "bulk_create", "bulk_update"}
)


def _sources() -> Iterator[tuple[str, str]]:
    for app in APPS:
        for path in sorted((ROOT / app).rglob("*.py")):
            if "migrations" not in path.parts:
                yield path.relative_to(ROOT).as_posix(), path.read_text()


# --- 1. imports -----------------------------------------------------------------------------


def imported_apps(source: str) -> set[str]:
    """Our apps a module imports, at any level (function-level imports included)."""
    found: set[str] = set()
    for node in ast.walk(ast.parse(source)):
        if isinstance(node, ast.Import):
            names = [alias.name for alias in node.names]
        elif isinstance(node, ast.ImportFrom) and node.level == 0 and node.module:
            names = [node.module]
        else:
            continue
        found.update(name.split(".")[0] for name in names if name.split(".")[0] in APPS)
    return found


def import_violations(sources: dict[str, str]) -> list[str]:
    problems = []
    for path, source in sources.items():
        app = path.split("/")[0]
        for other in sorted(imported_apps(source) - {app} - ALLOWED_IMPORTS[app]):
            problems.append(
                f"{path} imports {other}: {app} may import {sorted(ALLOWED_IMPORTS[app])}"
            )
    return problems


def app_graph(sources: dict[str, str]) -> dict[str, set[str]]:
    graph: dict[str, set[str]] = {app: set() for app in APPS}
    for path, source in sources.items():
        app = path.split("/")[0]
        graph[app] |= imported_apps(source) - {app}
    return graph


def cycles(graph: dict[str, set[str]]) -> list[list[str]]:
    found: list[list[str]] = []

    def visit(node: str, trail: list[str]) -> None:
        for nxt in sorted(graph.get(node, ())):
            if nxt in trail:
                cycle = trail[trail.index(nxt) :] + [nxt]
                if sorted(cycle[:-1]) not in [sorted(c[:-1]) for c in found]:
                    found.append(cycle)
            else:
                visit(nxt, [*trail, nxt])

    for start in sorted(graph):
        visit(start, [start])
    return found


# --- 2. who writes a booking's status -------------------------------------------------------


def _is_status_write_call(node: ast.Call) -> bool:
    func = node.func
    if isinstance(func, ast.Name) and func.id == "Booking":  # Booking(status=...)
        return any(kw.arg == "status" for kw in node.keywords)
    if isinstance(func, ast.Name) and func.id == "setattr" and len(node.args) >= 2:
        return isinstance(node.args[1], ast.Constant) and node.args[1].value == "status"
    if not (isinstance(func, ast.Attribute) and func.attr in _WRITE_METHODS):
        return False
    named = any(kw.arg == "status" for kw in node.keywords)
    in_defaults = any(
        kw.arg == "defaults" and "'status'" in ast.unparse(kw.value) for kw in node.keywords
    )
    in_fields = func.attr == "bulk_update" and "'status'" in ast.unparse(node)
    return named or in_defaults or in_fields


def status_write_violations(sources: dict[str, str]) -> list[str]:
    problems = []
    for path, source in sources.items():
        if path == STATUS_WRITER:
            continue
        for node in ast.walk(ast.parse(source)):
            if isinstance(node, ast.Assign | ast.AugAssign | ast.AnnAssign):
                targets = node.targets if isinstance(node, ast.Assign) else [node.target]
                for target in targets:
                    if isinstance(target, ast.Attribute) and target.attr == "status":
                        written = ast.unparse(target)
                        if (path, written) not in OTHER_STATUS_WRITES:
                            problems.append(f"{path}:{node.lineno} writes {written}")
            elif isinstance(node, ast.Call) and _is_status_write_call(node):
                chain = ast.unparse(node.func)
                model = chain.split(".")[0]
                if model == "Booking" or not model[:1].isupper() or model == "setattr":
                    problems.append(f"{path}:{node.lineno} writes a status through {chain[:80]}")
            elif isinstance(node, ast.Constant) and isinstance(node.value, str):
                text = node.value.lower()
                if "booking_booking" in text and ("update" in text or "insert" in text):
                    problems.append(f"{path}:{node.lineno} writes booking rows in SQL")
    return problems


# --- 3. the partner lock --------------------------------------------------------------------


def lock_violations(sources: dict[str, str]) -> list[str]:
    problems = []
    for path, source in sources.items():
        tree = ast.parse(source)
        allowed: set[int] = set()
        if path == LOCK_MODULE:
            for node in ast.walk(tree):
                if isinstance(node, ast.FunctionDef) and node.name == LOCK_FUNCTION:
                    allowed |= {id(n) for n in ast.walk(node)}
        for node in ast.walk(tree):
            if id(node) in allowed:
                continue
            if isinstance(node, ast.Call) and isinstance(node.func, ast.Attribute):
                if node.func.attr == "select_for_update" and "Partner" in ast.unparse(node.func):
                    problems.append(f"{path}:{node.lineno} locks the partner row itself")
            elif isinstance(node, ast.Constant) and isinstance(node.value, str):
                text = node.value.lower()
                if "booking_partner" in text and "for " in text and "update" in text:
                    problems.append(f"{path}:{node.lineno} locks the partner row in SQL")
    return problems


# --- the rules hold for the code ------------------------------------------------------------


@pytest.fixture(scope="module")
def sources() -> dict[str, str]:
    return dict(_sources())


def test_apps_import_only_what_the_architecture_allows(sources: dict[str, str]) -> None:
    assert import_violations(sources) == []


def test_there_are_no_import_cycles_between_apps(sources: dict[str, str]) -> None:
    assert cycles(app_graph(sources)) == []


def test_booking_never_imports_payments_and_security_imports_no_app(
    sources: dict[str, str],
) -> None:
    graph = app_graph(sources)
    assert "payments" not in graph["booking"]
    assert graph["security"] == set()


def test_only_the_booking_services_write_a_bookings_status(sources: dict[str, str]) -> None:
    assert status_write_violations(sources) == []
    # The services do write it: the rule points at the right module.
    assert "status=Booking.Status.CANCELLED" in sources[STATUS_WRITER]


def test_the_partner_lock_is_taken_only_through_its_function(sources: dict[str, str]) -> None:
    assert lock_violations(sources) == []
    assert f"def {LOCK_FUNCTION}(" in sources[LOCK_MODULE]


@pytest.mark.django_db
def test_models_and_migrations_agree() -> None:
    out = io.StringIO()
    call_command("makemigrations", "--check", "--dry-run", stdout=out, stderr=out)
    assert "No changes detected" in out.getvalue()


# --- the rules catch what breaks them -------------------------------------------------------


@pytest.mark.parametrize(
    ("path", "source"),
    [
        ("booking/views/x.py", "from payments import services\n"),
        ("booking/x.py", "def f():\n    import payments.models\n"),  # a function-level import
        ("security/x.py", "from booking.models import Booking\n"),
        ("backups/x.py", "import accounts\n"),
    ],
)
def test_the_import_rule_catches_a_forbidden_import(path: str, source: str) -> None:
    assert import_violations({path: source})


def test_the_cycle_rule_catches_a_cycle() -> None:
    assert cycles({"a": {"b"}, "b": {"c"}, "c": {"a"}}) == [["a", "b", "c", "a"]]
    assert cycles({"a": {"b"}, "b": set()}) == []


@pytest.mark.parametrize(
    "source",
    [
        "booking.status = Booking.Status.CANCELLED\n",
        "hold.status = 'cancelled'\n",
        "Booking.objects.filter(pk=1).update(status='cancelled')\n",
        "rows.update(status=Booking.Status.CONFIRMED)\n",
        "Booking(status='confirmed')\n",
        "Booking.objects.update_or_create(pk=1, defaults={'status': 'x'})\n",
        "Booking.objects.bulk_update(rows, ['status'])\n",
        "setattr(booking, 'status', 'cancelled')\n",
        "cursor.execute('UPDATE booking_booking SET status = %s', ['x'])\n",
    ],
)
def test_the_status_rule_catches_a_write_outside_the_services(source: str) -> None:
    assert status_write_violations({"payments/x.py": source})
    assert status_write_violations({STATUS_WRITER: source}) == []


@pytest.mark.parametrize(
    "source",
    [
        "Partner.objects.select_for_update().get(pk=1)\n",
        "list(Partner.objects.select_for_update(no_key=True).filter(pk=1))\n",
        "cursor.execute('SELECT id FROM booking_partner WHERE id = 1 FOR UPDATE')\n",
    ],
)
def test_the_lock_rule_catches_a_partner_lock_of_its_own(source: str) -> None:
    assert lock_violations({"payments/x.py": source})
    # Inside the services but outside partner_lock it is just as wrong.
    assert lock_violations({LOCK_MODULE: f"def other():\n    {source}"})
