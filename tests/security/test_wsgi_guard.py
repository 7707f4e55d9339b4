"""Input that Django rejects before middleware runs must still get a 4xx, not a bare 500."""

from __future__ import annotations

import io
import json
from wsgiref.util import setup_testing_defaults

import pytest

from booking.models import Partner
from settings.wsgi import application

# The real WSGI handler closes the connection at the end of each request (request_finished),
# which a test wrapped in a transaction would not survive.
pytestmark = pytest.mark.django_db(transaction=True)


def _call(path: str, content_type: str, body: bytes = b"{}") -> tuple[str, dict[str, str], bytes]:
    environ: dict = {}
    setup_testing_defaults(environ)
    environ.update(
        {
            "REQUEST_METHOD": "POST",
            "PATH_INFO": path,
            "SERVER_NAME": "127.0.0.1",
            "HTTP_HOST": "127.0.0.1",
            "CONTENT_TYPE": content_type,
            "CONTENT_LENGTH": str(len(body)),
            "wsgi.input": io.BytesIO(body),
        }
    )
    captured: dict = {}

    def start_response(
        status: str, headers: list[tuple[str, str]], exc_info: object = None
    ) -> None:
        captured["status"], captured["headers"] = status, dict(headers)

    chunks = b"".join(application(environ, start_response))
    return captured["status"], captured["headers"], chunks


def test_unparseable_content_type_on_the_api_gets_a_json_415_not_a_500() -> None:
    Partner.objects.create(name="Salon", slug="salon", contact_email="s@example.com")
    status, headers, body = _call(
        "/api/v1/partners/salon/bookings", "application/json; charset*=nope''abc"
    )
    assert status.startswith("415")
    assert json.loads(body)["error"]


def test_unparseable_content_type_on_a_page_is_not_a_server_error() -> None:
    status, _, _ = _call("/security/csp-report", "application/json; charset*=nope''abc")
    assert int(status[:3]) < 500
