"""The widget API's contract as an OpenAPI 3.1 document, served at /api/v1/openapi.json.

Kept as a Python dict next to the views so that a change to one is seen in the same diff as the
other; tests/booking/test_api_openapi.py checks real responses against these schemas."""

from __future__ import annotations

from typing import Any

from booking.models import Booking

# What a booking created through the API can be: confirmed, or a hold awaiting payment.
NEW_BOOKING_STATUSES = (Booking.Status.CONFIRMED, Booking.Status.PENDING_PAYMENT)

MAX_RANGE_DAYS = 62  # the same as booking.api.forms.MAX_RANGE_DAYS (tested)
MAX_STAFF_DAYS = 500  # the same as booking.api.forms.MAX_STAFF_DAYS (tested)


def _ref(name: str) -> dict[str, str]:
    return {"$ref": f"#/components/schemas/{name}"}


def _json(schema: dict[str, Any], description: str) -> dict[str, Any]:
    return {"description": description, "content": {"application/json": {"schema": schema}}}


def _error(codes: list[str], description: str) -> dict[str, Any]:
    return _json(
        {"allOf": [_ref("Error"), {"properties": {"error": {"enum": codes}}}]}, description
    )


_NOT_FOUND = _error(
    ["not_found"], "Unknown partner, or no active service of this partner with this slug."
)
_RATE_LIMITED = {
    **_json(_ref("RateLimited"), "Too many requests from this address."),
    "headers": {
        "Retry-After": {
            "description": "Seconds to wait.",
            "schema": {"type": "integer", "minimum": 0},
        }
    },
}
_SLUG = {"type": "string", "pattern": "^[-a-zA-Z0-9_]+$", "maxLength": 60}
_PARTNER_SLUG = {
    "name": "slug",
    "in": "path",
    "required": True,
    "description": "The partner's slug.",
    "schema": _SLUG,
}

_STAFF_NOT_OFFERED = _error(
    ["staff_not_offered"],
    "The staff member does not perform this service (or no longer works here), or the service "
    "needs a person chosen and `any` was asked for.",
)
_SERVICE_PATH = {
    "name": "service",
    "in": "path",
    "required": True,
    "description": "The service's slug.",
    "schema": _SLUG,
}
_STAFF_PARAMETER = {
    "type": "string",
    "maxLength": 20,
    "pattern": "^(any|[1-9][0-9]{0,17})$",
    "description": "`any` (the default when absent or empty) or the id of a staff member from "
    "the service's staff list.",
}

OPENAPI: dict[str, Any] = {
    "openapi": "3.1.0",
    "info": {
        "title": "Booking widget API",
        "version": "1.0.0",
        "description": (
            "Public API of the embeddable booking widget. No authentication and no cookies; "
            "cross-origin reads are allowed only from the origins a partner registered. Every "
            "response, errors included, is JSON; errors carry a machine-readable `error` code "
            "and a `message` meant for people."
        ),
    },
    "servers": [{"url": "/api/v1"}],
    "paths": {
        "/partners/{slug}/services/": {
            "get": {
                "operationId": "listServices",
                "summary": "The partner and its bookable (active) services.",
                "parameters": [_PARTNER_SLUG],
                "responses": {
                    "200": _json(
                        _ref("ServiceList"), "The partner and its active services, by name."
                    ),
                    "404": _NOT_FOUND,
                    "429": _RATE_LIMITED,
                },
            }
        },
        "/partners/{slug}/services/{service}/staff": {
            "get": {
                "operationId": "listServiceStaff",
                "summary": "Whom a customer may book the service with.",
                "description": (
                    "The active staff members who perform the service, in the partner's display "
                    'order. With `staff_choice` "any" the customer may also book anyone (of those '
                    "free for the whole slot, the person with the fewest bookings that local day "
                    'is assigned, then the first in display order); with "choose" they must pick '
                    "a person."
                ),
                "parameters": [_PARTNER_SLUG, _SERVICE_PATH],
                "responses": {
                    "200": _json(_ref("ServiceStaff"), "The service's staff."),
                    "404": _NOT_FOUND,
                    "429": _RATE_LIMITED,
                },
            }
        },
        "/partners/{slug}/services/{service}/slots": {
            "get": {
                "operationId": "listSlots",
                "summary": "Free start times of a service, grouped by the customer's local date.",
                "description": (
                    "The window is [start 00:00, end + 1 day 00:00) in `tz`. Every date from "
                    "`start` to `end` is listed in order; a day without free times has an empty "
                    "`slots` list. Times carry the UTC offset of `tz` at that moment. One "
                    f"request computes at most {MAX_STAFF_DAYS} days x staff members: the days "
                    "asked for times one (with `staff`) or every person performing the service "
                    "(anyone); a larger request is refused with 400 (`fields.end`)."
                ),
                "parameters": [
                    _PARTNER_SLUG,
                    _SERVICE_PATH,
                    {
                        "name": "start",
                        "in": "query",
                        "required": True,
                        "description": "First local date (inclusive), YYYY-MM-DD.",
                        "schema": {"type": "string", "format": "date", "example": "2025-03-31"},
                    },
                    {
                        "name": "end",
                        "in": "query",
                        "required": True,
                        "description": f"Last local date (inclusive), at most {MAX_RANGE_DAYS} days including start.",
                        "schema": {"type": "string", "format": "date", "example": "2025-04-06"},
                    },
                    {
                        "name": "tz",
                        "in": "query",
                        "required": False,
                        "description": "The customer's IANA time zone; empty or absent means the partner's.",
                        "schema": {
                            "type": "string",
                            "maxLength": 64,
                            "example": "America/New_York",
                        },
                    },
                    {
                        "name": "staff",
                        "in": "query",
                        "required": False,
                        "description": "Free times of anyone (`any`, the default) or of one staff member.",
                        "schema": _STAFF_PARAMETER,
                    },
                ],
                "responses": {
                    "200": _json(_ref("SlotList"), "Free start times by local date."),
                    "400": _json(
                        {
                            "oneOf": [
                                _ref("FieldErrors"),
                                _STAFF_NOT_OFFERED["content"]["application/json"]["schema"],
                            ]
                        },
                        "A missing or invalid parameter (see `fields`; `end` also when the "
                        f"request exceeds {MAX_STAFF_DAYS} days x staff members), or a staff "
                        "member who does not perform the service (`staff_not_offered`).",
                    ),
                    "404": _error(
                        ["not_found"],
                        "Unknown partner, no active service of this partner with this slug, or "
                        "no staff member of this partner with this id.",
                    ),
                    "429": _RATE_LIMITED,
                },
            }
        },
        "/partners/{slug}/bookings": {
            "post": {
                "operationId": "createBooking",
                "summary": "Book a free start time.",
                "parameters": [_PARTNER_SLUG],
                "requestBody": {
                    "required": True,
                    "description": "A UTF-8 JSON object of at most 16 KiB.",
                    "content": {"application/json": {"schema": _ref("BookingRequest")}},
                },
                "responses": {
                    "201": _json(
                        _ref("BookingCreated"),
                        "Booked. `manage_url` is private: the customer's way to manage the booking (also in the "
                        "confirmation email). For a service with a "
                        "price the booking is a hold (`pending_payment`) until `hold_expires_at`: send the customer "
                        "to `payment_url`; only the payment confirms it.",
                    ),
                    "400": _json(
                        {
                            "oneOf": [
                                _ref("FieldErrors"),
                                {
                                    "allOf": [
                                        _ref("Error"),
                                        {
                                            "properties": {
                                                "error": {
                                                    "enum": [
                                                        "slot_not_offered",
                                                        "staff_not_offered",
                                                        "malformed_json",
                                                        "not_an_object",
                                                        "bad_request",
                                                    ]
                                                }
                                            }
                                        },
                                    ]
                                },
                            ]
                        },
                        "Invalid fields (`invalid`, see `fields`); a start that is not one of the offered "
                        "times (`slot_not_offered`); a staff member who does not perform the service, "
                        "or `any` where a person must be chosen (`staff_not_offered`); a body that is "
                        "not a JSON object.",
                    ),
                    "404": _error(
                        ["not_found"],
                        "Unknown partner, no active service of this partner with this slug, or "
                        "no staff member of this partner with this id.",
                    ),
                    "409": _error(
                        ["slot_taken"], "The time was free a moment ago but has just been booked."
                    ),
                    "503": _error(
                        ["payments_not_configured"],
                        "The service has a price and the platform cannot take payments now: it cannot be booked online.",
                    ),
                    "413": _error(["too_large"], "The body is larger than 16 KiB."),
                    "415": _error(
                        ["unsupported_media_type"], "The body is not application/json in UTF-8."
                    ),
                    "429": _RATE_LIMITED,
                },
            }
        },
        "/partners/{slug}/messages": {
            "get": {
                "operationId": "getMessages",
                "summary": "The widget's texts in the language of the Accept-Language header.",
                "description": (
                    "English (the widget's own texts) gets an empty catalogue. The same header "
                    "on the other requests sets the language of their messages, of service "
                    "names where the partner gave them, and of a booking's emails."
                ),
                "parameters": [_PARTNER_SLUG],
                "responses": {
                    "200": _json(
                        _ref("MessageCatalog"), "The texts: English original to translation."
                    ),
                    "404": _NOT_FOUND,
                    "429": _RATE_LIMITED,
                },
            }
        },
    },
    "components": {
        "schemas": {
            "MessageCatalog": {
                "type": "object",
                "additionalProperties": False,
                "required": ["language", "messages"],
                "properties": {
                    "language": {"type": "string", "enum": ["en", "de", "fr", "it"]},
                    "messages": {"type": "object", "additionalProperties": {"type": "string"}},
                },
            },
            "Partner": {
                "type": "object",
                "additionalProperties": False,
                "required": ["slug", "name", "time_zone"],
                "properties": {
                    "slug": _SLUG,
                    "name": {"type": "string"},
                    "time_zone": {
                        "type": "string",
                        "description": "IANA time zone, e.g. Europe/Zurich.",
                    },
                },
            },
            "Service": {
                "type": "object",
                "additionalProperties": False,
                "required": [
                    "slug",
                    "name",
                    "description",
                    "duration_minutes",
                    "price",
                    "currency",
                    "staff_choice",
                ],
                "properties": {
                    "slug": _SLUG,
                    "name": {"type": "string"},
                    "description": {"type": "string"},
                    "duration_minutes": {"type": "integer", "minimum": 5, "maximum": 1440},
                    "price": {
                        "type": ["string", "null"],
                        "pattern": "^[0-9]+\\.[0-9]{2}$",
                        "description": 'Decimal as a string, e.g. "45.00"; null when the service is free of charge or priced on site.',
                    },
                    "currency": {
                        "type": ["string", "null"],
                        "pattern": "^[A-Z]{3}$",
                        "description": "ISO 4217; null exactly when price is null.",
                    },
                    "staff_choice": {
                        "type": "string",
                        "enum": ["any", "choose"],
                        "description": "`any`: the customer may book anyone; `choose`: they must pick a person.",
                    },
                },
            },
            "StaffMember": {
                "type": "object",
                "additionalProperties": False,
                "required": ["id", "name"],
                "properties": {
                    "id": {"type": "integer", "minimum": 1},
                    "name": {"type": "string"},
                },
            },
            "Resource": {
                "type": "object",
                "additionalProperties": False,
                "required": ["id", "name"],
                "properties": {
                    "id": {"type": "integer", "minimum": 1},
                    "name": {"type": "string", "description": "e.g. the room or chair."},
                },
            },
            "ServiceStaff": {
                "type": "object",
                "additionalProperties": False,
                "required": ["service", "staff_choice", "staff"],
                "properties": {
                    "service": _SLUG,
                    "staff_choice": {"type": "string", "enum": ["any", "choose"]},
                    "staff": {"type": "array", "items": _ref("StaffMember")},
                },
            },
            "ServiceList": {
                "type": "object",
                "additionalProperties": False,
                "required": ["partner", "services"],
                "properties": {
                    "partner": _ref("Partner"),
                    "services": {"type": "array", "items": _ref("Service")},
                },
            },
            "SlotDay": {
                "type": "object",
                "additionalProperties": False,
                "required": ["date", "slots"],
                "properties": {
                    "date": {
                        "type": "string",
                        "format": "date",
                        "pattern": "^[0-9]{4}-[0-9]{2}-[0-9]{2}$",
                    },
                    "slots": {
                        "type": "array",
                        "items": {
                            "type": "string",
                            "format": "date-time",
                            "pattern": "^[0-9]{4}-[0-9]{2}-[0-9]{2}T[0-9]{2}:[0-9]{2}:[0-9]{2}[+-][0-9]{2}:[0-9]{2}(:[0-9]{2})?$",
                        },
                    },
                },
            },
            "SlotList": {
                "type": "object",
                "additionalProperties": False,
                "required": ["time_zone", "days"],
                "properties": {
                    "time_zone": {
                        "type": "string",
                        "description": "The zone the dates and offsets are in.",
                    },
                    "days": {"type": "array", "maxItems": MAX_RANGE_DAYS, "items": _ref("SlotDay")},
                },
            },
            "BookingRequest": {
                "type": "object",
                "additionalProperties": False,
                "required": ["service", "start", "customer_name", "customer_email"],
                "properties": {
                    "service": {
                        **_SLUG,
                        "description": "The slug of one of this partner's services.",
                    },
                    "start": {
                        "type": "string",
                        "format": "date-time",
                        "maxLength": 40,
                        "description": "One of the offered start times, with its UTC offset (a time without one is refused).",
                        "example": "2025-03-31T09:00:00+02:00",
                    },
                    "staff": {
                        **_STAFF_PARAMETER,
                        "description": "Optional: `any` (the default) or the id of the staff member "
                        "the customer chose.",
                    },
                    "tz": {
                        "type": "string",
                        "maxLength": 64,
                        "description": "Optional: the IANA zone the customer saw the times in; "
                        "the booking's emails and manage page show the time in it (and the "
                        "partner's beside it). Absent: the partner's zone.",
                        "example": "America/New_York",
                    },
                    "customer_name": {"type": "string", "minLength": 1, "maxLength": 120},
                    "customer_email": {"type": "string", "format": "email", "maxLength": 254},
                    "customer_phone": {"type": "string", "maxLength": 40},
                    "notes": {"type": "string", "maxLength": 2000},
                },
            },
            "BookingCreated": {
                "type": "object",
                "additionalProperties": False,
                "required": ["booking", "manage_url"],
                "properties": {
                    "booking": {
                        "type": "object",
                        "additionalProperties": False,
                        "required": ["service", "start", "end", "status", "staff", "resource"],
                        "properties": {
                            "service": _SLUG,
                            "start": {
                                "type": "string",
                                "format": "date-time",
                                "description": "In the offset of the requested start.",
                            },
                            "end": {"type": "string", "format": "date-time"},
                            "status": {
                                "type": "string",
                                "enum": [str(s.value) for s in NEW_BOOKING_STATUSES],
                            },
                            "staff": {
                                **_ref("StaffMember"),
                                "description": "Who the booking is with (the one chosen, or whom anyone was assigned to).",
                            },
                            "resource": {
                                "oneOf": [_ref("Resource"), {"type": "null"}],
                                "description": "The room or equipment the service needs; null if none.",
                            },
                            "hold_expires_at": {
                                "type": "string",
                                "format": "date-time",
                                "description": "Holds only: when the time is released unless paid.",
                            },
                        },
                    },
                    "payment_url": {
                        "type": "string",
                        "format": "uri",
                        "pattern": "^https?://[^/]+/manage/[-_.A-Za-z0-9]+/pay/$",
                        "description": "Holds only: the payment page. Secret like `manage_url`.",
                    },
                    "manage_url": {
                        "type": "string",
                        "format": "uri",
                        "pattern": "^https?://[^/]+/manage/[-_.A-Za-z0-9]+/$",
                        "description": "Absolute link to view, cancel or reschedule the booking. Secret: show it only to the customer.",
                    },
                },
            },
            "Error": {
                "type": "object",
                "additionalProperties": False,
                "required": ["error", "message"],
                "properties": {
                    "error": {
                        "type": "string",
                        "enum": [
                            "not_found",
                            "method_not_allowed",
                            "bad_request",
                            "too_large",
                            "unsupported_media_type",
                            "malformed_json",
                            "not_an_object",
                            "slot_not_offered",
                            "slot_taken",
                            "staff_not_offered",
                            "internal_error",
                            "payments_not_configured",
                        ],
                    },
                    "message": {"type": "string", "minLength": 1},
                },
            },
            "FieldErrors": {
                "type": "object",
                "additionalProperties": False,
                "required": ["error", "message", "fields"],
                "properties": {
                    "error": {"const": "invalid"},
                    "message": {"type": "string", "minLength": 1},
                    "fields": {
                        "type": "object",
                        "description": "Messages per field name (`__all__` for problems of no single field).",
                        "minProperties": 1,
                        "additionalProperties": {
                            "type": "array",
                            "minItems": 1,
                            "items": {"type": "string"},
                        },
                    },
                },
            },
            "RateLimited": {
                "type": "object",
                "additionalProperties": False,
                "required": ["error", "message", "retry_after"],
                "properties": {
                    "error": {"const": "rate_limited"},
                    "message": {"type": "string"},
                    "retry_after": {"type": "integer", "minimum": 0},
                },
            },
        }
    },
}
