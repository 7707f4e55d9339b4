"""Bad input in the admin gets a 400 page that says what was wrong, in the admin's look, never a
500 (C35)."""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

from django.contrib.admin import AdminSite
from django.http import HttpRequest
from django.template.response import TemplateResponse
from django.utils.translation import gettext_lazy as _


def admin_bad_request(
    request: HttpRequest,
    admin_site: AdminSite,
    messages: Iterable[Any],
    *,
    back_url: str,
    back_text: Any = None,
) -> TemplateResponse:
    return TemplateResponse(
        request,
        "admin/bad_request.html",
        {
            **admin_site.each_context(request),
            "title": _("That did not work"),
            "error_messages": [str(message) for message in messages],
            "back_url": back_url,
            "back_text": back_text or _("Back"),
        },
        status=400,
    )
