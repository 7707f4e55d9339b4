"""/healthz for uptime monitors (C01): 200 when every component answers, 503 when the database is
down, no login, GET only, and nothing in the body that helps an attacker."""

from __future__ import annotations

import json
import logging
import platform
import socket
import threading
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path

import django
import pytest
import time_machine
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


@pytest.mark.django_db
def test_healthz_refuses_a_host_that_is_not_ours(client: Client) -> None:
    # /healthz is answered before the rest of the middleware; the host is still checked.
    response = client.get("/healthz", headers={"host": "attacker.example"})
    assert response.status_code == 400


@pytest.mark.django_db
def test_healthz_carries_the_security_headers_and_no_cookie(client: Client) -> None:
    response = client.get("/healthz")
    assert response.status_code == 200
    assert "default-src 'self'" in response["Content-Security-Policy"].split("; ")
    assert response["X-Content-Type-Options"] == "nosniff"
    assert response["X-Frame-Options"] == "DENY"
    assert response["Cross-Origin-Resource-Policy"] == "same-origin"
    assert "Set-Cookie" not in response and "Cookie" not in response.get("Vary", "")


# --- the broker: checked at most every few seconds per process, still "down" when it is down ----


class _CountingListener:
    """A TCP port that accepts connections, counts them and hangs up at once: a broker that is
    there but does not work. Closing it leaves a port where nothing listens."""

    def __init__(self) -> None:
        self.sock = socket.socket()
        self.sock.bind(("127.0.0.1", 0))
        self.sock.listen(16)
        self.port = self.sock.getsockname()[1]
        self.accepted = 0
        self._thread = threading.Thread(target=self._serve, daemon=True)
        self._thread.start()

    def _serve(self) -> None:
        while True:
            try:
                conn, _ = self.sock.accept()
            except OSError:
                return
            self.accepted += 1
            conn.close()

    def close(self) -> None:
        self.sock.close()
        self._thread.join(timeout=5)


@pytest.fixture
def broker_at():
    """broker_at(url) points the Celery app at that broker for the test (as BROKER_URL would)."""
    from celery import current_app

    original = current_app.conf.broker_url

    def _point(url: str) -> None:
        current_app.conf.broker_url = url

    yield _point
    current_app.conf.broker_url = original


@pytest.mark.django_db
def test_healthz_answers_503_when_the_broker_is_unreachable(
    client: Client, broker_at, caplog: pytest.LogCaptureFixture
) -> None:
    broker_at(f"redis://127.0.0.1:{_closed_port()}/0")
    with caplog.at_level(logging.WARNING, logger="security.health"):
        response = client.get("/healthz")
    assert response.status_code == 503
    body = response.json()
    assert body["status"] == "down"
    assert body["checks"] == {"database": "ok", "cache": "ok", "broker": "down"}
    failures = [r for r in caplog.records if getattr(r, "component", None) == "broker"]
    assert failures and failures[0].exc_info is not None
    assert "127.0.0.1" not in response.content.decode()


@pytest.mark.django_db
def test_healthz_checks_the_broker_at_most_once_per_interval_per_process(
    client: Client, broker_at, settings
) -> None:
    # A monitor (or a load balancer) polling every second must not open a broker connection
    # each time; the answer of one check holds for HEALTHZ_BROKER_CHECK_SECONDS.
    listener = _CountingListener()
    try:
        broker_at(f"redis://127.0.0.1:{listener.port}/0")
        with time_machine.travel(datetime(2031, 3, 3, 10, 0, 0, tzinfo=UTC), tick=False) as clock:
            first = [client.get("/healthz") for _ in range(5)]
            after_one_check = listener.accepted
            clock.shift(timedelta(seconds=settings.HEALTHZ_BROKER_CHECK_SECONDS))
            later = client.get("/healthz")
        # The broker is there but broken: every answer says so, cached or not.
        assert [r.status_code for r in first] == [503] * 5
        assert all(r.json()["checks"]["broker"] == "down" for r in first)
        assert later.status_code == 503
        assert after_one_check >= 1
        assert listener.accepted > after_one_check  # the interval is over: checked again
        # One check may try twice (a retry), never once per request.
        assert after_one_check <= 2
    finally:
        listener.close()


@pytest.mark.django_db
def test_healthz_notices_a_broker_that_went_away_after_the_interval(
    client: Client, broker_at, settings
) -> None:
    settings.HEALTHZ_BROKER_CHECK_SECONDS = 0  # check on every request
    listener = _CountingListener()
    broker_at(f"redis://127.0.0.1:{listener.port}/0")
    client.get("/healthz")
    listener.close()  # now nothing listens at all
    assert client.get("/healthz").json()["checks"]["broker"] == "down"
