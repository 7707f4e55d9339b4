"""payments.W001/E001-E004: the operator learns about missing or inconsistent Stripe settings."""

from __future__ import annotations

import pytest

from payments.checks import payments_configuration

GOOD = {
    "STRIPE_SECRET_KEY": "sk_live_abc",
    "STRIPE_PUBLISHABLE_KEY": "pk_live_abc",
    "STRIPE_WEBHOOK_SECRET": "whsec_abc",
    "STRIPE_API_BASE": "https://api.stripe.com",
    "STRIPE_JS_URL": "https://js.stripe.com/v3/",
}


def _ids(settings, **changes: str) -> list[str]:
    for name, value in {**GOOD, **changes}.items():
        setattr(settings, name, value)
    return [problem.id for problem in payments_configuration()]


def test_a_complete_configuration_has_no_findings(settings) -> None:
    assert _ids(settings) == []


@pytest.mark.parametrize(
    "missing", ["STRIPE_SECRET_KEY", "STRIPE_PUBLISHABLE_KEY", "STRIPE_WEBHOOK_SECRET"]
)
def test_a_missing_key_warns_that_paid_services_cannot_be_booked(settings, missing: str) -> None:
    assert _ids(settings, **{missing: ""}) == ["payments.W001"]


@pytest.mark.parametrize(
    ("changes", "expected"),
    [
        ({"STRIPE_SECRET_KEY": "pk_live_abc"}, "payments.E001"),
        ({"STRIPE_PUBLISHABLE_KEY": "sk_live_abc"}, "payments.E001"),
        ({"STRIPE_SECRET_KEY": "sk_test_abc"}, "payments.E002"),
        ({"STRIPE_WEBHOOK_SECRET": "abc"}, "payments.E003"),
        ({"STRIPE_API_BASE": "http://127.0.0.1:8420"}, "payments.E004"),
    ],
)
def test_inconsistent_keys_are_errors(settings, changes: dict[str, str], expected: str) -> None:
    assert expected in _ids(settings, **changes)
