"""Cross-cutting protection that every response passes through."""

from __future__ import annotations

import logging
import re
from collections.abc import Callable
from datetime import datetime
from functools import lru_cache

from django.conf import settings
from django.http import HttpRequest, HttpResponse, JsonResponse
from django.template.loader import render_to_string
from django.utils import translation
from django.utils.translation import gettext as _

from security.client_ip import client_ip, rate_limit_key
from security.ratelimit import Decision, Rate, hit

logger = logging.getLogger(__name__)


class SecurityHeadersMiddleware:
    """Headers Django does not set itself (C07). Placed before WhiteNoise so that static files
    get them too."""

    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        response = self.get_response(request)
        response.headers.setdefault("Permissions-Policy", settings.PERMISSIONS_POLICY)
        # Only static files (the widget script and its CSS) are meant to be loaded by other sites.
        static = request.path.startswith(
            settings.STATIC_URL
            if settings.STATIC_URL.startswith("/")
            else "/" + settings.STATIC_URL
        )
        response.headers.setdefault(
            "Cross-Origin-Resource-Policy", "cross-origin" if static else "same-origin"
        )
        return response


@lru_cache(maxsize=4)
def _compiled(
    rules: tuple[tuple[str, str, str], ...],
) -> tuple[tuple[re.Pattern[str], frozenset[str], str], ...]:
    return tuple(
        (re.compile(pattern), frozenset(methods.split(",")), scope)
        for pattern, methods, scope in rules
    )


def wants_json(request: HttpRequest) -> bool:
    """API clients get JSON answers (429, 401) instead of pages."""
    return request.path.startswith("/api/") or "application/json" in request.headers.get(
        "Accept", ""
    )


def too_many_requests(
    request: HttpRequest,
    retry_after: int,
    *,
    error: str = "rate_limited",
    message: str = "",
    retry_at: datetime | None = None,
) -> HttpResponse:
    """The 429 answer for rate limits and the login lockout: HTML, or JSON for API clients.
    In the visitor's language: the rate limits answer before LocaleMiddleware has run."""
    with translation.override(translation.get_language_from_request(request)):
        return _too_many_requests(request, retry_after, error, message, retry_at)


def _too_many_requests(
    request: HttpRequest, retry_after: int, error: str, message: str, retry_at: datetime | None
) -> HttpResponse:
    message = message or _(
        "Too many requests from your address. Please wait a moment and try again."
    )
    if wants_json(request):
        payload: dict[str, object] = {
            "error": error,
            "message": message,
            "retry_after": retry_after,
        }
        if retry_at is not None:
            payload["retry_at"] = retry_at.isoformat()
        response: HttpResponse = JsonResponse(payload, status=429)
    else:
        context = {"retry_after": retry_after, "message": message, "retry_at": retry_at}
        body = render_to_string("429.html", context, request=request)
        response = HttpResponse(body, status=429)
    response["Retry-After"] = str(retry_after)
    return response


# Where the intrusion detection (which runs first) leaves the decision it counted for the rate
# limiter together with its own block check (one round trip), so the request counts once.
_COUNTED = "_security_rate_limit_counted"


def rate_limit_scope(request: HttpRequest) -> str | None:
    """The scope of the first RATE_LIMIT_RULES rule that counts this request, if any."""
    if not settings.RATE_LIMIT_ENABLED:
        return None
    for pattern, methods, scope in _compiled(tuple(settings.RATE_LIMIT_RULES)):
        if ("*" in methods or request.method in methods) and pattern.match(request.path_info):
            return scope
    return None


def rate_limit_count(
    request: HttpRequest, scope: str, *, now: float | None = None, also_read: str | None = None
) -> Decision:
    """Count the request in `scope` (see security.ratelimit.hit for also_read); the rate-limit
    middleware later answers from this decision instead of counting again."""
    conf = settings.RATE_LIMITS[scope]
    decision = hit(
        scope=scope,
        key=rate_limit_key(client_ip(request)),
        rate=Rate.parse(conf["rate"]),
        fail_open=conf["fail_open"],
        now=now,
        also_read=also_read,
    )
    setattr(request, _COUNTED, (scope, decision))
    return decision


class RateLimitMiddleware:
    """Applies settings.RATE_LIMIT_RULES: (path regex, methods or "*", scope); the first match
    counts.
    Limits and fail-open/closed per scope are in settings.RATE_LIMITS."""

    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        scope = rate_limit_scope(request)
        if scope is not None:
            counted = getattr(request, _COUNTED, None)
            if counted is not None and counted[0] == scope:
                decision = counted[1]
            else:
                decision = rate_limit_count(request, scope)
            if not decision.allowed:
                logger.warning(
                    "rate limited",
                    extra={
                        "scope": scope,
                        "client_ip": client_ip(request),
                        "path": request.path_info,
                    },
                )
                return too_many_requests(request, decision.retry_after)
        return self.get_response(request)
