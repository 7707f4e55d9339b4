"""The widget API's CORS rule (C05): a cross-origin request to /api/v1/partners/<slug>/... is
allowed only when its Origin is one that partner registered. django-cors-headers asks us through
its `check_request_enabled` signal; CORS_URLS_REGEX already keeps every other path out.

Origins are cached per partner for a minute and dropped from the cache when the partner is saved.
"""

from __future__ import annotations

import re
from typing import Any

from corsheaders.signals import check_request_enabled
from django.core.cache import cache
from django.db.models.signals import post_save
from django.dispatch import receiver
from django.http import HttpRequest

from booking.models import Partner, parse_origins

_PARTNER_PATH = re.compile(r"^/api/v1/partners/(?P<slug>[-a-zA-Z0-9_]{1,60})/")
_TTL = 60


def _cache_key(slug: str) -> str:
    return f"cors:origins:{slug}"


def partner_origins(slug: str) -> frozenset[str]:
    key = _cache_key(slug)
    cached = cache.get(key)
    if cached is None:
        text = Partner.objects.filter(slug=slug).values_list("widget_origins", flat=True).first() or ""
        try:
            cached = sorted(parse_origins(text))
        except Exception:  # a row saved around validation must not open CORS: treat as none
            cached = []
        cache.set(key, cached, _TTL)
    return frozenset(cached)


@receiver(check_request_enabled)
def allow_registered_origin(sender: Any, request: HttpRequest, **kwargs: Any) -> bool:
    match = _PARTNER_PATH.match(request.path_info)
    origin = request.headers.get("Origin", "").lower()
    return bool(match and origin and origin in partner_origins(match["slug"]))


# Cache invalidation is the one job done in a signal: every way a partner is saved must drop it.
@receiver(post_save, sender=Partner)
def _forget_origins(sender: type[Partner], instance: Partner, **kwargs: Any) -> None:
    cache.delete(_cache_key(instance.slug))
