"""booking's compliance check (C05): CORS only for the widget API and only to registered
origins; a wide setting or a partner's plain-http origin in production fails it."""

from __future__ import annotations

import pytest

from booking.models import Partner
from security.compliance import Status, evaluate

pytestmark = pytest.mark.django_db


def _c05():
    (result,) = evaluate(["C05"])
    return result


def test_registered_origins_pass() -> None:
    Partner.objects.create(
        name="Salon",
        slug="salon",
        contact_email="s@example.com",
        widget_origins="https://www.salon.example",
    )
    result = _c05()
    assert result.status == Status.PASS and result.evidence["origins"] == 1


def test_cors_for_every_origin_fails(settings) -> None:
    settings.CORS_ALLOW_ALL_ORIGINS = True
    assert _c05().status == Status.FAIL


def test_a_plain_http_origin_fails_in_production(settings) -> None:
    partner = Partner.objects.create(name="Salon", slug="salon", contact_email="s@example.com")
    Partner.objects.filter(pk=partner.pk).update(widget_origins="http://localhost:3000")
    settings.DEBUG = False
    result = _c05()
    assert result.status == Status.FAIL and "salon: http://localhost:3000" in result.reason
