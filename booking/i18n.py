"""Languages of the customer pages and emails: which one is active, and dates and times written
the way readers of that language expect, with the time zone named."""

from __future__ import annotations

from datetime import datetime, tzinfo
from typing import TYPE_CHECKING
from zoneinfo import ZoneInfo

from django.conf import settings
from django.conf.urls.i18n import is_language_prefix_patterns_used
from django.middleware.locale import LocaleMiddleware as DjangoLocaleMiddleware
from django.utils import dateformat, timezone, translation
from django.utils.cache import patch_vary_headers
from django.utils.translation import gettext, pgettext, pgettext_lazy

if TYPE_CHECKING:
    from django.http import HttpRequest, HttpResponseBase
    from django_stubs_ext import StrOrPromise

    from booking.models import Booking


class LocaleMiddleware(DjangoLocaleMiddleware):
    """Django's, plus "Vary: Cookie" on the answers to a visitor who picked a language (the
    picker's cookie): their page depends on the cookie, which Django's leaves unsaid, so a shared
    cache could hand the picked language to others. Visitors without the cookie get answers that
    vary on Accept-Language only and stay cacheable.

    No URL of ours carries a language prefix (no i18n_patterns), so the language comes from the
    cookie or Accept-Language alone, and the path is not asked. Django's asks it on every
    request, in both halves: for "/api/..." or "/book/..." that is a lookup of the language
    "api" or "book", refused with an exception that is never cached, about 40 us each time on
    this machine. Should a URLconf with language prefixes ever be used, Django's own runs."""

    @staticmethod
    def _prefixed(request: HttpRequest) -> bool:
        urlconf = getattr(request, "urlconf", settings.ROOT_URLCONF)
        return bool(is_language_prefix_patterns_used(urlconf)[0])

    def process_request(self, request: HttpRequest) -> None:
        if self._prefixed(request):
            super().process_request(request)
            return
        translation.activate(translation.get_language_from_request(request, check_path=False))
        request.LANGUAGE_CODE = translation.get_language()

    def process_response(
        self, request: HttpRequest, response: HttpResponseBase
    ) -> HttpResponseBase:
        if self._prefixed(request):
            response = super().process_response(request, response)
        else:  # what Django's does without language prefixes
            patch_vary_headers(response, ("Accept-Language",))
            response.headers.setdefault("Content-Language", translation.get_language())
        if settings.LANGUAGE_COOKIE_NAME in request.COOKIES:
            patch_vary_headers(response, ("Cookie",))
        return response


def active_language() -> str:
    """The language of the current request or `translation.override` block, as one of the codes
    of settings.LANGUAGES (a region variant such as de-ch counts as de)."""
    language = translation.get_language() or settings.LANGUAGE_CODE
    try:
        return translation.get_supported_language_variant(language)
    except LookupError:
        return str(settings.LANGUAGE_CODE)


def zone_label(zone: tzinfo) -> str:
    """A zone's IANA name ("Europe/Zurich", "UTC")."""
    return str(getattr(zone, "key", None) or zone)


def zoned(value: datetime | None, zone: tzinfo | None = None) -> str:
    """A moment as "2026-12-05 11:00 (Europe/Zurich)": in `zone`, else the active time zone
    (in the partner workspace the partner's own, for operators UTC), the zone always named."""
    if value is None:
        return ""
    zone = zone or timezone.get_current_timezone()
    return f"{value.astimezone(zone):%Y-%m-%d %H:%M} ({zone_label(zone)})"


def when(start: datetime, end: datetime, zone: ZoneInfo) -> str:
    """The appointment in `zone`, in the active language, the zone named: "Monday, 6 January
    2025, 10:00–11:00 (Europe/Zurich)", "Montag, 6. Januar 2025, 10:00–11:00 (Europe/Zurich)".

    The pattern is a translatable string (Django date-format letters) so each language keeps its
    own word order and punctuation; month and day names come from Django's own catalogues."""
    day_and_time = pgettext("date and time of an appointment", "l, j F Y, H:i")
    time_only = pgettext("time of day", "H:i")
    local_start, local_end = start.astimezone(zone), end.astimezone(zone)
    text = dateformat.format(local_start, day_and_time)
    if local_end.date() == local_start.date():
        text += "–" + dateformat.format(local_end, time_only)
    else:
        text += " – " + dateformat.format(local_end, day_and_time)
    return f"{text} ({zone.key})"


def customer_when(booking: Booking, start: datetime, end: datetime) -> str:
    """A time of `booking` for its customer: in the zone they booked in and, where the partner's
    differs, in the partner's beside it ("... 04:00–05:00 (America/New_York), that is ...
    10:00–11:00 (Europe/Zurich) at Salon Alpha")."""
    zone, partner_zone = booking.customer_zone, booking.partner.zone
    text = when(start, end, zone)
    if zone.key == partner_zone.key:
        return text
    return gettext("%(customer_time)s, that is %(partner_time)s at %(partner)s") % {
        "customer_time": text,
        "partner_time": when(start, end, partner_zone),
        "partner": booking.partner.name,
    }


def date_formats(request: HttpRequest) -> dict[str, StrOrPromise]:
    """Context processor: the date patterns of the customer pages, in the active language (lazy:
    resolved when the page renders). Used as `{{ start|date:day_time_format }}`."""
    return {
        "day_time_format": pgettext_lazy("date and time of an appointment", "l, j F Y, H:i"),
        "day_format": pgettext_lazy("a calendar day", "l, j F Y"),
        "weekday_format": pgettext_lazy("a day in the week of free times", "l, j F"),
        "weekday_time_format": pgettext_lazy("a time in the coming weeks", "l, j F, H:i"),
    }


# Sources whose texts are not in the catalogues: operator tooling (management commands, the
# compliance report and checks, backups), which operators and auditors read in English, and what
# never ships (tests, benchmarks, local data). `bin/messages` and the catalogue test both use it.
CATALOGUE_IGNORE = (
    "*/management/commands/*",
    "security/compliance/*",
    "*/compliance.py",
    "backups/*",
    "tests/*",
    "bench/*",
    "var/*",
    "public/*",
)
