"""The widget API's CORS rule (C05): a cross-origin request to /api/v1/partners/<slug>/... is
allowed only when its Origin is one that partner registered. django-cors-headers asks us through
its `check_request_enabled` signal; CORS_URLS_REGEX already keeps every other path out.

Origins are cached per partner for a minute and dropped from the cache when the partner is saved.
"""

from __future__ import annotations

import logging
import re
from typing import Any

import corsheaders.middleware
from corsheaders.signals import check_request_enabled
from django.core.cache import cache
from django.core.exceptions import ValidationError
from django.db.models.signals import post_delete, post_save, pre_save
from django.dispatch import receiver
from django.http import HttpRequest, HttpResponseBase
from django.utils.cache import patch_vary_headers

from booking.models import Partner, parse_origins

logger = logging.getLogger(__name__)

_PARTNER_PATH = re.compile(r"^/api/v1/partners/(?P<slug>[-a-zA-Z0-9_]{1,60})/")
_TTL = 60


def _cache_key(slug: str) -> str:
    return f"cors:origins:{slug}"


def _origins_from_db(slug: str) -> list[str]:
    text = Partner.objects.filter(slug=slug).values_list("widget_origins", flat=True).first() or ""
    try:
        return sorted(parse_origins(text))
    except ValidationError:  # a row saved around validation must not open CORS: treat as none
        return []


def partner_origins(slug: str) -> frozenset[str]:
    key = _cache_key(slug)
    try:
        cached = cache.get(key)
    except Exception:  # cache outage: the database still answers, the widget keeps working
        logger.warning("cors origin cache unavailable", exc_info=True)
        return frozenset(_origins_from_db(slug))
    if cached is None:
        cached = _origins_from_db(slug)
        try:
            cache.set(key, cached, _TTL)
        except Exception:
            logger.warning("cors origin cache unavailable", exc_info=True)
    return frozenset(cached)


@receiver(check_request_enabled)
def allow_registered_origin(sender: Any, request: HttpRequest, **kwargs: Any) -> bool:
    # Asked on every request: the path first, and the raw header (request.headers would build
    # the whole header mapping).
    match = _PARTNER_PATH.match(request.path_info)
    if match is None:
        return False
    origin = request.META.get("HTTP_ORIGIN", "").lower()
    return bool(origin and origin in partner_origins(match["slug"]))


def _forget(*slugs: str) -> None:
    try:
        cache.delete_many([_cache_key(slug) for slug in slugs if slug])
    except Exception:  # the entry expires within _TTL anyway
        logger.warning("cors origin cache unavailable", exc_info=True)


# Cache invalidation is the one job done in signals: every way a partner is saved, renamed or
# deleted through the ORM must drop its entry. (A queryset update() bypasses signals; the entry
# then lives at most _TTL seconds.)
@receiver(pre_save, sender=Partner)
def _forget_old_slug(sender: type[Partner], instance: Partner, **kwargs: Any) -> None:
    if instance.pk:
        old = Partner.objects.filter(pk=instance.pk).values_list("slug", flat=True).first()
        if old and old != instance.slug:
            _forget(old)


@receiver(post_save, sender=Partner)
@receiver(post_delete, sender=Partner)
def _forget_origins(sender: type[Partner], instance: Partner, **kwargs: Any) -> None:
    _forget(instance.slug)


class CorsMiddleware(corsheaders.middleware.CorsMiddleware):
    """django-cors-headers' middleware, reading the Origin header from META. Its own builds
    request.headers (every header of the request, about 40 us) to read that one on each widget
    API request, also on the many that carry none (a server calling the API, a same-origin page):
    those get what django-cors-headers gives them, "Vary: origin" and no CORS header, without it.
    A request with an Origin goes through django-cors-headers unchanged."""

    def add_response_headers(
        self, request: HttpRequest, response: HttpResponseBase
    ) -> HttpResponseBase:
        if request.META.get("HTTP_ORIGIN"):
            return super().add_response_headers(request, response)
        enabled = getattr(request, "_cors_enabled", None)
        if enabled is None:
            enabled = self.is_enabled(request)
        if enabled:
            patch_vary_headers(response, ("origin",))
        return response
