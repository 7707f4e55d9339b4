"""GET /api/v1/partners/<slug>/services/: the partner and its active services, for the widget.
Public (no login); another partner's or an inactive service never shows; errors are JSON."""

from __future__ import annotations

import json
from decimal import Decimal

import pytest
from django.test import Client

from booking.models import Partner, Service, ServiceTranslation

pytestmark = pytest.mark.django_db


def url(slug: str) -> str:
    return f"/api/v1/partners/{slug}/services/"


def test_lists_the_partners_active_services_by_name(
    client: Client, service: Service, other_partner: Partner
) -> None:
    Service.objects.create(
        partner=service.partner,
        name="Colour",
        slug="colour",
        description="Includes a wash.\nAnd <b>tea</b>.",
        duration_minutes=90,
        price=Decimal("85.50"),
        currency="CHF",
    )
    Service.objects.create(
        partner=service.partner,
        name="Perm (retired)",
        slug="perm",
        duration_minutes=120,
        is_active=False,
    )

    response = client.get(url("salon-alpha"))

    assert response.status_code == 200
    assert response["Content-Type"] == "application/json"
    assert response.json() == {
        "partner": {"slug": "salon-alpha", "name": "Salon Alpha", "time_zone": "Europe/Zurich"},
        "services": [
            {
                "slug": "colour",
                "name": "Colour",
                "description": "Includes a wash.\nAnd <b>tea</b>.",
                "duration_minutes": 90,
                "price": "85.50",
                "currency": "CHF",
                "staff_choice": "any",
            },
            {
                "slug": "haircut",
                "name": "Haircut",
                "description": "",
                "duration_minutes": 60,
                "price": None,
                "currency": None,
                "staff_choice": "any",
            },
        ],
    }


def test_a_partner_without_active_services_gets_an_empty_list(
    client: Client, partner: Partner
) -> None:
    Service.objects.create(
        partner=partner, name="Old", slug="old", duration_minutes=30, is_active=False
    )
    assert client.get(url("salon-alpha")).json()["services"] == []


def test_other_partners_list_only_their_own(
    client: Client, service: Service, other_partner: Partner
) -> None:
    body = client.get(url("clinic-beta")).json()
    assert body["partner"]["slug"] == "clinic-beta"
    assert [s["slug"] for s in body["services"]] == ["check-up"]


def test_no_login_and_no_cookies_are_needed_or_set(service: Service) -> None:
    client = Client(enforce_csrf_checks=True)
    response = client.get(url("salon-alpha"))
    assert response.status_code == 200
    assert not response.cookies


def test_unknown_partner_is_a_json_404(client: Client, partner: Partner) -> None:
    response = client.get(url("no-such-salon"))
    assert response.status_code == 404
    assert response["Content-Type"] == "application/json"
    assert response.json() == {"error": "not_found", "message": "No such partner."}


@pytest.mark.parametrize(
    "path",
    [
        "/api/v1/partners/salon-alpha/services",  # no trailing slash
        "/api/v1/partners/salon-alpha/",
        "/api/v1/partners/salon%2Falpha/services/",
        "/api/v1/partners/salon-alpha/../clinic-beta/services/",
        "/api/v1/",
        "/api/v1/nothing/here",
    ],
)
def test_unknown_api_paths_are_json_404s(client: Client, partner: Partner, path: str) -> None:
    response = client.get(path)
    assert response.status_code == 404
    assert response["Content-Type"] == "application/json"
    assert response.json()["error"] == "not_found"


@pytest.mark.parametrize("method", ["post", "put", "patch", "delete"])
def test_other_methods_are_a_json_405(client: Client, service: Service, method: str) -> None:
    response = getattr(client, method)(
        url("salon-alpha"), data="{}", content_type="application/json"
    )
    assert response.status_code == 405
    assert response["Allow"] == "GET, HEAD"
    assert response.json() == {"error": "method_not_allowed", "message": "Use GET here."}


def test_the_list_takes_three_queries_whatever_the_number_of_services(
    client: Client, service: Service, django_assert_num_queries
) -> None:
    for n in range(5):
        Service.objects.create(
            partner=service.partner, name=f"Extra {n}", slug=f"extra-{n}", duration_minutes=30
        )
        ServiceTranslation.objects.create(
            service=Service.objects.get(slug=f"extra-{n}"), language="de", name=f"Extra {n} (de)"
        )
    # the partner, its services, their names in other languages
    with django_assert_num_queries(3):
        response = client.get(url("salon-alpha"), headers={"accept-language": "de"})
    names = [s["name"] for s in json.loads(response.content)["services"]]
    assert len(names) == 6 and "Extra 0 (de)" in names


# --- HTTP methods: JSON whatever the method, HEAD like GET ---------------------------------------

API_PATHS = [
    "/api/v1/partners/salon-alpha/services/",
    "/api/v1/partners/salon-alpha/services/haircut/slots",
    "/api/v1/partners/salon-alpha/bookings",
    "/api/v1/openapi.json",
    "/api/v1/",
    "/api/v1/nothing/here",
    "/api/v1/partners/salon-alpha/services",
]
METHODS = ["GET", "HEAD", "POST", "PUT", "PATCH", "DELETE", "OPTIONS", "TRACE", "PROPFIND", "FOO"]


@pytest.mark.parametrize("method", METHODS)
@pytest.mark.parametrize("path", API_PATHS)
def test_no_method_on_any_api_path_answers_html(service: Service, path: str, method: str) -> None:
    # A real browser or client: Django's CSRF check applies as it does in production.
    client = Client(enforce_csrf_checks=True)
    response = client.generic(method, path, data="{}", content_type="application/json")
    assert response.status_code in (200, 400, 404, 405), response.status_code
    assert response["Content-Type"] == "application/json", (
        response.status_code,
        response.content[:80],
    )
    if response.status_code == 405:
        assert response["Allow"]
        assert method not in response["Allow"].split(", ")


@pytest.mark.parametrize("method", ["POST", "PUT", "PATCH", "DELETE", "OPTIONS"])
def test_an_unknown_api_path_is_a_json_404_whatever_the_method(
    partner: Partner, method: str
) -> None:
    response = Client(enforce_csrf_checks=True).generic(method, "/api/v1/nothing/here")
    assert response.status_code == 404
    assert response.json()["error"] == "not_found"


@pytest.mark.parametrize("method", ["post", "put", "patch", "delete", "options"])
def test_other_methods_are_a_json_405_even_with_csrf_checks(service: Service, method: str) -> None:
    response = getattr(Client(enforce_csrf_checks=True), method)(url("salon-alpha"))
    assert response.status_code == 405
    assert response["Allow"] == "GET, HEAD"
    assert response.json()["error"] == "method_not_allowed"


def test_head_answers_like_get_without_a_body(client: Client, service: Service) -> None:
    get = client.get(url("salon-alpha"))
    head = client.head(url("salon-alpha"))
    assert head.status_code == get.status_code == 200
    assert head["Content-Type"] == "application/json" and head.content == b""
