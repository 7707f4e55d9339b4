"""Production. Refuses to start on an unsafe configuration."""

from __future__ import annotations

from django.core.exceptions import ImproperlyConfigured

from settings.base import *  # noqa: F403
from settings.base import (
    ALLOWED_HOSTS,
    DEBUG,
    DEVELOPMENT_FIELD_BLIND_INDEX_KEY,
    DEVELOPMENT_FIELD_ENCRYPTION_KEY,
    FIELD_BLIND_INDEX_KEY,
    FIELD_ENCRYPTION_KEYS,
    SECRET_KEY,
    TRUSTED_PROXIES,
    TRUSTED_PROXY_COUNT,
)
from settings.env import env_bool, env_int, env_list, env_str

if DEBUG:
    raise ImproperlyConfigured("DEBUG must be off in production (DEBUG=false).")
if SECRET_KEY.startswith("django-insecure") or len(SECRET_KEY) < 50 or len(set(SECRET_KEY)) < 5:
    raise ImproperlyConfigured(
        "SECRET_KEY must be a real secret of at least 50 characters "
        "(python -c 'import secrets; print(secrets.token_urlsafe(64))')."
    )
# A dedicated manage-link key, when given, must be a real secret (unset: derived from SECRET_KEY).
_link_key = env_str("MANAGE_LINK_KEY", "")
if _link_key and (len(_link_key) < 32 or len(set(_link_key)) < 5):
    raise ImproperlyConfigured(
        "MANAGE_LINK_KEY must be a real secret of at least 32 characters "
        "(python -c 'import secrets; print(secrets.token_urlsafe(48))')."
    )
# Read again without base.py's development default: production must name its hosts itself.
if not env_list("ALLOWED_HOSTS") or "*" in ALLOWED_HOSTS:
    raise ImproperlyConfigured("ALLOWED_HOSTS must list the site's host names (no '*').")

# Customer data is encrypted at rest (C26): without real keys nothing could be stored or read.
if not env_list("FIELD_ENCRYPTION_KEYS") or not env_str("FIELD_BLIND_INDEX_KEY", ""):
    raise ImproperlyConfigured(
        "FIELD_ENCRYPTION_KEYS and FIELD_BLIND_INDEX_KEY are required in production (customer "
        "data is encrypted at rest); see .env.example."
    )
if (
    DEVELOPMENT_FIELD_ENCRYPTION_KEY in FIELD_ENCRYPTION_KEYS
    or FIELD_BLIND_INDEX_KEY == DEVELOPMENT_FIELD_BLIND_INDEX_KEY
):
    raise ImproperlyConfigured("The public development field encryption keys must not be deployed.")

# HTTPS everywhere (C04).
SECURE_SSL_REDIRECT = env_bool("SECURE_SSL_REDIRECT", True)
SECURE_HSTS_SECONDS = env_int("SECURE_HSTS_SECONDS", 31_536_000, minimum=31_536_000)
SECURE_HSTS_INCLUDE_SUBDOMAINS = True
# On by default so `check --deploy` reports nothing (security.W021): HSTS already covers every
# subdomain for a year, which is the commitment preloading asks for. Submitting the domain to the
# preload list remains a separate, deliberate step; SECURE_HSTS_PRELOAD=false opts out.
SECURE_HSTS_PRELOAD = env_bool("SECURE_HSTS_PRELOAD", True)
SESSION_COOKIE_SECURE = True
CSRF_COOKIE_SECURE = True
LANGUAGE_COOKIE_SECURE = True
# The proxy in front of gunicorn sets this header. Believed only when a proxy is configured:
# otherwise a client talking to gunicorn directly could claim https and skip the redirect.
_proxy_header = env_str(
    "SECURE_PROXY_SSL_HEADER",
    "HTTP_X_FORWARDED_PROTO" if (TRUSTED_PROXIES or TRUSTED_PROXY_COUNT) else "",
)
SECURE_PROXY_SSL_HEADER = (_proxy_header, "https") if _proxy_header else None

# Cookies only over HTTPS, bound to this exact host (C04).
SESSION_COOKIE_NAME = "__Host-sessionid"
CSRF_COOKIE_NAME = "__Host-csrftoken"
