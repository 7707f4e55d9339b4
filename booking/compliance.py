"""booking's compliance checks, registered with security in BookingConfig.ready(): the widget
API's CORS rule (C05), and who may see customer data under support grants (C15)."""

from __future__ import annotations

from datetime import datetime

from django.conf import settings
from django.contrib.auth import get_user_model
from django.core.exceptions import ValidationError
from django.db.models import Q
from django.utils.translation import gettext_lazy as _

from booking.models import Partner, SupportGrant, parse_origins
from booking.roles import SUPPORT
from security.checks import check_cors
from security.compliance import Check, Finding, failed, passed
from security.people import clearances


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


def least_privilege(now: datetime) -> Finding:
    """Platform staff (support and superusers) who can see customer data all have a signed
    confidentiality agreement and a security training of the last 12 months; no grant runs
    longer than its limit."""
    staff = (
        get_user_model()
        ._default_manager.filter(is_active=True, is_staff=True)
        .filter(Q(is_superuser=True) | Q(groups__name=SUPPORT, membership__isnull=True))
        .distinct()
        .order_by("email")
    )
    people = {u.pk: u.get_username() for u in staff}
    cleared = clearances(people, today=now.date())
    missing = {people[pk]: c.problems for pk, c in cleared.items() if not c.ok}
    open_grants = SupportGrant.objects.filter(revoked_at__isnull=True, expires_at__gt=now)
    evidence = {
        "platform_staff": len(people),
        "missing": missing,
        "open_support_grants": open_grants.count(),
        "open_grants_of_uncleared_staff": open_grants.filter(
            granted_to_id__in=[pk for pk, c in cleared.items() if not c.ok]
        ).count(),
    }
    if missing:
        who = "; ".join(f"{email}: {', '.join(problems)}" for email, problems in missing.items())
        return failed(f"staff who may see customer data lack {who}"[:480], **evidence)
    return passed(
        f"all {len(people)} platform staff signed the agreement and trained within 12 months",
        **evidence,
    )


CHECKS = [
    Check("C05", _("Narrow CORS for the widget API"), cors),
    Check("C15", _("Least privilege and cleared support staff"), least_privilege),
]
