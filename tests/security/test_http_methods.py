"""HTTP semantics on every URL a client may GET: HEAD answers like GET without a body (uptime
monitors and link checkers send it), and the widget API answers JSON whatever the method, so a
widget never has to parse an HTML error page. Django's CSRF check runs as in production."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, datetime, time

import pytest
import time_machine
from django.test import Client

from booking import services
from booking.models import OpeningHours, Partner, Service
from booking.services import CustomerDetails
from tests.actors import BOOKING_CUSTOMER
from tests.staffing import team

pytestmark = pytest.mark.django_db

NOW = datetime(2025, 1, 6, 7, 0, tzinfo=UTC)  # Monday 08:00 in Zurich
START = "2025-01-07T09:00:00Z"  # Tuesday 10:00 in Zurich: a free slot

# Every kind of page a GET is served on; {token} is a real booking's private link.
GET_URLS = [
    "/book/salon-head/",
    "/book/salon-head/cut/",
    "/book/salon-head/cut/?week=2025-01-13&tz=America%2FNew_York",
    f"/book/salon-head/cut/book/?start={START}",
    "/book/salon-head/cut/?week=9999-12-31",  # a 400 page
    "/book/nobody/",  # a 404 page
    "/manage/{token}/",
    "/manage/{token}/reschedule/",
    "/manage/{token}/pay/",
    "/manage/{token}/pay/status/",
    "/manage/not-a-token/",
    "/api/v1/partners/salon-head/services/",
    "/api/v1/partners/salon-head/services/cut/slots?start=2025-01-06&end=2025-01-12",
    "/api/v1/partners/salon-head/services/cut/slots?start=9999-12-31&end=9999-12-31",
    "/api/v1/partners/nobody/services/",
    "/api/v1/openapi.json",
    "/api/v1/nothing/here",
    "/healthz",
    "/.well-known/security.txt",
    "/security/policy",
    "/static/widget/booking.js",
    "/static/widget/booking.css",
    "/admin/login/",
    "/account/password-reset/",
]


@pytest.fixture(autouse=True)
def _frozen() -> Iterator[None]:
    with time_machine.travel(NOW, tick=False):
        yield


@pytest.fixture
def token(db) -> str:
    partner = Partner.objects.create(
        name="Salon Head", slug="salon-head", time_zone="Europe/Zurich", contact_email="o@h.example"
    )
    for weekday in range(5):
        OpeningHours.objects.create(partner=partner, weekday=weekday, start=time(9), end=time(17))
    service = Service.objects.create(
        partner=partner, name="Cut", slug="cut", duration_minutes=60, min_notice_minutes=0
    )
    team(partner)
    _, token = services.booking_create(
        service=service,
        start=datetime(2025, 1, 8, 9, 0, tzinfo=UTC),
        customer=CustomerDetails(name="Ada Lovelace", email="ada@example.com"),
        actor=BOOKING_CUSTOMER,
    )
    return token


@pytest.mark.parametrize("url", GET_URLS)
def test_head_answers_like_get_without_a_body(token: str, url: str) -> None:
    url = url.replace("{token}", token)
    client = Client(enforce_csrf_checks=True)
    get = client.get(url)
    head = client.head(url)
    assert head.status_code == get.status_code, (get.status_code, head.status_code)
    assert head.get("Content-Type") == get.get("Content-Type")
    body = b"".join(head.streaming_content) if head.streaming else head.content
    assert body == b""


@pytest.mark.parametrize("method", ["POST", "PUT", "PATCH", "DELETE", "OPTIONS", "FOO"])
@pytest.mark.parametrize("url", [u for u in GET_URLS if u.startswith("/api/")])
def test_no_method_on_an_api_url_answers_html(token: str, url: str, method: str) -> None:
    response = Client(enforce_csrf_checks=True).generic(method, url)
    assert response.status_code in (400, 404, 405), response.status_code
    assert response["Content-Type"] == "application/json"
