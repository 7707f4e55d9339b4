"""The stale-backups alert names what is wrong with each destination."""

from __future__ import annotations

from backups.selectors import Freshness
from backups.services.freshness import stale_line


def test_an_unreachable_destination_without_backups_is_named_with_its_error() -> None:
    # The alert text used to say "no backup" here and drop the error (operator precedence).
    line = stale_line(Freshness("sftp://b", None, None, 13, error="connection refused"))
    assert "connection refused" in line and "no backup" not in line


def test_the_age_and_a_missing_backup_are_said_as_before() -> None:
    assert "14.0 h old (limit 13 h)" in stale_line(Freshness("a", "x", 14.0, 13))
    assert "no backup" in stale_line(Freshness("a", None, None, 13))
