"""Times in the workspace in the reader's zone, the zone named.

A partner's users read every date and time in the partner's zone ("2026-12-05 11:00
(Europe/Zurich)"); operators, who work across partners, read UTC, labelled. The middleware makes
that zone the active one for every admin request, so Django's own rendering (list filters such as
"Today", history, templates' date filters) follows it; `zoned_field` is the column or read-only
field that also names the zone.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import UTC, tzinfo
from functools import lru_cache
from typing import TYPE_CHECKING, Any

from django.contrib import admin
from django.http import HttpRequest, HttpResponseBase
from django.urls import get_script_prefix, get_urlconf, reverse
from django.utils import timezone

from booking.admin.scoping import request_scope
from booking.i18n import zoned

if TYPE_CHECKING:
    from django_stubs_ext import StrOrPromise


@lru_cache(maxsize=8)  # reversing a URL costs more than the rest of this middleware
def _admin_root(urlconf: str | None, script_prefix: str) -> str:
    return reverse("admin:index", urlconf=urlconf)


def reader_zone(request: HttpRequest) -> tzinfo:
    """The partner's zone for the partner's users, UTC for everyone else."""
    scope = request_scope(request)
    if scope.is_partner and scope.partner is not None:
        return scope.partner.zone
    return UTC


class WorkspaceTimeZoneMiddleware:
    """Activates the reader's zone (reader_zone) for the admin's pages. After the
    authentication middleware: the zone depends on who is asking."""

    def __init__(self, get_response: Callable[[HttpRequest], HttpResponseBase]) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponseBase:
        if not request.path.startswith(_admin_root(get_urlconf(), get_script_prefix())):
            return self.get_response(request)
        with timezone.override(reader_zone(request)):
            return self.get_response(request)


def zoned_field(name: str, description: StrOrPromise) -> staticmethod[[Any], str]:
    """A column or read-only field showing the date-time field `name` in the active zone, named;
    sorted by the field itself. Assigned to a ModelAdmin attribute, listed by that name."""

    @admin.display(description=description, ordering=name)
    def show(obj: Any) -> str:
        return zoned(getattr(obj, name))

    show.__name__ = f"{name}_zoned"
    return staticmethod(show)
