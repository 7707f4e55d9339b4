"""Cross-cutting protection that every response passes through."""

from __future__ import annotations

import logging
import re
from collections.abc import Callable
from datetime import datetime
from functools import lru_cache

import csp.constants
import csp.middleware
import csp.utils
from django.conf import settings
from django.http import HttpRequest, HttpResponse, HttpResponseBase, JsonResponse
from django.template.loader import render_to_string
from django.utils import translation
from django.utils.translation import gettext as _

from security.client_ip import client_ip, rate_limit_key
from security.health import HEALTHZ_PATH
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


# django-csp's response attributes by which a view brings a policy of its own (the payment page).
_OWN_POLICY = frozenset(
    {
        "_csp_config",
        "_csp_update",
        "_csp_replace",
        "_csp_config_ro",
        "_csp_update_ro",
        "_csp_replace_ro",
    }
)
# The headers built from the settings last time: (policy, report-only policy, header, header).
_built_policy: tuple[object, object, str, str] | None = None


class CSPMiddleware(csp.middleware.CSPMiddleware):
    """django-csp's, building the header from the settings once instead of on every response:
    our policy uses no nonces, so it is the same for every response that does not bring its own
    (those still go through django-csp as before). The rules are django-csp 4's: nothing on a
    404/500 under DEBUG, none over a header already set, an exempt response or an excluded
    prefix; `request.csp_nonce` read after the header is written raises."""

    def process_response(
        self, request: HttpRequest, response: HttpResponseBase
    ) -> HttpResponseBase:
        if _OWN_POLICY.intersection(vars(response)) or getattr(request, "_csp_nonce", None):
            return super().process_response(request, response)
        if response.status_code in (500, 404) and settings.DEBUG:
            return response
        policy = getattr(settings, "CONTENT_SECURITY_POLICY", None)
        policy_ro = getattr(settings, "CONTENT_SECURITY_POLICY_REPORT_ONLY", None)
        header, header_ro = _policy_headers(policy, policy_ro)
        for name, value, exempt, conf in (
            (csp.constants.HEADER, header, "_csp_exempt", policy),
            (csp.constants.HEADER_REPORT_ONLY, header_ro, "_csp_exempt_ro", policy_ro),
        ):
            prefixes = tuple((conf or {}).get("EXCLUDE_URL_PREFIXES", None) or ())
            if (
                value
                and name not in response
                and getattr(response, exempt, False) is False
                and not request.path_info.startswith(prefixes)
            ):
                response[name] = value
        request.csp_nonce = csp.middleware.CheckableLazyObject(  # type: ignore[attr-defined]
            self._csp_nonce_post_response
        )
        return response


def _policy_headers(policy: object, policy_ro: object) -> tuple[str, str]:
    global _built_policy
    built = _built_policy
    if built is None or built[0] is not policy or built[1] is not policy_ro:
        built = _built_policy = (
            policy,
            policy_ro,
            csp.utils.build_policy(),
            csp.utils.build_policy(report_only=True),
        )
    return built[2], built[3]


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


_SCOPE = "_security_rate_limit_scope"


def rate_limit_scope(request: HttpRequest) -> str | None:
    """The scope of the first RATE_LIMIT_RULES rule that counts this request, if any (asked by
    the intrusion detection and the rate limiter: worked out once per request)."""
    if not settings.RATE_LIMIT_ENABLED:
        return None
    if _SCOPE not in request.__dict__:
        request.__dict__[_SCOPE] = _scope_of(
            request.method, request.path_info, tuple(settings.RATE_LIMIT_RULES)
        )
    scope: str | None = request.__dict__[_SCOPE]
    return scope


def _scope_of(method: str | None, path: str, rules: tuple[tuple[str, str, str], ...]) -> str | None:
    for pattern, methods, scope in _compiled(rules):
        if ("*" in methods or method in methods) and pattern.match(path):
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
        lease=True,
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


class HealthCheckMiddleware:
    """Answers GET and HEAD on /healthz (security.views.healthz) right after the security layer
    (headers, CSP, intrusion detection, rate limits), before the session, language,
    authentication, messages and workspace middleware: the check uses none of them, and uptime
    monitors poll it often, so it costs what its component checks cost. The host is validated
    against ALLOWED_HOSTS as CommonMiddleware would (a 400 otherwise); other methods go on to
    the URL, which refuses them (405)."""

    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        if request.path_info == HEALTHZ_PATH and request.method in ("GET", "HEAD"):
            from security.views import healthz  # views import models: not at start-up

            request.get_host()  # DisallowedHost: Django's 400, as for every other path
            return healthz(request)
        return self.get_response(request)
