"""Moving the test database to a migration state and back, for tests of data migrations."""

from __future__ import annotations

from typing import Any

from django.db import connection
from django.db.migrations.executor import MigrationExecutor


def migrate_to(targets: list[tuple[str, str]]) -> Any:
    """Migrate to `targets`; returns the historical apps of that state."""
    executor = MigrationExecutor(connection)
    executor.loader.build_graph()
    executor.migrate(targets)
    return executor.loader.project_state(targets).apps


def migrate_to_latest() -> None:
    """Back to the latest state of every app, for the tests that follow: going back in one app
    also unapplies the migrations of other apps that depend on it (payments' on booking's), and
    restoring only the first would leave the others behind for whichever test runs next."""
    migrate_to(MigrationExecutor(connection).loader.graph.leaf_nodes())
