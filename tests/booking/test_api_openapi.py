"""GET /api/v1/openapi.json: the widget API's contract. The document must describe the real API:
every documented path resolves to its view, every view is documented, and real answers of each
kind (200, 201, 400, 404, 409, 413, 415, 429) validate against the documented schemas."""

from __future__ import annotations

import json
import re
from collections.abc import Iterator
from datetime import UTC, datetime
from typing import Any

import pytest
import time_machine
from django.test import Client
from django.urls import Resolver404, resolve
from jsonschema import Draft202012Validator, FormatChecker
from referencing import Registry, Resource
from referencing.jsonschema import DRAFT202012

from booking.api import forms, urls, views
from booking.api.openapi import OPENAPI
from booking.models import Partner, Service

pytestmark = pytest.mark.django_db

NOW = datetime(2025, 3, 24, 6, 0, tzinfo=UTC)  # Monday, 07:00 in Zurich
BASE = "/api/v1"
DOC_URI = "urn:booking:openapi"
SERVICES = "/partners/{slug}/services/"
SLOTS = "/partners/{slug}/services/{service}/slots"
STAFF = "/partners/{slug}/services/{service}/staff"
BOOKINGS = "/partners/{slug}/bookings"
MESSAGES = "/partners/{slug}/messages"


@pytest.fixture(autouse=True)
def frozen() -> Iterator[None]:
    with time_machine.travel(NOW, tick=False):
        yield


def _registry() -> Registry:
    return Registry().with_resource(
        DOC_URI, Resource.from_contents(OPENAPI, default_specification=DRAFT202012)
    )


def _absolute_refs(node: Any) -> Any:
    """Point the document's local refs ("#/components/...") at the registered document."""
    if isinstance(node, dict):
        return {
            k: (DOC_URI + v if k == "$ref" and v.startswith("#") else _absolute_refs(v))
            for k, v in node.items()
        }
    if isinstance(node, list):
        return [_absolute_refs(v) for v in node]
    return node


def response_schema(path: str, method: str, status: int) -> dict[str, Any]:
    responses = OPENAPI["paths"][path][method]["responses"]
    assert str(status) in responses, (
        f"{method.upper()} {path} answered {status}, which is not documented"
    )
    return _absolute_refs(responses[str(status)]["content"]["application/json"]["schema"])


def assert_documented(response, path: str, method: str) -> dict[str, Any]:
    assert response["Content-Type"] == "application/json"
    payload = json.loads(response.content)
    schema = response_schema(path, method, response.status_code)
    validator = Draft202012Validator(schema, registry=_registry(), format_checker=FormatChecker())
    errors = sorted(validator.iter_errors(payload), key=str)
    assert not errors, (
        f"{response.status_code} of {method.upper()} {path} does not match: {errors[0].message}\n{payload}"
    )
    return payload


# --- the document itself ------------------------------------------------------------------------


def test_the_document_is_served_as_json_and_equals_the_module(client: Client) -> None:
    response = client.get(f"{BASE}/openapi.json")
    assert response.status_code == 200
    assert response["Content-Type"] == "application/json"
    assert json.loads(response.content) == json.loads(json.dumps(OPENAPI))
    assert "public" in response["Cache-Control"]


def test_the_document_is_openapi_3_1_with_exactly_the_four_operations() -> None:
    assert OPENAPI["openapi"].startswith("3.1.")
    assert OPENAPI["info"]["title"] and OPENAPI["info"]["version"]
    assert OPENAPI["servers"] == [{"url": BASE}]
    operations = {(path, method) for path, item in OPENAPI["paths"].items() for method in item}
    assert operations == {
        (SERVICES, "get"),
        (STAFF, "get"),
        (SLOTS, "get"),
        (BOOKINGS, "post"),
        (MESSAGES, "get"),
    }
    ids = [op["operationId"] for item in OPENAPI["paths"].values() for op in item.values()]
    assert len(ids) == len(set(ids))


def _walk(node: Any) -> Iterator[Any]:
    yield node
    if isinstance(node, dict):
        for value in node.values():
            yield from _walk(value)
    elif isinstance(node, list):
        for value in node:
            yield from _walk(value)


def test_every_ref_resolves_and_every_schema_is_valid_json_schema() -> None:
    resolver = _registry().resolver(base_uri=DOC_URI)
    refs = {n["$ref"] for n in _walk(OPENAPI) if isinstance(n, dict) and "$ref" in n}
    assert refs
    for ref in refs:
        resolver.lookup(DOC_URI + ref)  # raises when unresolvable
    for schema in OPENAPI["components"]["schemas"].values():
        Draft202012Validator.check_schema(schema)
    # Every component is used somewhere.
    assert {r.rsplit("/", 1)[1] for r in refs} == set(OPENAPI["components"]["schemas"])


def test_every_object_schema_closes_its_properties() -> None:
    for node in _walk(OPENAPI["components"]["schemas"]):
        if isinstance(node, dict) and node.get("type") == "object" and "properties" in node:
            assert node.get("additionalProperties") is False, node


def test_every_path_parameter_is_declared_and_operations_document_their_errors() -> None:
    for path, item in OPENAPI["paths"].items():
        for method, op in item.items():
            declared = {p["name"] for p in op["parameters"] if p["in"] == "path"}
            assert declared == set(re.findall(r"{(\w+)}", path)), path
            assert {"404", "429"} <= set(op["responses"]), (method, path)
            for response in op["responses"].values():
                assert response["description"]
                assert set(response["content"]) == {"application/json"}


def test_documented_paths_are_the_real_routes() -> None:
    expected = {
        SERVICES: views.service_list,
        SLOTS: views.service_slots,
        STAFF: views.service_staff,
        BOOKINGS: views.booking_create,
        MESSAGES: views.widget_messages,
    }
    for path, view in expected.items():
        concrete = BASE + path.replace("{slug}", "salon-alpha").replace("{service}", "haircut")
        assert resolve(concrete).func is view, path
    named = {p.name for p in urls.urlpatterns if getattr(p, "name", None)}
    assert named == {
        "service-list",
        "service-staff",
        "service-slots",
        "booking-create",
        "widget-messages",
        "openapi",
    }


def test_documented_request_body_matches_the_form() -> None:
    schema = OPENAPI["components"]["schemas"]["BookingRequest"]
    form_fields = forms.BookingForm.base_fields
    assert set(schema["properties"]) == set(form_fields)
    assert set(schema["required"]) == {
        name for name, field in form_fields.items() if field.required
    }
    for name, field in form_fields.items():
        assert schema["properties"][name]["maxLength"] == field.max_length, name


def test_documented_range_limit_matches_the_form() -> None:
    days = OPENAPI["components"]["schemas"]["SlotList"]["properties"]["days"]
    assert days["maxItems"] == forms.MAX_RANGE_DAYS


def test_documented_work_limit_matches_the_form() -> None:
    from booking.api import openapi

    assert openapi.MAX_STAFF_DAYS == forms.MAX_STAFF_DAYS


def test_unmatched_paths_do_not_resolve_to_documented_views() -> None:
    with pytest.raises(Resolver404):
        resolve("/api/v2/partners/x/services/")


# --- real answers validate against the document -------------------------------------------------


@pytest.fixture
def priced(service: Service) -> Service:
    Service.objects.create(
        partner=service.partner,
        name="Colour",
        slug="colour",
        description="With a wash.",
        duration_minutes=90,
        price="85.50",
        currency="CHF",
    )
    return service


def test_service_list_answers_match(client: Client, priced: Service) -> None:
    payload = assert_documented(
        client.get(f"{BASE}/partners/salon-alpha/services/"), SERVICES, "get"
    )
    assert len(payload["services"]) == 2
    assert_documented(client.get(f"{BASE}/partners/nobody/services/"), SERVICES, "get")


def test_slot_answers_match(client: Client, service: Service, other_partner: Partner) -> None:
    url = f"{BASE}/partners/salon-alpha/services/haircut/slots"
    ok = assert_documented(
        client.get(url, {"start": "2025-03-30", "end": "2025-04-05", "tz": "America/New_York"}),
        SLOTS,
        "get",
    )
    assert sum(len(d["slots"]) for d in ok["days"]) == 40
    assert_documented(
        client.get(url, {"start": "2025-03-24", "end": "2025-05-24"}), SLOTS, "get"
    )  # 62 days
    assert_documented(
        client.get(url, {"start": "2025-03-30", "end": "2025-03-01", "tz": "Mars/Base"}),
        SLOTS,
        "get",
    )
    assert_documented(client.get(url), SLOTS, "get")
    assert_documented(
        client.get(f"{BASE}/partners/salon-alpha/services/check-up/slots"), SLOTS, "get"
    )
    assert_documented(client.get(f"{BASE}/partners/nobody/services/haircut/slots"), SLOTS, "get")


def test_booking_answers_match(client: Client, service: Service, other_partner: Partner) -> None:
    url = f"{BASE}/partners/salon-alpha/bookings"
    good = {
        "service": "haircut",
        "start": "2025-03-31T09:00:00+02:00",
        "customer_name": "Ada",
        "customer_email": "ada@example.com",
    }

    def post(data: Any, content_type: str = "application/json"):
        raw = data if isinstance(data, str | bytes) else json.dumps(data)
        return client.post(url, data=raw, content_type=content_type)

    answers = [
        post(good),  # 201
        post(good),  # 409
        post({}),  # 400 invalid
        post({**good, "start": "2025-03-31T09:30:00+02:00"}),  # 400 slot_not_offered
        post({**good, "customer_name": 7}),  # 400 invalid (shape)
        post("{nope"),  # 400 malformed_json
        post("[1]"),  # 400 not_an_object
        post({**good, "service": "check-up"}),  # 404 another partner's service
        post(good, content_type="text/plain"),  # 415
        post({**good, "notes": "x" * 20_000}),  # 413
        client.post(
            f"{BASE}/partners/nobody/bookings",
            data=json.dumps(good),
            content_type="application/json",
        ),  # 404
    ]
    assert [a.status_code for a in answers] == [
        201,
        409,
        400,
        400,
        400,
        400,
        400,
        404,
        415,
        413,
        404,
    ]
    for answer in answers:
        assert_documented(answer, BOOKINGS, "post")


def test_rate_limited_answers_match(client: Client, service: Service, settings) -> None:
    """The 429 comes from security.middleware, not from the views: its shape is documented too."""
    settings.RATE_LIMITS = {**settings.RATE_LIMITS, "api": {"rate": "1/m", "fail_open": True}}
    url = f"{BASE}/partners/salon-alpha/services/"
    client.get(url)
    limited = client.get(url)
    assert limited.status_code == 429
    assert_documented(limited, SERVICES, "get")


def test_the_schemas_reject_what_the_api_must_never_say() -> None:
    """The schemas are strict enough to catch a leak: an id, or an HTML error page's fields."""
    validator = Draft202012Validator(response_schema(BOOKINGS, "post", 201), registry=_registry())
    created = {
        "booking": {
            "service": "haircut",
            "start": "2025-03-31T09:00:00+02:00",
            "end": "2025-03-31T10:00:00+02:00",
            "status": "confirmed",
            "staff": {"id": 3, "name": "Anna"},
            "resource": None,
        },
        "manage_url": "http://testserver/manage/abc_DEF-123/",
    }
    assert validator.is_valid(created)
    assert not validator.is_valid({**created, "booking": {**created["booking"], "id": 1}})
    assert not validator.is_valid({**created, "manage_url": "javascript:alert(1)"})
    error = Draft202012Validator(response_schema(BOOKINGS, "post", 409), registry=_registry())
    assert not error.is_valid({"error": "slot_not_offered", "message": "x"})
    assert not error.is_valid({"error": "slot_taken", "message": "x", "traceback": "..."})
