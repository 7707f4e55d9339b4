"""Bounds for the dates and numbers that customers, partners, widgets and operators type in (C35).

One rule for every date the product accepts, whoever types it: the customer pages, the widget
API, the admin and the management commands. Dates must lie in MIN_YEAR..MAX_YEAR: far outside
any bookable time, and away from the ends of Python's calendar, where adding a week, a day of
zone offset or a service's duration to a date would overflow into a 500. Digits are ASCII: other
scripts' digits (which int() and strptime() would quietly accept) are refused as malformed.

Here, in the layer every app may import, so that the booking forms, the API forms and the
security commands share it.
"""

from __future__ import annotations

import re
from datetime import date
from typing import TYPE_CHECKING

from django.core.exceptions import ValidationError
from django.utils.translation import gettext_lazy as _

if TYPE_CHECKING:
    from django.utils.functional import _StrPromise

MIN_YEAR, MAX_YEAR = 1900, 2999
# The largest id a database column (bigint) holds; a longer number is no id at all.
MAX_ID = 2**63 - 1
# Content-Length values beyond this many digits are refused before int() is asked (which would
# raise on more than 4300 digits).
_MAX_LENGTH_DIGITS = 18

_DATE = re.compile(r"[0-9]{4}-[0-9]{2}-[0-9]{2}")
_ID = re.compile(r"[1-9][0-9]{0,18}")

YEAR_RANGE_MESSAGE = _("Enter a date between %(min)s and %(max)s.")


def validate_year(moment: date) -> None:
    """A date (or date-time, in its own offset) within MIN_YEAR..MAX_YEAR."""
    if not MIN_YEAR <= moment.year <= MAX_YEAR:
        raise ValidationError(
            YEAR_RANGE_MESSAGE, code="range", params={"min": MIN_YEAR, "max": MAX_YEAR}
        )


def parse_date(value: str, *, message: str | _StrPromise | None = None) -> date:
    """YYYY-MM-DD in ASCII digits, a real calendar date, within the years. `message` replaces
    the wording for malformed input (the range message stays the same everywhere)."""
    if not _DATE.fullmatch(value):
        raise ValidationError(message or _("Enter a date as YYYY-MM-DD."), code="invalid")
    try:
        day = date.fromisoformat(value)
    except ValueError:
        raise ValidationError(
            message or _("Enter a real calendar date as YYYY-MM-DD."), code="invalid"
        ) from None
    validate_year(day)
    return day


def parse_id(value: str) -> int | None:
    """A database id as it travels in a query string: ASCII digits, no sign, no leading zero,
    at most MAX_ID. None for anything else."""
    if not _ID.fullmatch(value):
        return None
    number = int(value)
    return number if number <= MAX_ID else None


def content_length(value: str | None) -> int | None:
    """A request's Content-Length header as a number of bytes: missing or empty is 0; None when
    it is not a plain ASCII number (the caller answers 400)."""
    if not value:
        return 0
    if not value.isascii() or not value.isdigit():
        return None
    if len(value) > _MAX_LENGTH_DIGITS:  # more than any body we accept, by far
        return int(10**_MAX_LENGTH_DIGITS)
    return int(value)
