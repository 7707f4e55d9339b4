"""payments' compliance check (C20), registered with security in PaymentsConfig.ready()."""

from __future__ import annotations

import re
from datetime import datetime

from django.conf import settings
from django.db import connection
from django.utils.translation import gettext_lazy as _

from security.compliance import Check, Finding, failed, passed, warned

# Card number (PAN), security code, expiry month/year and other account data a card form could
# carry, as column names. Expiry of holds, sessions and grants is not card data.
CARD_COLUMN = re.compile(
    r"card|(^|_)pan($|_)|cvc|cvv|cvn|exp(iry|iration)?_?(month|year|date)|security_code|iban"
    r"|account_number|track_?data",
    re.IGNORECASE,
)


def card_like_columns() -> tuple[int, list[str]]:
    """Every table of the live database and its columns, as the database describes them (not as
    our models say): a column added by hand or by a stray migration is found too."""
    scanned = 0
    found = []
    with connection.cursor() as cursor:
        for table in connection.introspection.table_names(cursor):
            for column in connection.introspection.get_table_description(cursor, table):
                scanned += 1
                if CARD_COLUMN.search(column.name):
                    found.append(f"{table}.{column.name}")
    return scanned, sorted(found)


def no_card_data(now: datetime) -> Finding:
    scanned, found = card_like_columns()
    evidence = {
        "columns_scanned": scanned,
        "card_like_columns": found,
        "webhook_signatures": settings.STRIPE_WEBHOOK_SECRET.startswith("whsec_"),
        "payments_enabled": settings.PAYMENTS_ENABLED,
    }
    if found:
        return failed(f"card-like columns in the database: {', '.join(found)}", **evidence)
    if settings.PAYMENTS_ENABLED and not evidence["webhook_signatures"]:
        return failed(
            "Stripe webhooks are not signature-checked (STRIPE_WEBHOOK_SECRET)", **evidence
        )
    if not settings.PAYMENTS_ENABLED:
        return warned(
            f"no card-like column among {scanned}; payments are not configured", **evidence
        )
    return passed(
        f"no card-like column among {scanned}; cards go to Stripe, webhooks signed", **evidence
    )


CHECKS = [Check("C20", _("No card data on our servers"), no_card_data)]
