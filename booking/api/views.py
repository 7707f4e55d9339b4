"""The public JSON API behind the embeddable booking widget (no login, no cookies).

Every answer is JSON, errors included: {"error": <code>, "message": <text for people>} plus
"fields" for per-field problems. Which origins may read the answers cross-origin is decided in
booking.cors; the rate limits are in settings.RATE_LIMIT_RULES.
"""

from __future__ import annotations

import json
import logging
from collections.abc import Callable
from datetime import datetime
from functools import wraps
from typing import Any, cast

from django.core.exceptions import ValidationError
from django.http import HttpRequest, HttpResponse, JsonResponse
from django.urls import reverse
from django.utils import timezone
from django.utils.translation import gettext as _
from django.views.decorators.cache import cache_control, never_cache
from django.views.decorators.csrf import csrf_exempt
from django.views.i18n import JSONCatalog

from booking import errors, selectors, services
from booking.api.forms import BookingForm, SlotsQueryForm, slots_work_refusal
from booking.api.openapi import OPENAPI
from booking.i18n import active_language
from booking.models import Partner, Service, StaffChoice, StaffMember
from security.actors import Actor, Via
from security.inputs import content_length

logger = logging.getLogger(__name__)

MAX_BODY_BYTES = 16 * 1024

View = Callable[..., HttpResponse]


def error(status: int, code: str, message: str, **extra: Any) -> JsonResponse:
    return JsonResponse({"error": code, "message": message, **extra}, status=status)


def _field_errors(errors: dict[str, list[str]]) -> JsonResponse:
    return error(400, "invalid", "Some fields are not valid; see `fields`.", fields=errors)


def _form_errors(form: Any) -> dict[str, list[str]]:
    return {field: list(messages) for field, messages in form.errors.items()}


def _not_found(what: str) -> JsonResponse:
    return error(404, "not_found", f"No such {what}.")


def api_view(*methods: str) -> Callable[[View], View]:
    """JSON 405 for other methods (HEAD is served wherever GET is, as HTTP says); unexpected
    exceptions become a JSON 500 (logged with their traceback) so a widget never has to parse an
    HTML error page."""
    allowed = (*methods, "HEAD") if "GET" in methods and "HEAD" not in methods else methods

    def decorator(view: View) -> View:
        # No CSRF check before the method check: otherwise a POST to a GET endpoint got the HTML
        # "Form expired" 403. Safe: no API view reads a cookie or session (see booking_create).
        @csrf_exempt
        @wraps(view)
        def wrapper(request: HttpRequest, *args: Any, **kwargs: Any) -> HttpResponse:
            if request.method not in allowed:
                response = error(405, "method_not_allowed", f"Use {' or '.join(methods)} here.")
                response["Allow"] = ", ".join(allowed)
                return response
            try:
                return view(request, *args, **kwargs)
            except Exception:
                logger.exception("widget api error", extra={"path": request.path_info})
                return error(
                    500,
                    "internal_error",
                    "Something went wrong on our side. Please try again later.",
                )

        return wrapper

    return decorator


def _partner_and_service(slug: str, service_slug: str) -> tuple[Partner | None, Service | None]:
    partner = selectors.partner_get(slug=slug)
    if partner is None:
        return None, None
    return partner, selectors.service_get_active(partner=partner, slug=service_slug)


def _iso(moment: datetime, zone: Any) -> str:
    return moment.astimezone(zone).isoformat()


# --- GET partners/<slug>/messages -------------------------------------------------------------

# The widget's texts: Django's JavaScript catalogue ("djangojs" domain, locale/ in LOCALE_PATHS).
_WIDGET_CATALOG = JSONCatalog.as_view(domain="djangojs", packages=["booking"])


@cache_control(public=True, max_age=3600)
@api_view("GET")
def widget_messages(request: HttpRequest, slug: str) -> HttpResponse:
    """Under the partner's path so that booking.cors allows exactly that partner's origins, as
    for the rest of the widget's API. The language is the request's (Accept-Language)."""
    if selectors.partner_get(slug=slug) is None:
        return _not_found("partner")
    # JSONCatalog answers a plain HttpResponse (its declared type is the base class).
    answer = cast(HttpResponse, _WIDGET_CATALOG(request))
    catalog = json.loads(answer.content)["catalog"]
    # Plural entries come as lists; the widget uses none.
    messages = {key: text for key, text in catalog.items() if isinstance(text, str)}
    return JsonResponse({"language": active_language(), "messages": messages})


# --- GET partners/<slug>/services/ ------------------------------------------------------------


@never_cache
@api_view("GET")
def service_list(request: HttpRequest, slug: str) -> HttpResponse:
    partner = selectors.partner_get(slug=slug)
    if partner is None:
        return _not_found("partner")
    return JsonResponse(
        {
            "partner": {"slug": partner.slug, "name": partner.name, "time_zone": partner.time_zone},
            "services": [
                {
                    "slug": service.slug,
                    # In the request's language where the partner gave one (Accept-Language).
                    "name": service.local_name,
                    "description": service.local_description,
                    "duration_minutes": service.duration_minutes,
                    "price": None if service.price is None else str(service.price),
                    "currency": service.currency or None,
                    "staff_choice": service.staff_choice,
                }
                for service in selectors.service_list_active(partner=partner)
            ],
        }
    )


def _staff_json(staff: StaffMember) -> dict[str, Any]:
    return {"id": staff.pk, "name": staff.name}


# --- GET partners/<slug>/services/<service>/staff ---------------------------------------------


@never_cache
@api_view("GET")
def service_staff(request: HttpRequest, slug: str, service_slug: str) -> HttpResponse:
    """Whom a customer may book the service with, in display order, and whether "anyone" is
    allowed (staff_choice "any") or a person must be chosen ("choose")."""
    partner, service = _partner_and_service(slug, service_slug)
    if partner is None:
        return _not_found("partner")
    if service is None:
        return _not_found("service")
    return JsonResponse(
        {
            "service": service.slug,
            "staff_choice": service.staff_choice,
            "staff": [_staff_json(m) for m in selectors.staff_for_service(service=service)],
        }
    )


def _chosen_staff(
    partner: Partner, service: Service, staff_id: int | None
) -> StaffMember | None | JsonResponse:
    """The staff member a request names, or None for anyone. An id unknown to this partner (another
    business's included: it does not exist here) is a 404; one of this partner's people who cannot
    take the service, or "anyone" where the customer must choose, a 400."""
    if staff_id is None:
        if service.staff_choice == StaffChoice.CUSTOMER_CHOOSES:
            return _refusal(
                services.StaffNotOffered(_("Please choose the person you want to book with."))
            )
        return None
    staff = selectors.staff_of_partner(partner=partner, staff_id=staff_id)
    if staff is None:
        return _not_found("staff member")
    if not selectors.staff_performs(service=service, staff=staff):
        return _refusal(services.StaffNotOffered())
    return staff


# --- GET partners/<slug>/services/<service>/slots ---------------------------------------------


@never_cache
@api_view("GET")
def service_slots(request: HttpRequest, slug: str, service_slug: str) -> HttpResponse:
    """1. Find the partner's active service (404 otherwise).
    2. Ask the selector for the free starts of the customer's local dates start..end in tz.
    Every date from start to end is listed, in order; a day without slots has an empty list."""
    partner, service = _partner_and_service(slug, service_slug)
    if partner is None:
        return _not_found("partner")
    if service is None:
        return _not_found("service")
    form = SlotsQueryForm(request.GET, default_time_zone=partner.time_zone)
    if not form.is_valid():
        return _field_errors(_form_errors(form))
    data = form.cleaned_data
    zone = data["zone"]
    staff = _chosen_staff(partner, service, data["staff"])
    if isinstance(staff, JsonResponse):
        return staff
    people = 1 if staff is not None else selectors.staff_for_service(service=service).count()
    too_much = slots_work_refusal(days=(data["end"] - data["start"]).days + 1, people=people)
    if too_much is not None:
        return _field_errors({"end": [too_much]})
    days = selectors.free_starts_by_local_day(
        service=service,
        zone=zone,
        first=data["start"],
        last=data["end"],
        now=timezone.now(),
        staff=staff,
        slots_version=partner.slots_version,  # loaded first in this request
    )
    return JsonResponse(
        {
            "time_zone": data["tz"],
            "days": [
                {"date": day.isoformat(), "slots": [_iso(s, zone) for s in starts]}
                for day, starts in days.items()
            ],
        }
    )


# --- POST partners/<slug>/bookings -------------------------------------------------------------


def _read_json_object(request: HttpRequest) -> dict[str, Any] | JsonResponse:
    """The body as a JSON object, or the error response that explains why not."""
    length = content_length(request.META.get("CONTENT_LENGTH"))
    if length is None:
        return error(400, "bad_request", "Invalid Content-Length.")
    if length > MAX_BODY_BYTES:
        return error(413, "too_large", f"The body must not exceed {MAX_BODY_BYTES} bytes.")
    if request.content_type != "application/json":
        return error(415, "unsupported_media_type", "Send the booking as application/json.")
    charset = (request.content_params or {}).get("charset", "utf-8").lower()
    if charset not in ("utf-8", "utf8"):
        return error(415, "unsupported_media_type", "Send the booking as UTF-8 encoded JSON.")
    # Read one byte more than allowed: a body longer than its Content-Length claims is refused too.
    raw = request.read(MAX_BODY_BYTES + 1)
    if len(raw) > MAX_BODY_BYTES:
        return error(413, "too_large", f"The body must not exceed {MAX_BODY_BYTES} bytes.")
    try:
        body = json.loads(raw.decode("utf-8"))
    except (UnicodeDecodeError, ValueError, RecursionError):
        return error(400, "malformed_json", "The body is not valid JSON.")
    if not isinstance(body, dict):
        return error(400, "not_an_object", "The body must be a JSON object.")
    return body


def _shape_errors(body: dict[str, Any]) -> dict[str, list[str]]:
    """Errors a Form cannot see: unknown keys, values that are not strings, and strings that are
    not text (lone surrogates, which JSON allows and no database stores)."""
    errors: dict[str, list[str]] = {}
    for key, value in body.items():
        if key not in BookingForm.base_fields:
            errors[key[:100]] = ["Unknown field."]
        elif not isinstance(value, str):
            errors[key] = ["Must be a string."]
        else:
            try:
                value.encode("utf-8")
            except UnicodeEncodeError:
                errors[key] = ["Contains characters that are not valid text."]
    return errors


def _refusal(exc: services.BookingError | ValidationError) -> JsonResponse:
    if isinstance(exc, ValidationError):
        return _field_errors(errors.field_messages(exc))
    return error(errors.answer(exc).status, errors.answer(exc).code, str(exc))


# No CSRF check (api_view exempts every API view), and that is safe here: this view
# authenticates nobody (no session, no cookie, no header credential is read; CORS is configured
# without credentials), so a forged cross-site request can do nothing the attacker could not do
# directly on the public booking page: create a booking under the name and email it sends. Abuse
# is bounded by the rate limit ("booking" scope) and the body limit below.
@never_cache  # the answer carries the private manage link
@api_view("POST")
def booking_create(request: HttpRequest, slug: str) -> HttpResponse:
    """1. Find the partner (404), read at most 16 KiB of JSON object (413/415/400).
    2. Check the shape (strings only, known keys) and the fields with BookingForm (400).
    3. Find the partner's active service by slug (404: another partner's service is unknown here)
       and the staff member if one is named (404 likewise; 400 staff_not_offered when they do
       not perform it, or when "anyone" is not allowed).
    4. Book through booking.services.booking_create_for_customer: not a slot -> 400, just taken
       -> 409. A paid service gets a hold (status pending_payment) and the payment link; without
       a payment provider, 503."""
    partner = selectors.partner_get(slug=slug)
    if partner is None:
        return _not_found("partner")
    body = _read_json_object(request)
    if isinstance(body, JsonResponse):
        return body
    shape = _shape_errors(body)
    if shape:
        return _field_errors(shape)
    form = BookingForm(body)
    if not form.is_valid():
        return _field_errors(_form_errors(form))
    data = form.cleaned_data
    service = selectors.service_get_active(partner=partner, slug=data["service"])
    if service is None:
        return _not_found("service")
    staff = _chosen_staff(partner, service, data["staff"])
    if isinstance(staff, JsonResponse):
        return staff
    try:
        booking, token = services.booking_create_for_customer(
            service=service,
            start=data["start"],
            customer=form.customer(language=active_language()),
            actor=Actor.from_request(request, via=Via.WIDGET_API),
            staff=staff,
        )
    except (services.BookingError, ValidationError) as exc:
        return _refusal(exc)
    offset = data["start"].tzinfo  # answer in the offset the customer used
    answer: dict[str, Any] = {
        "booking": {
            "service": service.slug,
            "start": _iso(booking.start, offset),
            "end": _iso(booking.end, offset),
            "status": booking.status,
            "staff": _staff_json(booking.staff),
            "resource": None
            if booking.resource is None
            else {"id": booking.resource.pk, "name": booking.resource.name},
        },
        # The customer pages own /manage/<token>/; the confirmation email carries it too.
        "manage_url": request.build_absolute_uri(reverse("booking:manage", args=[token])),
    }
    if booking.is_hold:
        if booking.hold_expires_at is None:
            # The database refuses a hold without one (constraint booking_hold_has_expiry).
            raise ValueError(f"Hold {booking.pk} has no expiry.")
        # Linked by URL name: booking does not import payments (ARCHITECTURE).
        answer["booking"]["hold_expires_at"] = _iso(booking.hold_expires_at, offset)
        answer["payment_url"] = request.build_absolute_uri(reverse("payments:pay", args=[token]))
    return JsonResponse(answer, status=201)


# --- GET openapi.json, and JSON 404s for everything else under the API -------------------------


@cache_control(max_age=3600, public=True)
@api_view("GET")
def openapi(request: HttpRequest) -> HttpResponse:
    return JsonResponse(OPENAPI)


# The JSON 404 for every method: before it, a POST met the HTML CSRF failure page. Safe without
# the CSRF check: the view reads no cookie, session or body and changes nothing.
@csrf_exempt
def not_found(request: HttpRequest, *args: Any, **kwargs: Any) -> HttpResponse:
    """Any other path under /api/v1/, whatever the method: JSON, not the HTML 404 page."""
    return error(404, "not_found", "No such API endpoint. See /api/v1/openapi.json.")
