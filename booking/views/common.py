"""What the customer pages share: the private-page headers, the 404 lookups, error pages and the
week paging of the booking and reschedule pages."""

from __future__ import annotations

import zoneinfo
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta
from functools import cache, lru_cache, wraps
from html import escape
from typing import Any
from urllib.parse import urlencode
from zoneinfo import ZoneInfo

from django.forms import Form
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import render
from django.utils import formats
from django.utils.cache import add_never_cache_headers
from django.utils.safestring import mark_safe
from django.utils.translation import get_language, gettext, pgettext
from django.utils.translation import gettext as _

from booking import selectors, slots
from booking.forms import ANY_STAFF, TWO_DIGITS, WeekQueryForm, utc_iso
from booking.models import Booking, Partner, Service, StaffChoice, StaffMember

DAYS_PER_PAGE = 7

# The regions of the IANA database whose zones are Area/City names; every other zone (UTC, Etc/*,
# the old country aliases such as US/Eastern) is listed under "Other". Region names stay as the
# database spells them: they are what the zone names themselves start with.
ZONE_REGIONS = (
    "Africa",
    "America",
    "Antarctica",
    "Arctic",
    "Asia",
    "Atlantic",
    "Australia",
    "Europe",
    "Indian",
    "Pacific",
)


@cache
def zone_groups() -> tuple[tuple[str, tuple[str, ...]], ...]:
    """Every zone the server knows (what validate_time_zone accepts), grouped by region, sorted;
    the region "" holds the rest."""
    groups: dict[str, list[str]] = {region: [] for region in (*ZONE_REGIONS, "")}
    for zone in sorted(zoneinfo.available_timezones()):
        region = zone.split("/", 1)[0]
        groups[region if region in ZONE_REGIONS else ""].append(zone)
    return tuple((region, tuple(zones)) for region, zones in groups.items() if zones)


@lru_cache(maxsize=16)
def _zone_menu(language: str | None) -> str:
    """The zone menu of a language with no zone marked: the same for every page of the language
    (only the group "Other" is translated), so it is built once per process and language. The
    key is all it depends on: nothing to invalidate."""
    parts: list[str] = []
    for region, zones in zone_groups():
        label = escape(region or pgettext("time zones outside the regions", "Other"))
        parts.append(f'<optgroup label="{label}">')
        parts.extend(f'<option value="{name}">{name}</option>' for name in map(escape, zones))
        parts.append("</optgroup>")
    return "\n".join(parts)


def zone_options_html(partner: Partner, selected: str) -> str:
    """The <optgroup>s and <option>s of the zone menu: all zones, the selected one marked, the
    partner's named. In Python, like the week's slots: six hundred options through the template
    engine would be most of a page's rendering time. The language's menu is built once
    (_zone_menu); a page marks its two options in it, each option being unique by its value.
    Every value is escaped with html.escape."""
    menu = _zone_menu(get_language())
    home = escape(partner.time_zone)
    partner_label = escape(gettext("(local time at %(partner)s)") % {"partner": partner.name})
    menu = menu.replace(
        f'<option value="{home}">{home}</option>',
        f'<option value="{home}">{home} {partner_label}</option>',
        1,
    )
    chosen = escape(selected)
    menu = menu.replace(f'<option value="{chosen}">', f'<option value="{chosen}" selected>', 1)
    # Safe: every zone name, group label and the partner's label was escaped, and the rest is
    # our own markup.
    return mark_safe(menu)  # noqa: S308  # nosec B308 B703


View = Callable[..., HttpResponse]


# Not "no-referrer": under it browsers send `Origin: null` with every form POST, which Django's
# CSRF check rightly refuses, so cancel and reschedule would fail. "strict-origin" sends at most
# the bare origin, never the path: the token stays out of every Referer, same-site or not.
PRIVATE_REFERRER_POLICY = "strict-origin"


def mark_private(response: HttpResponse) -> HttpResponse:
    """Headers for responses whose URL (or Location) holds the manage token."""
    add_never_cache_headers(response)
    response["Referrer-Policy"] = PRIVATE_REFERRER_POLICY
    response["X-Robots-Tag"] = "noindex, nofollow"
    return response


def private_page(view: View) -> View:
    @wraps(view)
    def wrapper(request: HttpRequest, *args: Any, **kwargs: Any) -> HttpResponse:
        return mark_private(view(request, *args, **kwargs))

    return wrapper


# --- helpers ------------------------------------------------------------------------------------


def partner_or_404(slug: str) -> Partner:
    partner = selectors.partner_get(slug=slug)
    if partner is None:
        raise Http404(_("No such business."))
    return partner


def service_or_404(partner: Partner, slug: str) -> Service:
    service = selectors.service_get_active(partner=partner, slug=slug)
    if service is None:
        raise Http404(_("No such service."))
    service.partner = partner  # already loaded: spares the slot engine a query
    return service


def staff_or_404(service: Service, staff_id: int | None) -> StaffMember | None:
    """The person a page was asked for (None: anyone). An id that is not one of the active people
    performing this service, another business's included, is "no such person"."""
    if staff_id is None:
        return None
    staff = selectors.staff_for_service(service=service).filter(pk=staff_id).first()
    if staff is None:
        raise Http404("No such person for this service.")
    return staff


def staff_param(staff: StaffMember | None) -> str:
    """How links carry the choice: a person's id; nothing for anyone (the default)."""
    return "" if staff is None else str(staff.pk)


def staff_menu(service: Service, chosen: StaffMember | None, link: Callable[[str], str]) -> str:
    """The items of the "with whom" choices of a page: anyone (unless the service needs a person
    chosen), then each person in display order; `link(staff)` builds the URL of each. Empty
    where there is nobody to choose between (a one-person business sees the page it always
    saw). In Python, like the week's slots: a template loop cost more than the rest of the menu.
    Every value is escaped with html.escape, which is what Django's autoescaping calls."""
    # Ids and names only: the menu needs nothing else, and whole rows cost a week page more.
    people = list(selectors.staff_for_service(service=service).values_list("pk", "name"))
    if len(people) < 2 and service.staff_choice == StaffChoice.ANY:
        return ""
    choices: list[tuple[str, str, bool]] = []
    if service.staff_choice == StaffChoice.ANY:
        choices.append((gettext("Anyone"), link(ANY_STAFF), chosen is None))
    for pk, name in people:
        choices.append((name, link(str(pk)), chosen is not None and pk == chosen.pk))
    items = []
    for name, url, current in choices:
        item = (
            f'<span class="staff-choice current" aria-current="true">{escape(name)}</span>'
            if current
            else f'<a class="staff-choice" href="{escape(url)}">{escape(name)}</a>'
        )
        # What the template's former loop wrote around each item.
        items.append(f"\n    <li>{item}</li>\n    ")
    # Every name and URL was escaped above with html.escape.
    return mark_safe("".join(items))  # noqa: S308  # nosec B308 B703


def query_string(**params: str) -> str:
    return "?" + urlencode({k: v for k, v in params.items() if v})


def form_messages(form: Form) -> list[str]:
    return [str(message) for messages in form.errors.values() for message in messages]


def bad_request(
    request: HttpRequest, messages: list[str], *, back_url: str = "", back_text: str = ""
) -> HttpResponse:
    return render(
        request,
        "400.html",
        {"error_messages": messages, "back_url": back_url, "back_text": back_text or "Back"},
        status=400,
    )


@dataclass
class WeekDay:
    """One local date of a week page, its label formatted once here rather than by template
    filters per slot (the filters were most of the page's rendering time)."""

    date: date
    label: str  # e.g. "Tuesday, 25 March", as the `date:"l, j F"` filter writes it
    slots: list[datetime]  # the free starts, in the customer's zone


@lru_cache(maxsize=1024)
def _day_label(language: str | None, day: date) -> str:
    """formats.date_format is what the `date` filter calls: same names, same translations; the
    pattern is the language's (booking.i18n.date_formats has the same one for the templates).
    Both read the active language, which the caller passes as part of the key."""
    return formats.date_format(day, pgettext("a day in the week of free times", "l, j F"))


def week_day(day: date, starts: list[datetime], zone: ZoneInfo) -> WeekDay:
    return WeekDay(
        date=day,
        label=_day_label(get_language(), day),
        slots=[start.astimezone(zone) for start in starts],
    )


# What the template's former loops wrote around each slot's and each day's item.
SLOT_INDENT = "\n      "
DAY_START = '\n  <li class="day">\n    <h2 class="day-label">{label}</h2>\n    '
DAY_SLOTS = '\n    <ul class="slots">\n      {items}\n    </ul>\n    '
DAY_EMPTY = '\n    <p class="day-empty">{text}</p>\n    '
DAY_END = "\n  </li>\n  "


@dataclass
class Week:
    """One page of free times: DAYS_PER_PAGE local dates of the customer's zone."""

    first: date | None
    days: list[WeekDay] = field(default_factory=list)
    previous: date | None = None
    next: date | None = None
    too_far: bool = False
    last_day: date | None = None
    # The inside of the page's list of days, escaped, built by week_days_html once the page
    # knows its links.
    days_html: str = ""


def week_days_html(
    week: Week, *, mode: str, current_value: str = "", book_url: str = "", query: str = ""
) -> None:
    """The list of days with every slot, in Python: a week has a hundred-odd slots, and the
    template loops with their conditions and variables per day and per slot were most of the
    page's rendering time. mode "link": links to the booking form,
    book_url?start=<start>&<query> (query already encoded, may be empty); "button": submit
    buttons of the reschedule form, the booking's own time (current_value) shown, not offered.

    Every value is escaped with html.escape, which is what Django's autoescaping calls. Escaping
    works character by character, so the parts common to a page or a day are escaped once, and
    a start's value (utc_iso: digits, "-", "T", ":" and "Z") and its time ("H:i") have nothing
    to escape. In a link the start's colons are quoted, which is all urlencode would change in
    it."""
    current_title = escape(gettext("Your current time"))
    current_note = escape(gettext("(your current time)"))
    no_times = DAY_EMPTY.format(text=escape(gettext("No free times on this day.")))
    href_start = escape(f"{book_url}?start=")
    href_rest = escape(f"&{query}") if query else ""
    days: list[str] = []
    for day in week.days:
        label = escape(day.label)
        items = []
        for start in day.slots:
            value = utc_iso(start)
            # What the `date:"H:i"` filter writes (24-hour clock, both parts zero-padded),
            # without a format string to interpret for each slot.
            time_ = f"{TWO_DIGITS[start.hour]}:{TWO_DIGITS[start.minute]}"
            if mode == "button" and value == current_value:
                item = (
                    f'<span class="slot current" title="{current_title}">{time_} '
                    f'<span class="visually-hidden">{current_note}</span></span>'
                )
            elif mode == "button":
                item = (
                    f'<button type="submit" class="slot" name="start" '
                    f'value="{value}" aria-label="{label} {time_}">{time_}</button>'
                )
            else:
                href = f"{href_start}{value.replace(':', '%3A')}{href_rest}"
                item = f'<a class="slot" href="{href}" aria-label="{label} {time_}">{time_}</a>'
            items.append(f"{SLOT_INDENT}<li>{item}</li>{SLOT_INDENT}")
        days.append(DAY_START.format(label=label))
        days.append(DAY_SLOTS.format(items="".join(items)) if items else no_times)
        days.append(DAY_END)
    # Every value in the days was escaped above with html.escape.
    week.days_html = mark_safe(f"\n  {''.join(days)}\n")  # noqa: S308  # nosec B308 B703


def _last_bookable_day(service: Service, zone: ZoneInfo, now: datetime) -> date:
    """The customer-local date of the last instant the service's horizon allows (the slot engine
    offers starts up to the end of the partner-local day `today + horizon_days`)."""
    partner_zone = service.partner.zone
    horizon_end = slots.local_midnight(
        partner_zone, now.astimezone(partner_zone).date() + timedelta(days=service.horizon_days + 1)
    )
    return (horizon_end - timedelta(microseconds=1)).astimezone(zone).date()


def week_of_free_times(
    *,
    service: Service,
    zone: ZoneInfo,
    requested: date | None,
    now: datetime,
    exclude_booking_id: int | None = None,
    staff: StaffMember | None = None,
) -> Week:
    """1. Start at the requested date, never before today in the customer's zone.
    2. Beyond the horizon nothing is asked (and the page says so).
    3. Otherwise ask the selector for the free starts of the 7 local days.
    Previous/next exist only where they lead to a bookable day."""
    today = now.astimezone(zone).date()
    last = _last_bookable_day(service, zone, now)
    first = max(requested or today, today)
    if first > last:
        return Week(first=None, too_far=True, last_day=last)
    final = first + timedelta(days=DAYS_PER_PAGE - 1)
    by_day = selectors.free_starts_by_local_day(
        service=service,
        zone=zone,
        first=first,
        last=final,
        now=now,
        exclude_booking_id=exclude_booking_id,
        staff=staff,
        # The partner was loaded at the start of this request, before anything else.
        slots_version=service.partner.slots_version,
    )
    return Week(
        first=first,
        days=[week_day(day, starts, zone) for day, starts in by_day.items()],
        previous=max(first - timedelta(days=DAYS_PER_PAGE), today) if first > today else None,
        next=final + timedelta(days=1) if final < last else None,
        last_day=last,
    )


def payment_context(service: Service) -> dict[str, bool]:
    paid = selectors.service_is_paid(service)
    return {"paid": paid, "payments_missing": paid and not selectors.payments_enabled()}


def change_refusal(booking: Booking, now: datetime) -> str:
    return selectors.booking_change_refusal(booking=booking, now=now) or ""


# --- the private manage link (also the payment pages' way in) -----------------------------------


def booking_or_404(token: str) -> Booking:
    booking = selectors.booking_get_by_token(token=token)
    if booking is None:
        # Unknown, forged and malformed tokens all get the same 404.
        raise Http404(_("No such booking."))
    booking.service.partner = booking.partner
    return booking


def customer_zone(request: HttpRequest, booking: Booking) -> str:
    """The zone from ?tz= when it is a real zone, else the one the customer booked in (the
    partner's for older bookings); a bad tz on a page that only shows a booking is not worth
    refusing."""
    booked_in = booking.customer_zone.key
    form = WeekQueryForm({"tz": request.GET.get("tz", "")}, default_time_zone=booked_in)
    return form.cleaned_data["tz"] if form.is_valid() else booked_in
