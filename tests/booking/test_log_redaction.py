"""Manage-link tokens never reach a log. A whole customer journey (book, open the manage page,
reschedule, cancel, and a revoked link's 404) runs against gunicorn started exactly as the
Dockerfile starts it (access log on), with the application logging at DEBUG; everything the
process wrote is then searched for the tokens. Plus the pieces: the formatters, the CSP report
store and the redaction itself."""

from __future__ import annotations

import json
import logging
import re
import subprocess
import sys
import urllib.parse
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import pytest
from django.conf import settings

from security.csp_reports import csp_reports_store
from security.logging import ConsoleFormatter, JsonFormatter, redact
from security.models import CspReport
from tests.app_servers import (
    Visitor,
    app_environment,
    free_port,
    scratch_database_url,
    wait_until_serving,
)

ROOT = Path(settings.BASE_DIR)
TOKEN = "123.q5W0rTmZ3m7c1o8hXbY2uJ6kP4sV9nL0aE_dF-gHiJk"
LEGACY = "q5W0rTmZ3m7c1o8hXbY2uJ6kP4sV9nL0aE_dF-gHiJk"


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        (f"GET /manage/{TOKEN}/ HTTP/1.1", "GET /manage/[redacted]/ HTTP/1.1"),
        (f"/manage/{TOKEN}/pay/status/?tz=UTC", "/manage/[redacted]/pay/status/?tz=UTC"),
        (f"Not Found: /manage/{LEGACY}", "Not Found: /manage/[redacted]"),
        (f"?next=%2Fmanage%2F{TOKEN}%2F", "?next=%2Fmanage%2F[redacted]%2F"),
        ("/book/demo-salon/haircut/", "/book/demo-salon/haircut/"),
        # The invitation link; its password page (no token) stays readable.
        (f"GET /invitation/{TOKEN}/ HTTP/1.1", "GET /invitation/[redacted]/ HTTP/1.1"),
        (f"?next=%2Finvitation%2F{TOKEN}%2F", "?next=%2Finvitation%2F[redacted]%2F"),
        ("POST /invitation/ HTTP/1.1", "POST /invitation/ HTTP/1.1"),
        (f"GET /feed/demo-salon/{LEGACY}.ics HTTP/1.1", "GET /feed/demo-salon/[redacted] HTTP/1.1"),
        (f"?next=%2Ffeed%2Fdemo-salon%2F{LEGACY}.ics", "?next=%2Ffeed%2Fdemo-salon%2F[redacted]"),
        # A password reset link (Django's: the user's id, then the token), and the page it
        # redirects to, which holds no token and stays readable.
        (
            "GET /account/reset/MTc/cz6b2k-0f1e2d3c4b5a69788796a5b4c3d2e1f0/ HTTP/1.1",
            "GET /account/reset/MTc/[redacted]/ HTTP/1.1",
        ),
        (
            "?next=%2Faccount%2Freset%2FMTc%2Fcz6b2k-0f1e2d3c4b5a6978%2F",
            "?next=%2Faccount%2Freset%2FMTc%2F[redacted]%2F",
        ),
        (
            "POST /account/reset/MTc/set-password/ HTTP/1.1",
            "POST /account/reset/MTc/set-password/ HTTP/1.1",
        ),
        ("GET /account/reset/done/ HTTP/1.1", "GET /account/reset/done/ HTTP/1.1"),
    ],
)
def test_redact_removes_the_private_segment_only(text: str, expected: str) -> None:
    assert redact(text) == expected


def test_both_formatters_redact_message_extras_and_exceptions() -> None:
    try:
        raise ValueError(f"while handling /manage/{TOKEN}/")
    except ValueError:
        record = logging.LogRecord(
            "django.request", logging.WARNING, __file__, 1, "Not Found: %s",
            (f"/manage/{TOKEN}/",), sys.exc_info(),
        )  # fmt: skip
    record.path = f"/manage/{TOKEN}/cancel/"
    for formatter in (JsonFormatter(), ConsoleFormatter()):
        line = formatter.format(record)
        assert TOKEN not in line and "/manage/[redacted]/" in line
    assert json.loads(JsonFormatter().format(record))["path"] == "/manage/[redacted]/cancel/"


@pytest.mark.django_db
def test_a_csp_report_from_a_manage_page_is_stored_without_the_token() -> None:
    body = json.dumps(
        {
            "csp-report": {
                "document-uri": f"https://booking.example/manage/{TOKEN}/",
                "violated-directive": "script-src",
                "blocked-uri": "inline",
            }
        }
    ).encode()
    csp_reports_store(body=body, user_agent="test")
    assert CspReport.objects.get().document_uri == "https://booking.example/manage/[redacted]/"


# --- the whole journey, through gunicorn as the Dockerfile runs it --------------------------------


def _dockerfile_command(port: int) -> list[str]:
    text = (ROOT / "Dockerfile").read_text(encoding="utf-8")
    (line,) = [line for line in text.splitlines() if line.startswith("CMD ")]
    command = json.loads(line.removeprefix("CMD "))
    assert command[0] == "gunicorn" and "--access-logfile" in command
    args = command[1:]
    args[args.index("--bind") + 1] = f"127.0.0.1:{port}"
    args[args.index("--workers") + 1] = "1"
    return [sys.executable, "-m", "gunicorn", *args]


@contextmanager
def _gunicorn(env: dict[str, str], log: Path) -> Iterator[str]:
    port = free_port()
    with log.open("wb") as out:
        process = subprocess.Popen(
            _dockerfile_command(port),
            env=env,
            cwd=ROOT,
            stdout=out,
            stderr=subprocess.STDOUT,
            start_new_session=True,
        )
    base = f"http://127.0.0.1:{port}"
    try:
        wait_until_serving(f"{base}/.well-known/security.txt", process, log)
        yield base
    finally:
        process.terminate()
        try:
            process.wait(timeout=10)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait(timeout=5)


def _token(location: str) -> str:
    match = re.match(r"^/manage/([^/]+)/", urllib.parse.urlsplit(location).path)
    assert match, location
    return match.group(1)


def _first(pattern: str, html: str) -> str:
    match = re.search(pattern, html)
    assert match, pattern
    return match.group(1).replace("&amp;", "&")


@pytest.mark.slow
@pytest.mark.django_db
def test_no_log_of_a_whole_booking_journey_holds_a_token(tmp_path: Path) -> None:
    with scratch_database_url(tmp_path, "logs") as database_url:
        env = app_environment(
            tmp_path,
            database_url,
            label="logs",
            setup="call_command('demo_data')",
        )
        env.update({"LOG_LEVEL": "DEBUG", "EMAIL_BACKEND": "file", "DEBUG": "false"})
        log = tmp_path / "gunicorn.log"
        visitor = Visitor()
        with _gunicorn(env, log) as base:
            status, _, html = visitor.get(f"{base}/book/demo-salon/haircut/")
            assert status == 200
            # Next week: far enough ahead for the cut-off to allow a move.
            status, _, html = visitor.get(base + _first(r'href="([^"]+)" rel="next"', html))
            assert status == 200
            form_url = _first(r'href="(/book/demo-salon/haircut/book/\?[^"]+)"', html)
            status, _, html = visitor.get(base + form_url)
            assert status == 200
            start = _first(r'name="start" value="([^"]+)"', html)
            status, headers, _ = visitor.post(
                f"{base}/book/demo-salon/haircut/book/",
                {
                    "start": start,
                    "tz": "Europe/Zurich",
                    "customer_name": "Ada Lovelace",
                    "customer_email": "ada@example.com",
                },
            )
            assert status == 302, headers
            first = _token(headers["Location"])
            assert visitor.get(base + headers["Location"])[0] == 200

            status, _, html = visitor.get(f"{base}/manage/{first}/reschedule/")
            assert status == 200
            status, _, html = visitor.get(base + _first(r'href="([^"]+)" rel="next"', html))
            assert status == 200
            new_start = _first(
                r'<button type="submit" class="slot" name="start" value="([^"]+)"', html
            )
            status, headers, _ = visitor.post(
                f"{base}/manage/{first}/reschedule/", {"start": new_start, "tz": "Europe/Zurich"}
            )
            assert status == 302
            second = _token(headers["Location"])
            assert second != first
            assert visitor.get(f"{base}/manage/{second}/")[0] == 200
            assert visitor.get(f"{base}/manage/{first}/")[0] == 404  # revoked: Django logs it
            status, headers, _ = visitor.post(
                f"{base}/manage/{second}/cancel/", {"reason": "", "tz": "Europe/Zurich"}
            )
            assert status == 302
            assert visitor.get(f"{base}/manage/{second}/pay/")[0] == 410  # not a hold
        logged = log.read_text(encoding="utf-8", errors="replace")
        # The access log is on and names the manage pages, without their tokens.
        assert re.search(r'"GET /manage/\[redacted\]/ HTTP/1\.1" 200', logged), logged[-2000:]
        assert '"GET /manage/[redacted]/ HTTP/1.1" 404' in logged
        assert "Not Found: /manage/[redacted]/" in logged
        for token in (first, second):
            assert token not in logged
            assert token.partition(".")[2] not in logged
