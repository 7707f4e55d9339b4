"""The booking pages: a partner's services, a service's week of free times, and the booking form
(a paid service's time becomes a hold and the customer goes on to the payment page)."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any
from zoneinfo import ZoneInfo

from django.conf import settings
from django.core.exceptions import ValidationError
from django.forms import Form
from django.http import HttpRequest, HttpResponse, HttpResponseRedirect
from django.shortcuts import render
from django.urls import reverse
from django.utils import timezone
from django.utils.translation import gettext as _
from django.views.decorators.http import require_http_methods, require_safe

from booking import errors, selectors, services
from booking.forms import BookingForm, SlotChoiceForm, WeekQueryForm, utc_iso
from booking.i18n import active_language
from booking.links import manage_token_for
from booking.models import Booking, Partner, Service, StaffChoice, StaffMember
from booking.views.common import (
    Week,
    bad_request,
    form_messages,
    mark_private,
    partner_or_404,
    payment_context,
    query_string,
    service_or_404,
    staff_menu,
    staff_or_404,
    staff_param,
    week_days_html,
    week_of_free_times,
    zone_options_html,
)
from security.actors import Actor, Via

# --- /book/<partner>/ ---------------------------------------------------------------------------


@require_safe
def partner_page(request: HttpRequest, partner_slug: str) -> HttpResponse:
    partner = partner_or_404(partner_slug)
    services_ = list(selectors.service_list_active(partner=partner))
    return render(request, "booking/partner.html", {"partner": partner, "services": services_})


# --- /book/<partner>/<service>/?week=&tz= --------------------------------------------------------


@require_safe
def service_page(request: HttpRequest, partner_slug: str, service_slug: str) -> HttpResponse:
    partner = partner_or_404(partner_slug)
    service = service_or_404(partner, service_slug)
    here = reverse("booking:service", args=[partner.slug, service.slug])
    form = WeekQueryForm(request.GET, default_time_zone=partner.time_zone)
    if not form.is_valid():
        return bad_request(
            request,
            form_messages(form),
            back_url=here,
            back_text=_("Show the times of %(service)s") % {"service": service.local_name},
        )
    tz = form.cleaned_data["tz"]
    zone = ZoneInfo(tz)
    staff = staff_or_404(service, form.cleaned_data["staff"])
    who = staff_param(staff)
    # A service whose customers must choose a person shows no times until they have.
    must_choose = staff is None and service.staff_choice == StaffChoice.CUSTOMER_CHOOSES
    week = (
        Week(first=None)
        if must_choose
        else week_of_free_times(
            service=service,
            zone=zone,
            requested=form.cleaned_data["week"],
            now=timezone.now(),
            staff=staff,
        )
    )
    week_days_html(
        week,
        mode="link",
        book_url=reverse("booking:book", args=[partner.slug, service.slug]),
        query=query_string(tz=tz, staff=who)[1:],
    )
    week_param = week.first.isoformat() if week.first else ""
    return render(
        request,
        "booking/service.html",
        {
            "partner": partner,
            "partner_url": reverse("booking:partner", args=[partner.slug]),
            "service": service,
            "tz": tz,
            "zone_options": zone_options_html(partner, tz),
            # Opened without a zone: booking/tz.js shows the times in the browser's.
            "auto_zone": not request.GET.get("tz"),
            "week": week,
            "here": here,
            **payment_context(service),
            "staff": staff,
            "staff_value": who,
            "must_choose": must_choose,
            "staff_menu": staff_menu(
                service,
                staff,
                lambda choice: here + query_string(week=week_param, tz=tz, staff=choice),
            ),
            "previous_url": week.previous
            and here + query_string(week=week.previous.isoformat(), tz=tz, staff=who),
            "next_url": week.next
            and here + query_string(week=week.next.isoformat(), tz=tz, staff=who),
            "first_week_url": here + query_string(tz=tz, staff=who),
        },
    )


# --- /book/<partner>/<service>/book/?start=&tz= --------------------------------------------------


@dataclass
class _BookPage:
    """What the booking form's page shows, for the GET and the POST half alike."""

    request: HttpRequest
    partner: Partner
    service: Service
    start: datetime
    tz: str
    form: BookingForm
    staff: StaffMember | None = None
    end: datetime | None = None  # the assigned person's end, where known

    @property
    def times_url(self) -> str:
        return reverse("booking:service", args=[self.partner.slug, self.service.slug])

    def refused(self, messages: list[str]) -> HttpResponse:
        return _not_a_slot(self.request, self.partner, self.service, messages)

    def render(self, status: int = 200, **extra: Any) -> HttpResponse:
        local_day = self.start.astimezone(ZoneInfo(self.tz)).date()
        context: dict[str, Any] = {
            "partner": self.partner,
            "service": self.service,
            "form": self.form,
            "start": self.start,
            "end": self.end or self.start + timedelta(minutes=self.service.duration_minutes),
            "tz": self.tz,
            "staff": self.staff,
            "times_url": self.times_url
            + query_string(week=local_day.isoformat(), tz=self.tz, staff=staff_param(self.staff)),
            **payment_context(self.service),
            **extra,
        }
        if context["payments_missing"]:
            status = 503
        return render(self.request, "booking/book.html", context, status=status)

    def alternatives(self) -> list[dict[str, str]]:
        """The other free times of the taken time's day (customer-local), offered in its place:
        the page never offers a time it has just said is taken."""
        zone = ZoneInfo(self.tz)
        day = self.start.astimezone(zone).date()
        free = selectors.free_starts_by_local_day(
            service=self.service,
            zone=zone,
            first=day,
            last=day,
            now=timezone.now(),
            staff=self.staff,
        )
        return [
            {"value": utc_iso(start), "time": start.astimezone(zone).strftime("%H:%M")}
            for start in free.get(day, [])
            if start != self.start
        ]

    def answer(self, exc: services.BookingError | ValidationError) -> HttpResponse:
        """A refused booking: the form again with the reason, or the error page for a time that
        is no slot at all."""
        answer = errors.answer(exc)
        if isinstance(exc, services.SlotNotOffered | services.StaffNotOffered):
            return self.refused(errors.messages(exc))
        if isinstance(exc, services.SlotTaken):
            return self.render(answer.status, taken=str(exc), alternatives=self.alternatives())
        if isinstance(exc, services.PaymentsUnavailable):
            return self.render(answer.status, payments_missing=True)
        errors.add_to_form(self.form, exc, field="start")
        return self.render(answer.status)


# --- the customer's own hold -------------------------------------------------------------------
# Back from the payment page, the customer's own hold makes their time look taken. The browser
# that made the hold gets a signed cookie naming it (id and link version: no token, nothing an
# observer can use), limited to the partner's booking pages and to the hold's lifetime; with it,
# "Continue to payment" for the same slot and email leads back to that hold's payment page. An
# email alone, without the cookie of the browser that made the hold, gets "just taken".
HOLD_COOKIE = "booking_hold"
HOLD_COOKIE_SALT = "booking.views.customer.hold"


def _hold_cookie_path(partner: Partner) -> str:
    return reverse("booking:partner", args=[partner.slug])


def _remember_hold(response: HttpResponse, hold: Booking) -> HttpResponse:
    response.set_signed_cookie(
        HOLD_COOKIE,
        f"{hold.pk}:{hold.manage_link_version}",
        salt=HOLD_COOKIE_SALT,
        max_age=settings.PAYMENT_HOLD_MINUTES * 60,
        path=_hold_cookie_path(hold.partner),
        secure=settings.SESSION_COOKIE_SECURE,
        httponly=True,
        samesite="Lax",
    )
    return response


def _own_hold(
    request: HttpRequest,
    service: Service,
    start: datetime,
    staff: StaffMember | None,
    email: str | None,
) -> Booking | None:
    """The live hold of this slot that this browser made (and, given `email`, for that email)."""
    value = request.get_signed_cookie(
        HOLD_COOKIE,
        default="",
        salt=HOLD_COOKIE_SALT,
        max_age=settings.PAYMENT_HOLD_MINUTES * 60,
    )
    booking_id, _sep, version = (value or "").partition(":")
    if not (booking_id.isascii() and booking_id.isdigit()) or len(booking_id) > 18 or not version:
        return None
    return selectors.hold_to_resume(
        booking_id=int(booking_id),
        link_version=version,
        service=service,
        start=start,
        staff=staff,
        email=email,
        now=timezone.now(),
    )


def _to_payment(token: str, tz: str) -> HttpResponse:
    return mark_private(
        HttpResponseRedirect(reverse("payments:pay", args=[token]) + query_string(tz=tz))
    )


@require_http_methods(["GET", "HEAD", "POST"])
def book(request: HttpRequest, partner_slug: str, service_slug: str) -> HttpResponse:
    """GET shows the form for the chosen time; POST books it and redirects to the manage page
    (Post/Redirect/Get), whose URL carries the private token and tells the page it is new."""
    partner = partner_or_404(partner_slug)
    service = service_or_404(partner, service_slug)
    if request.method == "POST":
        return _book_post(request, partner, service)
    return _book_get(request, partner, service)


def _not_a_slot(
    request: HttpRequest, partner: Partner, service: Service, messages: list[str]
) -> HttpResponse:
    """Not a time one can book at all: the error page, with a way back to the times."""
    return bad_request(
        request,
        messages,
        back_url=reverse("booking:service", args=[partner.slug, service.slug]),
        back_text=_("Choose another time for %(service)s") % {"service": service.local_name},
    )


def _chosen_slot(
    request: HttpRequest, partner: Partner, service: Service, choice: Form
) -> tuple[datetime, str, StaffMember | None] | HttpResponse:
    """The chosen start, zone and person, or the error page when they are not valid (404 for a
    person who is not one of this service's)."""
    choice.is_valid()
    problems = [str(m) for name in ("start", "tz", "staff") for m in choice.errors.get(name, [])]
    if problems:
        return _not_a_slot(request, partner, service, problems)
    staff = staff_or_404(service, choice.cleaned_data["staff"])
    return choice.cleaned_data["start"], choice.cleaned_data["tz"], staff


def _book_get(request: HttpRequest, partner: Partner, service: Service) -> HttpResponse:
    """The form for a time chosen from the list: refused when the time is no slot (400), said
    to be taken when someone else has it now (409)."""
    chosen = _chosen_slot(
        request, partner, service, SlotChoiceForm(request.GET, default_time_zone=partner.time_zone)
    )
    if isinstance(chosen, HttpResponse):
        return chosen
    start, tz, staff = chosen
    form = BookingForm(
        initial={"start": utc_iso(start), "tz": tz, "staff": staff_param(staff)},
        default_time_zone=partner.time_zone,
    )
    page = _BookPage(request, partner, service, start, tz, form, staff)
    if payment_context(service)["payments_missing"]:
        return page.render()
    if staff is None and service.staff_choice == StaffChoice.CUSTOMER_CHOOSES:
        return page.answer(
            services.StaffNotOffered(_("Please choose the person you want to book with."))
        )
    status, assignment = selectors.service_slot_assignment(
        service=service, start=start, now=timezone.now(), staff=staff
    )
    if assignment is not None:
        page.end = assignment.end  # a person's own duration of the service
    if status is selectors.SlotStatus.NOT_OFFERED:
        return page.answer(services.SlotNotOffered())
    if status is selectors.SlotStatus.TAKEN:
        own = _own_hold(request, service, start, staff, email=None)
        if own is not None:
            return page.render(held_until=own.hold_expires_at)
        return page.answer(services.SlotTaken())
    return page.render()


def _book_post(request: HttpRequest, partner: Partner, service: Service) -> HttpResponse:
    """Book the time: a free service's booking goes to its manage page, a paid service's hold
    to the payment page (linked by URL name: booking does not import payments)."""
    form = BookingForm(request.POST, default_time_zone=partner.time_zone)
    chosen = _chosen_slot(request, partner, service, form)
    if isinstance(chosen, HttpResponse):
        return chosen
    start, tz, staff = chosen
    page = _BookPage(request, partner, service, start, tz, form, staff)
    if payment_context(service)["payments_missing"]:
        return page.render()
    if form.errors:
        return page.render(400)
    own = _own_hold(request, service, start, staff, email=form.cleaned_data["customer_email"])
    if own is not None:
        return _to_payment(manage_token_for(own), tz)
    try:
        booking, token = services.booking_create_for_customer(
            service=service,
            start=start,
            customer=form.customer(language=active_language()),
            actor=Actor.from_request(request, via=Via.BOOKING_PAGE),
            staff=staff,
        )
    except (services.BookingError, ValidationError) as exc:
        return page.answer(exc)
    if booking.is_hold:
        return _remember_hold(_to_payment(token, tz), booking)
    return mark_private(
        HttpResponseRedirect(
            reverse("booking:manage", args=[token]) + query_string(created="1", tz=tz)
        )
    )
