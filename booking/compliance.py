"""booking's compliance checks, registered with security in BookingConfig.ready(): the widget
API's CORS rule (C05)."""

from __future__ import annotations

from datetime import datetime

from django.conf import settings
from django.core.exceptions import ValidationError
from django.utils.translation import gettext_lazy as _

from booking.models import Partner, parse_origins
from security.checks import check_cors
from security.compliance import Check, Finding, failed, passed


def cors(now: datetime) -> Finding:
    errors = [str(e.msg) for e in check_cors()]
    partners = 0
    origins = 0
    invalid = []
    plain_http = []
    for slug, text in Partner.objects.exclude(widget_origins="").values_list(
        "slug", "widget_origins"
    ):
        partners += 1
        try:
            parsed = parse_origins(text)
        except ValidationError:  # a row saved around validation (booking.cors treats it as none)
            invalid.append(slug)
            continue
        origins += len(parsed)
        plain_http += [f"{slug}: {o}" for o in parsed if o.startswith("http://")]
    evidence = {
        "settings_errors": errors,
        "cors_paths": settings.CORS_URLS_REGEX,
        "partners_with_origins": partners,
        "origins": origins,
        "invalid_origin_lists": invalid,
        "http_origins": plain_http,
    }
    if errors:
        return failed(errors[0], **evidence)
    if invalid:
        return failed(f"partners with invalid widget origins: {', '.join(invalid)}", **evidence)
    if plain_http and not settings.DEBUG:
        return failed(f"widget origins without https: {', '.join(plain_http[:5])}", **evidence)
    return passed(
        f"only the widget API, only to {origins} registered origins of {partners} partners",
        **evidence,
    )


CHECKS = [Check("C05", _("Narrow CORS for the widget API"), cors)]
