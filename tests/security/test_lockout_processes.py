"""C11 across app servers, as the attacker over real HTTP: two gunicorn processes share one
database (a SQLite file on the SQLite pass, a scratch database on the same PostgreSQL server on
the PostgreSQL pass). Failures spread over both lock the address on both: the 4th attempt is
refused by either process, with the correct password, and the attacker never gets in."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.app_servers import Visitor, app_environment, app_servers, scratch_database_url

pytestmark = pytest.mark.slow

EMAIL = "owner@example.com"
PASSWORD = "the real passphrase 2026"


@pytest.fixture
def app_env(tmp_path: Path) -> Iterator[dict[str, str]]:
    setup = f"from django.contrib.auth import get_user_model; get_user_model().objects.create_user({EMAIL!r}, {PASSWORD!r}, is_staff=True)"
    with scratch_database_url(tmp_path, "lockout") as database_url:
        yield app_environment(tmp_path, database_url, label="lockout-processes", setup=setup)


@pytest.fixture
def two_processes(app_env: dict[str, str], tmp_path: Path) -> Iterator[list[str]]:
    with app_servers(app_env, tmp_path) as bases:
        yield bases


def test_lockout_holds_across_two_app_processes(two_processes: list[str]) -> None:
    first, second = two_processes
    attacker = Visitor()
    # A scripted brute force alternating between the servers; the real password is in the list.
    wordlist = ["wrong guess one", "wrong guess two", "wrong guess three", PASSWORD, PASSWORD]
    results = [
        attacker.login((first, second)[n % 2], EMAIL, guess) for n, guess in enumerate(wordlist)
    ]

    statuses = [status for status, _, _ in results]
    assert statuses == [200, 200, 429, 429, 429]  # failures on both processes add up to the lock
    # Attempt 4 went to the second process, attempt 5 to the first: both refuse the right password.
    assert all("locked" in body for _, _, body in results[2:])
    assert 302 not in statuses  # the password was never found
