"""The one place that builds the official `stripe` client (never hand-written HTTP).

The API base comes from settings so tests and local runs can use a stand-in server; the key is
the platform's own account (see the README for what Stripe Connect would change).
"""

from __future__ import annotations

from functools import lru_cache
from urllib.parse import urlsplit

import stripe
from django.conf import settings

# Connect and read timeouts: a slow Stripe must not hold a web worker for Stripe's default 80 s.
TIMEOUT_SECONDS = (5, 20)


class PaymentsNotConfigured(Exception):
    """Raised where a Stripe call is needed but the keys are missing."""


@lru_cache(maxsize=4)
def _client(api_key: str, api_base: str) -> stripe.StripeClient:
    return stripe.StripeClient(
        api_key,
        base_addresses={"api": api_base},
        max_network_retries=2,  # with idempotency keys on every write, retries are safe
        http_client=stripe.RequestsClient(timeout=TIMEOUT_SECONDS),
    )


def client() -> stripe.StripeClient:
    if not settings.PAYMENTS_ENABLED:
        raise PaymentsNotConfigured("Stripe keys are not configured.")
    return _client(settings.STRIPE_SECRET_KEY, settings.STRIPE_API_BASE)


def origin(url: str) -> str:
    parts = urlsplit(url)
    return f"{parts.scheme}://{parts.netloc}"


def payment_page_csp() -> dict[str, list[str]]:
    """What the payment page's Content-Security-Policy adds to the strict policy: Stripe.js, its
    frames and its API, and nothing else (Stripe's documented requirements). Every other page
    keeps the strict policy."""
    js = origin(settings.STRIPE_JS_URL)
    api = origin(settings.STRIPE_API_BASE)
    frames = [js]
    if js == "https://js.stripe.com":
        frames.append("https://hooks.stripe.com")  # 3-D Secure challenge frames
    return {"script-src": [js], "frame-src": frames, "connect-src": [api]}
