"""Prices (Decimal, as on the service) to Stripe's integer amounts in the minor unit, and back
for display. Pure Python, no Django.

Stripe counts most currencies in hundredths, a few in whole units ("zero-decimal": JPY, KRW...)
and a few in thousandths (BHD, KWD...). A price with more decimals than its currency has is
refused rather than rounded: we never charge a different amount than the one shown.
"""

from __future__ import annotations

from decimal import Decimal

# https://docs.stripe.com/currencies#zero-decimal and #three-decimal
ZERO_DECIMAL = frozenset("BIF CLP DJF GNF JPY KMF KRW MGA PYG RWF UGX VND VUV XAF XOF XPF".split())
THREE_DECIMAL = frozenset("BHD JOD KWD OMR TND".split())


class AmountError(ValueError):
    """A price that cannot be charged as it is."""


def exponent(currency: str) -> int:
    code = currency.upper()
    if code in ZERO_DECIMAL:
        return 0
    if code in THREE_DECIMAL:
        return 3
    return 2


def to_minor(price: Decimal, currency: str) -> int:
    """Decimal("150.00"), "CHF" -> 15000. Raises AmountError for a price that is not positive
    or has more decimals than the currency."""
    if len(currency) != 3 or not currency.isalpha():
        raise AmountError(f"{currency!r} is not a currency code.")
    scaled = price.scaleb(exponent(currency))
    if scaled <= 0:
        raise AmountError("A payment needs a price above zero.")
    if scaled != scaled.to_integral_value():
        raise AmountError(f"{price} {currency.upper()} has more decimals than the currency allows.")
    return int(scaled)


def format_minor(amount: int, currency: str) -> str:
    """15000, "CHF" -> "CHF 150.00"."""
    places = exponent(currency)
    value = Decimal(amount).scaleb(-places)
    return f"{currency.upper()} {value:,.{places}f}"
