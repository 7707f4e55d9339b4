"""`{{ value|zoned }}`: a moment in the active time zone with the zone named (booking.i18n.zoned)."""

from __future__ import annotations

from datetime import datetime

from django import template

from booking.i18n import zoned as zoned_text

register = template.Library()


@register.filter
def zoned(value: datetime | None) -> str:
    return zoned_text(value)
