"""System checks for payments (`manage.py check`, `check --deploy`)."""

from __future__ import annotations

from typing import Any

from django.conf import settings
from django.core.checks import Error, Tags, Warning, register


@register(Tags.security)
def payments_configuration(app_configs: Any = None, **kwargs: Any) -> list[Any]:
    problems: list[Any] = []
    keys = {
        "STRIPE_SECRET_KEY": settings.STRIPE_SECRET_KEY,
        "STRIPE_PUBLISHABLE_KEY": settings.STRIPE_PUBLISHABLE_KEY,
        "STRIPE_WEBHOOK_SECRET": settings.STRIPE_WEBHOOK_SECRET,
    }
    missing = [name for name, value in keys.items() if not value]
    if missing:
        problems.append(
            Warning(
                f"Payments are not configured ({', '.join(missing)} missing): services with a price cannot be "
                "booked online; customers see 'payments are not configured'.",
                hint="Set the three Stripe keys (or their *_FILE variants); see .env.example.",
                id="payments.W001",
            )
        )
        return problems
    secret, public = settings.STRIPE_SECRET_KEY, settings.STRIPE_PUBLISHABLE_KEY
    if not secret.startswith(("sk_", "rk_")) or not public.startswith("pk_"):
        problems.append(
            Error(
                "STRIPE_SECRET_KEY must be a secret key (sk_...) and STRIPE_PUBLISHABLE_KEY a publishable key (pk_...).",
                hint="A publishable key in the secret setting (or the reverse) would leak or break payments.",
                id="payments.E001",
            )
        )
    elif ("_live_" in secret) != ("_live_" in public):
        problems.append(Error("The Stripe keys mix live and test mode.", id="payments.E002"))
    if not settings.STRIPE_WEBHOOK_SECRET.startswith("whsec_"):
        problems.append(
            Error(
                "STRIPE_WEBHOOK_SECRET must be the endpoint's signing secret (whsec_...).",
                id="payments.E003",
            )
        )
    if "_live_" in secret and not (
        settings.STRIPE_API_BASE.startswith("https://")
        and settings.STRIPE_JS_URL.startswith("https://")
    ):
        problems.append(
            Error(
                "Live Stripe keys need https STRIPE_API_BASE and STRIPE_JS_URL.", id="payments.E004"
            )
        )
    return problems
