"""/healthz for uptime monitors (C01): 200 when every component answers, 503 when the database is
down, no login, GET only, and nothing in the body that helps an attacker."""

from __future__ import annotations

import json
import logging
import platform
import socket
from collections.abc import Iterator
from pathlib import Path

import django
import pytest
from django.db import OperationalError, connections
from django.test import Client

COMPONENTS = {"database", "cache", "broker"}


def _closed_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


@pytest.fixture
def database_unreachable(django_db_blocker, tmp_path: Path) -> Iterator[str]:
    """The default connection points at a database that cannot be opened, for real: a closed port
    on PostgreSQL, a file in a missing folder on SQLite. A fresh wrapper replaces the connection
    for the test, so the test database (and SQLite's in-memory one) is left as it was.
    Yields the unreachable location, which the response must not reveal."""
    original = connections["default"]
    broken = dict(original.settings_dict)
    if original.vendor == "sqlite":
        broken["NAME"] = location = str(tmp_path / "missing-folder" / "db.sqlite3")
    else:
        broken.update(HOST="127.0.0.1", PORT=str(_closed_port()))
        location = f"127.0.0.1:{broken['PORT']}"
        broken.setdefault("OPTIONS", {})
        broken["OPTIONS"] = {**broken["OPTIONS"], "connect_timeout": 2}
    connections["default"] = original.__class__(broken, "default")
    # pytest-django's blocker would refuse the connection itself; let the real attempt happen.
    with django_db_blocker.unblock():
        try:
            yield location
        finally:
            connections["default"].close()
            connections["default"] = original


@pytest.mark.django_db
def test_healthz_answers_200_with_every_component_ok(client: Client) -> None:
    response = client.get("/healthz")
    assert response.status_code == 200
    assert response["Content-Type"] == "application/json"
    body = response.json()
    assert set(body) == {"status", "checks", "worker_heartbeat_age_seconds"}
    assert body["status"] == "ok"
    assert body["checks"] == dict.fromkeys(COMPONENTS, "ok")
    # No worker has run in this test: the age is unknown, not invented.
    assert body["worker_heartbeat_age_seconds"] is None


@pytest.mark.django_db
def test_healthz_is_never_cached(client: Client) -> None:
    assert "no-cache" in client.get("/healthz")["Cache-Control"]


def test_healthz_answers_503_when_the_database_is_unreachable(
    client: Client, database_unreachable: str, caplog: pytest.LogCaptureFixture
) -> None:
    with caplog.at_level(logging.WARNING, logger="security.health"):
        response = client.get("/healthz")

    assert response.status_code == 503
    body = response.json()
    assert body["status"] == "down"
    assert body["checks"] == {"database": "down", "cache": "ok", "broker": "ok"}
    # The failure was a real connection error, and it went to the log, not to the client.
    failures = [r for r in caplog.records if getattr(r, "component", None) == "database"]
    assert failures and failures[0].exc_info is not None
    assert issubclass(failures[0].exc_info[0], OperationalError)


def test_healthz_body_reveals_no_hosts_versions_or_errors(
    client: Client, database_unreachable: str
) -> None:
    response = client.get("/healthz")
    text = response.content.decode()
    values = json.dumps(response.json())
    assert database_unreachable not in text
    for secret_ish in (
        "127.0.0.1",
        "localhost",
        socket.gethostname(),
        "sqlite",
        "postgres",
        "redis",
    ):
        assert secret_ish.lower() not in values.lower()
    for version in (django.get_version(), platform.python_version()):
        assert version not in text
    for error_text in ("Error", "Traceback", "unable to open", "refused", "Exception"):
        assert error_text.lower() not in text.lower()


@pytest.mark.django_db
def test_healthz_needs_no_login(client: Client) -> None:
    response = client.get("/healthz", follow=False)
    assert response.status_code == 200
    assert "Location" not in response


@pytest.mark.parametrize("method", ["post", "put", "delete"])
def test_healthz_refuses_other_methods_with_405(client: Client, method: str) -> None:
    response = getattr(client, method)("/healthz")
    assert response.status_code == 405
    assert response["Allow"] == "GET, HEAD"


@pytest.mark.django_db
def test_healthz_answers_head_like_get_without_a_body(client: Client) -> None:
    # Uptime monitors often poll with HEAD.
    response = client.head("/healthz")
    assert response.status_code == 200
    assert response.content == b""
