"""payments' compliance check (C20) scans the live database's columns, not the models: a column
for card data added by hand fails it."""

from __future__ import annotations

import pytest
from django.db import connection

from security.compliance import Status, evaluate

pytestmark = pytest.mark.django_db(transaction=True)


def _c20():
    (result,) = evaluate(["C20"])
    return result


def test_the_schema_has_no_card_column(settings) -> None:
    settings.STRIPE_SECRET_KEY = "sk_test_x"
    settings.STRIPE_PUBLISHABLE_KEY = "pk_test_x"
    settings.STRIPE_WEBHOOK_SECRET = "whsec_x"
    settings.PAYMENTS_ENABLED = True
    result = _c20()
    assert result.status == Status.PASS and result.evidence["columns_scanned"] > 100


def test_a_card_column_added_by_hand_fails_c20() -> None:
    with connection.cursor() as cursor:
        cursor.execute("CREATE TABLE leaky_orders (id integer, card_number varchar(19))")
    try:
        result = _c20()
    finally:
        with connection.cursor() as cursor:
            cursor.execute("DROP TABLE leaky_orders")
    assert result.status == Status.FAIL
    assert result.evidence["card_like_columns"] == ["leaky_orders.card_number"]
