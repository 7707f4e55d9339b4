"""System checks for dangerous settings, so `manage.py check --deploy` tells the operator.

Ids: security.E001 CSP missing, E002 CSP weakened, E003 CORS too wide, E004 HSTS too short,
E005 lockout limit not 3, E006 rate limits misconfigured or off, E007 cookies not hardened,
E008 bcrypt is not the first password hasher, E009 MFA enforcement is not installed, E010 the
field encryption keys of customer data are missing, malformed or the public development ones.
"""

from __future__ import annotations

from typing import Any

from django.conf import settings
from django.contrib.auth.hashers import BCryptSHA256PasswordHasher
from django.core.checks import Error, Tags, register
from django.utils.module_loading import import_string

from security import fieldcrypto
from security.ratelimit import Rate

ONE_YEAR = 31_536_000
# Directives that decide which code runs or which styles apply, and the sources that open them
# to injected content: inline/eval keywords, wildcards and whole schemes.
_CODE_DIRECTIVES = (
    "default-src",
    "script-src",
    "script-src-elem",
    "script-src-attr",
    "style-src",
    "style-src-elem",
    "style-src-attr",
)
_UNSAFE_SOURCES = {"'unsafe-inline'", "'unsafe-eval'", "'unsafe-hashes'", "'wasm-unsafe-eval'", "*"}
_SCHEME_SOURCES = {"http:", "https:", "data:", "blob:", "filesystem:", "ws:", "wss:"}


# Ours (django-csp's, building the header once) or django-csp's own.
CSP_MIDDLEWARE = ("security.middleware.CSPMiddleware", "csp.middleware.CSPMiddleware")


def _csp_directives() -> dict[str, Any]:
    policy: dict[str, Any] = getattr(settings, "CONTENT_SECURITY_POLICY", None) or {}
    directives: dict[str, Any] = policy.get("DIRECTIVES", {})
    return directives


@register(Tags.security)
def check_csp(app_configs: object = None, **kwargs: object) -> list[Error]:
    errors: list[Error] = []
    directives = _csp_directives()
    if not set(CSP_MIDDLEWARE).intersection(settings.MIDDLEWARE) or not directives:
        return [
            Error(
                "Content-Security-Policy is not enabled.",
                hint="Add security.middleware.CSPMiddleware and CONTENT_SECURITY_POLICY.",
                id="security.E001",
            )
        ]
    for name in _CODE_DIRECTIVES:
        values = directives.get(name, [])
        unsafe = [
            v for v in values if v in _UNSAFE_SOURCES or v.rstrip(":") + ":" in _SCHEME_SOURCES
        ]
        if unsafe:
            errors.append(Error(f"CSP {name} allows unsafe sources: {unsafe}.", id="security.E002"))
    for name, required in (("object-src", "'none'"), ("frame-ancestors", "'none'")):
        if directives.get(name) != [required]:
            errors.append(Error(f"CSP {name} must be {required}.", id="security.E002"))
    if (
        not directives.get("base-uri")
        or not directives.get("form-action")
        or not directives.get("report-uri")
    ):
        errors.append(Error("CSP needs base-uri, form-action and report-uri.", id="security.E002"))
    return errors


@register(Tags.security)
def check_cors(app_configs: object = None, **kwargs: object) -> list[Error]:
    errors: list[Error] = []
    if getattr(settings, "CORS_ALLOW_ALL_ORIGINS", False) or "*" in getattr(
        settings, "CORS_ALLOWED_ORIGINS", []
    ):
        errors.append(
            Error(
                "CORS allows every origin.",
                hint="Partners register their origins; keep CORS_ALLOW_ALL_ORIGINS off.",
                id="security.E003",
            )
        )
    if getattr(settings, "CORS_ALLOW_CREDENTIALS", False):
        errors.append(Error("CORS allows credentials.", id="security.E003"))
    if getattr(settings, "CORS_URLS_REGEX", r"^.*$") in (r"^.*$", ".*", ""):
        errors.append(
            Error(
                "CORS applies to every URL; restrict CORS_URLS_REGEX to the widget API.",
                id="security.E003",
            )
        )
    return errors


@register(Tags.security, deploy=True)
def check_hsts(app_configs: object = None, **kwargs: object) -> list[Error]:
    if settings.SECURE_HSTS_SECONDS < ONE_YEAR or not settings.SECURE_HSTS_INCLUDE_SUBDOMAINS:
        return [
            Error("HSTS must last at least one year and include subdomains.", id="security.E004")
        ]
    return []


@register(Tags.security)
def check_lockout_limit(app_configs: object = None, **kwargs: object) -> list[Error]:
    limit = getattr(settings, "AXES_FAILURE_LIMIT", None)
    if limit is not None and limit != 3:
        return [
            Error(
                f"The login lockout must trigger after 3 failures, not {limit}.", id="security.E005"
            )
        ]
    return []


@register(Tags.security)
def check_rate_limits(app_configs: object = None, **kwargs: object) -> list[Error]:
    errors: list[Error] = []
    limits = getattr(settings, "RATE_LIMITS", {})
    for scope, conf in limits.items():
        try:
            Rate.parse(conf["rate"])
        except (KeyError, TypeError, ValueError) as exc:
            errors.append(Error(f"RATE_LIMITS[{scope!r}] is invalid: {exc}", id="security.E006"))
    for _pattern, _methods, scope in getattr(settings, "RATE_LIMIT_RULES", []):
        if scope not in limits:
            errors.append(
                Error(f"Rate limit rule uses unknown scope {scope!r}.", id="security.E006")
            )
    return errors


@register(Tags.security, deploy=True)
def check_deploy_hardening(app_configs: object = None, **kwargs: object) -> list[Error]:
    errors: list[Error] = []
    if not getattr(settings, "RATE_LIMIT_ENABLED", False):
        errors.append(Error("Rate limits are switched off.", id="security.E006"))
    for name in ("SESSION_COOKIE_NAME", "CSRF_COOKIE_NAME"):
        if not getattr(settings, name).startswith("__Host-"):
            errors.append(
                Error(f"{name} should use the __Host- prefix in production.", id="security.E007")
            )
    if not settings.SESSION_COOKIE_HTTPONLY or settings.SESSION_COOKIE_SAMESITE not in (
        "Lax",
        "Strict",
    ):
        errors.append(Error("Session cookies must be HttpOnly and SameSite.", id="security.E007"))
    return errors


@register(Tags.security, deploy=True)
def check_password_hasher(app_configs: object = None, **kwargs: object) -> list[Error]:
    # Deploy only: the test settings put a fast hasher first on purpose.
    hashers = list(getattr(settings, "PASSWORD_HASHERS", []))
    try:
        first = import_string(hashers[0]) if hashers else None
    except ImportError:
        first = None
    if first is None or not issubclass(first, BCryptSHA256PasswordHasher):
        return [
            Error(
                "New passwords must be hashed with bcrypt-sha256.",
                hint="Put security.hashers.BCryptSHA256Hasher first in PASSWORD_HASHERS (the others only verify old hashes).",
                id="security.E008",
            )
        ]
    return []


@register(Tags.security)
def check_mfa_enforced(app_configs: object = None, **kwargs: object) -> list[Error]:
    from django.contrib import admin

    from security.admin_site import MFAAdminSite

    errors: list[Error] = []
    middleware = list(settings.MIDDLEWARE)
    needed = [
        "django.contrib.auth.middleware.AuthenticationMiddleware",
        "django_otp.middleware.OTPMiddleware",
        "security.mfa.MFARequiredMiddleware",
    ]
    positions = [middleware.index(name) if name in middleware else -1 for name in needed]
    if -1 in positions or positions != sorted(positions):
        errors.append(
            Error(
                "MFA is not enforced: the middleware is missing or out of order.",
                hint=f"MIDDLEWARE needs, in this order: {', '.join(needed)}.",
                id="security.E009",
            )
        )
    if not isinstance(admin.site, MFAAdminSite):
        errors.append(
            Error(
                "The admin site does not require MFA.",
                hint='Install the admin as "security.admin_apps.MFAAdminConfig" in INSTALLED_APPS.',
                id="security.E009",
            )
        )
    return errors


@register(Tags.security)
def check_field_encryption_keys(app_configs: object = None, **kwargs: object) -> list[Error]:
    # Not deploy-only: a server that cannot read or write customer data must not start quietly.
    return [_key_error(problem) for problem in fieldcrypto.key_problems()]


@register(Tags.security, deploy=True)
def check_field_encryption_keys_are_real(
    app_configs: object = None, **kwargs: object
) -> list[Error]:
    # Deploy only: DEBUG and the tests run with the public development keys on purpose.
    if (
        settings.DEVELOPMENT_FIELD_ENCRYPTION_KEY in settings.FIELD_ENCRYPTION_KEYS
        or settings.FIELD_BLIND_INDEX_KEY == settings.DEVELOPMENT_FIELD_BLIND_INDEX_KEY
    ):
        return [_key_error("The public development field encryption keys are configured.")]
    return []


def _key_error(problem: str) -> Error:
    return Error(
        problem,
        hint="Set FIELD_ENCRYPTION_KEYS and FIELD_BLIND_INDEX_KEY (or *_FILE); see .env.example.",
        id="security.E010",
    )
