"""POST /security/csp-report (C06): browsers' violation reports are stored, in both formats;
anything else is refused without touching the table, which never grows past its cap."""

from __future__ import annotations

import json

import pytest
from django.test import Client

from security.models import CspReport

pytestmark = pytest.mark.django_db

URL = "/security/csp-report"

LEGACY = {
    "csp-report": {
        "document-uri": "https://booking.example/book/salon/",
        "referrer": "",
        "violated-directive": "script-src-elem",
        "effective-directive": "script-src-elem",
        "original-policy": "default-src 'self'; report-uri /security/csp-report",
        "blocked-uri": "https://evil.example/x.js",
        "source-file": "https://booking.example/book/salon/",
        "line-number": 12,
        "script-sample": "",
        "status-code": 200,
    }
}

REPORTING_API = [
    {
        "type": "csp-violation",
        "age": 10,
        "url": "https://booking.example/manage/abc/",
        "user_agent": "Mozilla/5.0",
        "body": {
            "documentURL": "https://booking.example/manage/abc/",
            "effectiveDirective": "style-src-attr",
            "blockedURL": "inline",
            "disposition": "enforce",
            "originalPolicy": "default-src 'self'",
            "sourceFile": "https://booking.example/static/booking/page.js",
            "lineNumber": 3,
            "columnNumber": 7,
            "sample": "color: red",
            "statusCode": 200,
        },
    }
]


def _post(
    client: Client, body: bytes | str, content_type: str = "application/csp-report", **extra: str
):
    return client.post(
        URL, data=body, content_type=content_type, REMOTE_ADDR="203.0.113.5", **extra
    )


def test_legacy_report_is_stored(client: Client) -> None:
    response = _post(client, json.dumps(LEGACY), HTTP_USER_AGENT="Firefox/130")
    assert response.status_code == 204
    report = CspReport.objects.get()
    assert report.document_uri == "https://booking.example/book/salon/"
    assert report.violated_directive == "script-src-elem"
    assert report.blocked_uri == "https://evil.example/x.js"
    assert report.line_number == 12
    assert report.user_agent == "Firefox/130"


def test_reporting_api_report_is_stored(client: Client) -> None:
    response = _post(client, json.dumps(REPORTING_API), content_type="application/reports+json")
    assert response.status_code == 204
    report = CspReport.objects.get()
    # The manage link's token is not kept (security.logging.redact).
    assert report.document_uri == "https://booking.example/manage/[redacted]/"
    assert report.violated_directive == "style-src-attr"
    assert report.blocked_uri == "inline"
    assert report.source_file == "https://booking.example/static/booking/page.js"
    assert report.line_number == 3
    assert report.sample == "color: red"


def test_reporting_api_batch_is_capped_per_request(client: Client) -> None:
    small = [
        {"type": "csp-violation", "body": {"effectiveDirective": "img-src", "lineNumber": n}}
        for n in range(40)
    ]
    response = _post(client, json.dumps(small), content_type="application/reports+json")
    assert response.status_code == 204
    assert CspReport.objects.count() == 10


def test_no_csrf_token_is_needed() -> None:
    browser = Client(enforce_csrf_checks=True)
    assert _post(browser, json.dumps(LEGACY)).status_code == 204
    assert CspReport.objects.count() == 1


def test_oversize_report_is_refused_with_413(client: Client) -> None:
    huge = json.dumps({"csp-report": {**LEGACY["csp-report"], "script-sample": "x" * 9000}})
    response = _post(client, huge)
    assert response.status_code == 413
    assert CspReport.objects.count() == 0


def test_body_longer_than_its_declared_length_is_not_read_past_the_limit(client: Client) -> None:
    # A lying Content-Length: the view reads only what was declared, which is not a report.
    huge = json.dumps({"csp-report": {**LEGACY["csp-report"], "script-sample": "x" * 20000}})
    response = _post(client, huge, CONTENT_LENGTH="100")
    assert response.status_code == 400
    assert CspReport.objects.count() == 0


@pytest.mark.parametrize(
    "length", ["-1", "abc", "1e9", "99999999999999999999", "9" * 5000, "١٢", "１２", " 12"]
)
def test_malformed_content_length_is_refused(client: Client, length: str) -> None:
    response = _post(client, json.dumps(LEGACY), CONTENT_LENGTH=length)
    assert response.status_code == 413
    assert CspReport.objects.count() == 0


@pytest.mark.parametrize(
    "body",
    [
        b"",
        b"not json",
        b"\xff\xfe\x00garbage",
        b"{",
        b"null",
        b"42",
        b'"csp-report"',
        b"{}",
        b'{"csp-report": "script-src"}',
        b'{"csp-report": []}',
        b"[]",
        b"[1, 2, 3]",
        b'[{"type": "csp-violation"}]',
        b'[{"type": "csp-violation", "body": "x"}]',
    ],
)
def test_garbage_is_refused_with_400_and_nothing_is_stored(client: Client, body: bytes) -> None:
    response = _post(client, body)
    assert response.status_code == 400
    assert response.json()["error"] == "invalid"
    assert CspReport.objects.count() == 0


def test_hostile_field_values_are_truncated_and_typed(client: Client) -> None:
    report = {
        "csp-report": {
            "document-uri": "https://x.example/" + "a" * 5000,
            "violated-directive": {"nested": "object"},
            "blocked-uri": ["list"],
            "line-number": 2**40,
            "script-sample": "<script>alert(1)</script>" * 50,
        }
    }
    assert _post(client, json.dumps(report)).status_code == 204
    stored = CspReport.objects.get()
    assert len(stored.document_uri) == 500
    assert stored.violated_directive == ""
    assert stored.blocked_uri == ""
    assert stored.line_number is None
    assert len(stored.sample) == 200


def test_get_is_405(client: Client) -> None:
    assert client.get(URL).status_code == 405
    assert (
        client.put(URL, data=json.dumps(LEGACY), content_type="application/csp-report").status_code
        == 405
    )


def test_table_is_capped_keeping_the_newest(client: Client, settings) -> None:
    settings.CSP_REPORTS_KEEP = 3
    for n in range(6):
        body = {
            "csp-report": {**LEGACY["csp-report"], "document-uri": f"https://booking.example/{n}"}
        }
        assert _post(client, json.dumps(body)).status_code == 204
    kept = list(CspReport.objects.order_by("pk").values_list("document_uri", flat=True))
    assert kept == [f"https://booking.example/{n}" for n in (3, 4, 5)]
