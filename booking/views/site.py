"""The platform's own pages: `/` (what this is, where to report a vulnerability, the privacy
notice; no list of partners) and `/privacy/`, the summary of what the platform stores and for how
long, used when the operator has not set a privacy notice of their own (PRIVACY_NOTICE_URL)."""

from __future__ import annotations

from typing import Any

from django.conf import settings
from django.http import HttpRequest, HttpResponse
from django.shortcuts import render
from django.urls import reverse
from django.views.decorators.http import require_safe


def privacy_url() -> str:
    return str(settings.PRIVACY_NOTICE_URL) or reverse("booking:privacy")


def platform(request: HttpRequest) -> dict[str, Any]:
    """Context processor: the platform's name and privacy notice, for the pages' footer."""
    return {
        "platform_name": settings.PLATFORM_NAME,
        "platform_privacy_url": privacy_url(),
        "backup_retention_days": settings.BACKUP_RETENTION_DAYS,
    }


@require_safe
def home(request: HttpRequest) -> HttpResponse:
    return render(request, "booking/home.html")


@require_safe
def privacy(request: HttpRequest) -> HttpResponse:
    return render(request, "booking/privacy.html")
