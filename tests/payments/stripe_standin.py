"""A Stripe stand-in for the payment tests and local runs: localstripe (a stateful fake of
Stripe's API that delivers webhooks signed with Stripe's real scheme) with three additions.

1. The call real Stripe.js makes for `confirmCardPayment(clientSecret, {payment_method: {card}})`
   and localstripe lacks: POST /v1/payment_intents/:id/confirm authenticated by the publishable
   key and the intent's client secret, with the card from the Card Element. The card is turned
   into a PaymentMethod and the intent confirmed as localstripe does it server-side (test cards
   behave as at Stripe: 4242... succeeds, 4000000000000341 is declined, 4000002500003155 asks
   for 3-D Secure).
2. The Stripe.js substitute at /js.stripe.com/v3/ (localstripe's, which implements the Card
   Element) is served with `confirmCardPayment` completed to make that call.
3. PaymentIntent creation as the API version the `stripe` library pins (its Stripe-Version
   header) answers it: from Endive (2026-09-30) Stripe refuses `payment_method_types` with a 400
   and takes `allowed_payment_method_types`; localstripe predates that and knows only the old name.

localstripe writes its state to /tmp/localstripe.pickle on every change; here it stays in
memory (that file would hold test card numbers and be shared by parallel runs).

Webhooks go, as at Stripe, to the endpoints configured when the event happened, a second later
(localstripe sends them to whatever is configured once the second has passed: an event caused
by one test would reach the live server of the next one).

    python -m tests.payments.stripe_standin --port 8420
"""

from __future__ import annotations

import argparse
import asyncio
import hashlib
import hmac
import json
import logging
import re
import socket
from pathlib import Path

import aiohttp
import localstripe
from aiohttp import web
from localstripe import resources, server, webhooks
from localstripe.errors import UserError
from localstripe.resources import PaymentIntent, PaymentMethod

type(resources.store).dump_to_disk = lambda self: None  # type: ignore[method-assign]
logger = logging.getLogger(__name__)

# The first API version on which PaymentIntents refuse `payment_method_types` (Stripe's changelog,
# Endive 2026-09-30); Stripe-Version values are dates first, so they compare as text.
_ENDIVE = "2026-09-30"
_CONFIRM = re.compile(r"^/v1/payment_intents/(pi_\w+)/confirm$")
_CONFIRM_JS = """
// Added by the test stand-in: confirmCardPayment with a Card Element, as real Stripe.js does it.
(function () {
  const makeStripe = Stripe;
  Stripe = (apiKey) => {
    const stripe = makeStripe(apiKey);
    const authenticate = stripe.confirmCardPayment;  // localstripe's 3-D Secure step
    stripe.confirmCardPayment = async (clientSecret, data) => {
      const element = data && data.payment_method && data.payment_method.card;
      if (!element) { return authenticate(clientSecret, data); }
      const card = element.value && element.value.card;
      if (!card || !card.number) {
        return {error: {type: 'validation_error', code: 'incomplete_number', message: 'Your card number is incomplete.'}};
      }
      const pi = clientSecret.match(/^(pi_\\w+)_secret_/)[1];
      const response = await fetch(`${LOCALSTRIPE_BASE_API}/v1/payment_intents/${pi}/confirm`, {
        method: 'POST',
        body: JSON.stringify({
          key: apiKey, client_secret: clientSecret,
          payment_method_data: {type: 'card', card: card, billing_details: data.payment_method.billing_details || {}},
        }),
      });
      const body = await response.json().catch(() => ({}));
      if (response.status !== 200 || body.error) { return {error: body.error || {message: 'The payment failed.'}}; }
      if (body.status === 'requires_action') { return authenticate(clientSecret, data); }
      return {paymentIntent: body};
    };
    return stripe;
  };
})();
"""


def _confirm_from_browser(intent_id: str, data: dict) -> web.Response:
    intent = PaymentIntent._api_retrieve(intent_id)
    if data.get("client_secret") != intent.client_secret:
        raise UserError(401, "Unauthorized")
    if intent.status not in ("requires_payment_method", "requires_confirmation"):
        raise UserError(
            400,
            "This PaymentIntent cannot be confirmed in its current state.",
            {"code": "payment_intent_unexpected_state"},
        )
    method_data = data.get("payment_method_data") or {}
    card = method_data.get("card") or {}
    method = PaymentMethod._api_create(
        type="card",
        card={key: card.get(key) for key in ("number", "exp_month", "exp_year", "cvc")},
        billing_details=method_data.get("billing_details") or None,
    )
    intent.payment_method = method.id
    intent.latest_charge = None  # a new attempt after a declined card
    intent._confirm(on_failure_now=intent._report_failure)  # raises UserError(402) when declined
    return server.json_response(intent._export())


async def _deliver(event: resources.Event, endpoints: dict[str, webhooks.Webhook]) -> None:
    payload = json.dumps(event._export(), indent=2, sort_keys=True).encode()
    await asyncio.sleep(1)  # as localstripe: the API call that caused the event answers first
    for key, endpoint in endpoints.items():
        if webhooks._webhooks.get(key) is not endpoint:
            continue  # reconfigured since the event happened
        if endpoint.events is not None and event.type not in endpoint.events:
            continue
        signed = b"%d.%s" % (event.created, payload)
        signature = hmac.new(endpoint.secret.encode(), signed, hashlib.sha256).hexdigest()
        headers = {
            "Content-Type": "application/json; charset=utf-8",
            "Stripe-Signature": f"t={event.created},v1={signature}",
        }
        try:
            async with (
                aiohttp.ClientSession() as session,
                session.post(endpoint.url, data=payload, headers=headers) as answer,
            ):
                logger.info("webhook %s: %s answered %d", event.type, endpoint.url, answer.status)
        except aiohttp.ClientError as exc:
            logger.info("webhook %s: %s failed: %s", event.type, endpoint.url, exc)


def _schedule_webhook(event: resources.Event) -> None:
    asyncio.ensure_future(_deliver(event, dict(webhooks._webhooks)))


resources.schedule_webhook = _schedule_webhook  # resources imported localstripe's by name


@web.middleware
async def browser_confirm(request: web.Request, handler):
    match = _CONFIRM.match(request.path)
    if request.method != "POST" or match is None:
        return await handler(request)
    data = await server.get_post_data(request, remove_auth=False) or {}
    if not str(data.get("key", "")).startswith("pk_"):
        return await handler(request)  # a server-side confirm with the secret key
    try:
        return _confirm_from_browser(match[1], data)
    except UserError as exc:
        return exc.to_response()


@web.middleware
async def intent_create(request: web.Request, handler):
    if request.method != "POST" or request.path != "/v1/payment_intents":
        return await handler(request)
    if request.headers.get("Stripe-Version", "") < _ENDIVE:
        return await handler(request)  # an older API version: localstripe's own rules
    data = await server.get_post_data(request) or {}
    if "payment_method_types" in data:
        raise UserError(
            400,
            "payment_method_types is no longer supported on this API version; use "
            "allowed_payment_method_types.",
            {"code": "payment_method_types_no_longer_supported", "param": "payment_method_types"},
        )
    allowed = data.pop("allowed_payment_method_types", None)
    expand = data.pop("expand", None)
    intent = PaymentIntent._api_create(**data)
    if allowed is not None:
        # Stripe's computed, read-only list: for a card-only intent exactly the allowed types.
        intent.payment_method_types = allowed
    return server.json_response(intent._export(expand=expand))


def stripe_js(request: web.Request) -> web.Response:
    original = (Path(localstripe.__file__).parent / "localstripe-v3.js").read_text()
    return web.Response(text=original + _CONFIRM_JS, content_type="application/javascript")


def build_app() -> web.Application:
    app = web.Application(
        middlewares=[
            server.error_middleware,
            browser_confirm,
            server.auth_middleware,
            intent_create,
        ]
    )
    app.on_response_prepare.append(server.add_cors_headers)
    app.router.add_get("/js.stripe.com/v3/", stripe_js)
    for route in server.app.router.routes():
        if route.resource is not None and route.resource.canonical != "/js.stripe.com/v3/":
            app.router.add_route(route.method, route.resource.canonical, route.handler)
    return app


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--port", type=int, default=8420)
    parser.add_argument("--host", default="127.0.0.1")
    args = parser.parse_args()
    sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    sock.bind((args.host, args.port))
    web.run_app(build_app(), sock=sock, print=None, access_log=None)


if __name__ == "__main__":
    main()
