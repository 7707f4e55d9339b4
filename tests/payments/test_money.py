from __future__ import annotations

from decimal import Decimal

import pytest

from payments.money import AmountError, format_minor, to_minor


@pytest.mark.parametrize(
    ("price", "currency", "minor"),
    [
        ("150.00", "CHF", 15000),
        ("0.5", "usd", 50),
        ("1999", "JPY", 1999),
        ("12.345", "KWD", 12345),
        ("1", "EUR", 100),
        ("0.01", "GBP", 1),
    ],
)
def test_prices_become_stripes_minor_units(price: str, currency: str, minor: int) -> None:
    assert to_minor(Decimal(price), currency) == minor


@pytest.mark.parametrize(
    ("price", "currency"),
    [("0", "CHF"), ("-1", "CHF"), ("150.5", "JPY"), ("1.001", "EUR"), ("1", "CH"), ("1", "12$")],
)
def test_prices_that_cannot_be_charged_as_shown_are_refused(price: str, currency: str) -> None:
    with pytest.raises(AmountError):
        to_minor(Decimal(price), currency)


def test_amounts_are_shown_in_the_currencys_own_unit() -> None:
    assert format_minor(15000, "CHF") == "CHF 150.00"
    assert format_minor(1999, "jpy") == "JPY 1,999"
    assert format_minor(12345, "KWD") == "KWD 12.345"
