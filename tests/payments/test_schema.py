"""C20: no model of the platform has a place for card data; payments keep Stripe ids, amounts,
currencies and states only."""

from __future__ import annotations

import re

from django.apps import apps

from payments.models import PAYMENT_STATUSES, REFUND_STATUSES, Payment, Refund

# Card number (PAN), security code, expiry month/year, and the other account data a card form
# could carry. (Expiry of holds, sessions and grants is not card data.)
CARD_WORDS = re.compile(
    r"card|(^|_)pan($|_)|cvc|cvv|cvn|exp(iry|iration)?_?(month|year|date)|security_code|iban|account_number|track_?data",
    re.I,
)


def test_no_model_has_a_field_for_card_data() -> None:
    offenders = [
        f"{model._meta.label}.{field.name} ({getattr(field, 'column', '')})"
        for model in apps.get_models()
        for field in model._meta.get_fields()
        if CARD_WORDS.search(field.name) or CARD_WORDS.search(getattr(field, "column", "") or "")
    ]
    assert offenders == []


def test_payments_store_only_stripe_ids_amounts_currencies_and_states() -> None:
    assert {f.name for f in Payment._meta.concrete_fields} == {
        "id",
        "booking",
        "stripe_payment_intent_id",
        "amount",
        "currency",
        "status",
        "amount_refunded",
        "last_error_code",
        "created_at",
        "updated_at",
        "paid_at",
    }
    assert {f.name for f in Refund._meta.concrete_fields} == {
        "id",
        "payment",
        "stripe_refund_id",
        "amount",
        "status",
        "reason",
        "created_at",
        "updated_at",
    }


def test_the_status_constraints_list_every_status() -> None:
    assert PAYMENT_STATUSES == Payment.Status.values
    assert REFUND_STATUSES == Refund.Status.values


def test_the_scan_recognises_card_fields() -> None:
    for name in (
        "card_number",
        "cvc",
        "cvv2",
        "exp_month",
        "expiry_year",
        "pan",
        "card_pan",
        "expiration_date",
    ):
        assert CARD_WORDS.search(name), name
    for name in ("hold_expires_at", "expire_date", "company", "expires_at"):
        assert not CARD_WORDS.search(name), name
