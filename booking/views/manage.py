"""The manage pages behind the customer's private link: view, cancel, reschedule. The link holds
the customer's secret, so these pages are never cached, never send their path as Referer, and ask
search engines not to index them."""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import Any
from zoneinfo import ZoneInfo

from django.core.exceptions import ValidationError
from django.http import HttpRequest, HttpResponse, HttpResponseRedirect
from django.shortcuts import render
from django.urls import reverse
from django.utils import timezone
from django.utils.translation import gettext as _
from django.views.decorators.http import require_http_methods, require_POST, require_safe

from booking import errors, selectors, services
from booking.forms import (
    ANY_STAFF,
    CancelForm,
    SlotChoiceForm,
    WeekQueryForm,
    parse_staff,
    utc_iso,
)
from booking.links import manage_token_for
from booking.models import Booking, StaffMember
from booking.services import KEEP_STAFF, KeepStaff
from booking.views.common import (
    bad_request,
    booking_or_404,
    change_refusal,
    customer_zone,
    form_messages,
    private_page,
    query_string,
    staff_menu,
    staff_or_404,
    week_days_html,
    week_of_free_times,
    zone_options_html,
)
from security.actors import Actor, Via
from security.client_ip import client_ip

# --- /manage/<token>/ ----------------------------------------------------------------------------


def _manage_context(
    request: HttpRequest, booking: Booking, token: str, tz: str, now: datetime
) -> dict[str, Any]:
    manage_path = reverse("booking:manage", args=[token])
    return {
        "booking": booking,
        "partner": booking.partner,
        "service": booking.service,
        "tz": tz,
        "refusal": change_refusal(booking, now),
        "cutoff": booking.start - timedelta(hours=booking.partner.cancellation_cutoff_hours),
        "manage_url": request.build_absolute_uri(manage_path),
        "manage_path": manage_path,
        "manage_token": token,
        "reschedule_url": reverse("booking:reschedule", args=[token]) + query_string(tz=tz),
        "cancel_url": reverse("booking:cancel", args=[token]),
        "cancel_confirm_url": reverse("booking:cancel-confirm", args=[token]) + query_string(tz=tz),
        "reschedule_confirm_url": reverse("booking:reschedule-confirm", args=[token]),
        "renew_url": reverse("booking:renew", args=[token]),
        "zone_options": zone_options_html(booking.partner, tz),
        "cancel_form": CancelForm(initial={"tz": tz}, default_time_zone=booking.partner.time_zone),
        "is_cancelled": booking.status == Booking.Status.CANCELLED,
        "is_hold": (
            booking.is_hold
            and booking.hold_expires_at is not None
            and booking.hold_expires_at > now
        ),
        "paid": selectors.service_is_paid(booking.service),
        "pay_url": reverse("payments:pay", args=[token]) + query_string(tz=tz),
        "payment_status_url": reverse("payments:status", args=[token]) + query_string(tz=tz),
    }


@private_page
@require_safe
def manage(request: HttpRequest, token: str) -> HttpResponse:
    booking = booking_or_404(token)
    tz = customer_zone(request, booking)
    context = _manage_context(request, booking, token, tz, timezone.now())
    context["created"] = request.GET.get("created") == "1" and booking.is_blocking
    context["rescheduled"] = request.GET.get("rescheduled") == "1" and booking.is_blocking
    return render(request, "booking/manage.html", context)


@private_page
@require_POST
def manage_cancel(request: HttpRequest, token: str) -> HttpResponse:
    booking = booking_or_404(token)
    form = CancelForm(request.POST, default_time_zone=booking.partner.time_zone)
    valid = form.is_valid()
    tz = form.cleaned_data.get("tz") or booking.partner.time_zone
    if valid:
        try:
            services.booking_cancel(
                booking=booking,
                reason=form.cleaned_data["reason"],
                actor=Actor.customer(via=Via.MANAGE_LINK, ip=client_ip(request)),
            )
        except (services.BookingError, ValidationError) as exc:
            messages = errors.messages(exc)
        else:
            return HttpResponseRedirect(
                reverse("booking:manage", args=[token]) + query_string(tz=tz)
            )
    else:
        messages = form_messages(form)
    context = _manage_context(request, booking, token, tz, timezone.now())
    context["error_messages"] = messages
    context["cancel_form"] = form
    return render(request, "booking/manage.html", context, status=400)


@private_page
@require_safe
def manage_cancel_confirm(request: HttpRequest, token: str) -> HttpResponse:
    """The step before cancelling: what will happen (the time is given free, a payment is
    refunded, the cancellation is emailed), with the form that does it. Without JavaScript too:
    a link to this page, a POST form on it."""
    booking = booking_or_404(token)
    tz = customer_zone(request, booking)
    context = _manage_context(request, booking, token, tz, timezone.now())
    if context["is_cancelled"] or (context["refusal"] and not context["is_hold"]):
        return render(request, "booking/manage.html", context, status=400)
    return render(request, "booking/cancel_confirm.html", context)


# --- /manage/<token>/reschedule/ ---------------------------------------------------------------


@private_page
@require_http_methods(["GET", "HEAD", "POST"])
def manage_reschedule(request: HttpRequest, token: str) -> HttpResponse:
    """GET lists the free times of the same service (the booking's own time counts as free);
    POST moves the booking to the chosen one and redirects to the manage page."""
    booking = booking_or_404(token)
    partner, service = booking.partner, booking.service
    here = reverse("booking:reschedule", args=[token])
    query = request.POST if request.method == "POST" else request.GET
    week_form = WeekQueryForm(
        {"week": query.get("week", ""), "tz": query.get("tz", "")},
        default_time_zone=partner.time_zone,
    )
    if not week_form.is_valid():
        return bad_request(
            request, form_messages(week_form), back_url=here, back_text=_("Show the free times")
        )
    tz = week_form.cleaned_data["tz"]
    # The booking keeps its person unless the customer picks "anyone" or someone else: nothing
    # (the default) keeps, "any" frees the choice, an id picks that person.
    raw_staff = query.get("staff", "")
    person: StaffMember | None
    choice: StaffMember | None | KeepStaff
    if raw_staff == ANY_STAFF:
        person, choice = None, None
    elif raw_staff:
        try:
            staff_id = parse_staff(raw_staff)
        except ValidationError as exc:
            return bad_request(
                request, exc.messages, back_url=here, back_text="Show the free times"
            )
        person = choice = staff_or_404(service, staff_id)
    else:
        person, choice = booking.staff, KEEP_STAFF
    now = timezone.now()
    context = _manage_context(request, booking, token, tz, now)
    if booking.is_hold:
        context["refusal"] = _(
            "This time is reserved for you until it is paid; it can be changed once it is paid."
        )
    status = 200
    if request.method == "POST":
        form = SlotChoiceForm(request.POST, default_time_zone=partner.time_zone)
        if not form.is_valid():
            return bad_request(
                request,
                form_messages(form),
                back_url=here + query_string(tz=tz),
                back_text=_("Show the free times"),
            )
        try:
            moved = services.booking_reschedule(
                booking=booking,
                new_start=form.cleaned_data["start"],
                actor=Actor.customer(via=Via.MANAGE_LINK, ip=client_ip(request)),
                now=now,
                staff=choice,
            )
        except (services.BookingError, ValidationError) as exc:
            context["error_messages"] = errors.messages(exc)
            status = errors.answer(exc).status
        else:
            # The move revoked this link; the new booking's link is where the customer goes.
            return HttpResponseRedirect(
                reverse("booking:manage", args=[manage_token_for(moved)])
                + query_string(rescheduled="1", tz=tz)
            )
    if context["refusal"]:
        # Past the cut-off (or cancelled): no times to offer, and the page says why.
        return render(
            request, "booking/reschedule.html", context, status=400 if status == 200 else status
        )
    week = week_of_free_times(
        service=service,
        zone=ZoneInfo(tz),
        requested=week_form.cleaned_data["week"],
        now=now,
        exclude_booking_id=booking.pk,
        staff=person,
    )
    week_days_html(
        week,
        mode="button",
        current_value=utc_iso(booking.start) if person == booking.staff else "",
    )
    week_value = week.first.isoformat() if week.first else ""
    context.update(
        {
            "week": week,
            "here": here,
            "staff_value": raw_staff,
            "staff_menu": staff_menu(
                service,
                person,
                lambda c: here + query_string(week=week_value, tz=tz, staff=c),
            ),
            "previous_url": week.previous
            and here + query_string(week=week.previous.isoformat(), tz=tz, staff=raw_staff),
            "next_url": week.next
            and here + query_string(week=week.next.isoformat(), tz=tz, staff=raw_staff),
            "first_week_url": here + query_string(tz=tz, staff=raw_staff),
            "week_value": week_value,
        }
    )
    return render(request, "booking/reschedule.html", context, status=status)


@private_page
@require_safe
def manage_reschedule_confirm(request: HttpRequest, token: str) -> HttpResponse:
    """The step between choosing a new time and moving: the old and new time side by side, and
    a warning where the new time is already inside the cut-off (no change after that)."""
    booking = booking_or_404(token)
    partner = booking.partner
    here = reverse("booking:reschedule", args=[token])
    form = SlotChoiceForm(request.GET, default_time_zone=partner.time_zone)
    if not form.is_valid():
        return bad_request(
            request,
            form_messages(form),
            back_url=here + query_string(tz=request.GET.get("tz", "")),
            back_text=_("Show the free times"),
        )
    tz = form.cleaned_data["tz"]
    now = timezone.now()
    context = _manage_context(request, booking, token, tz, now)
    raw_staff = request.GET.get("staff", "")
    if raw_staff == ANY_STAFF:
        person: StaffMember | None = None
    elif raw_staff:
        person = staff_or_404(booking.service, form.cleaned_data["staff"])
    else:
        person = booking.staff
    if booking.is_hold:
        context["refusal"] = _(
            "This time is reserved for you until it is paid; it can be changed once it is paid."
        )
    if context["refusal"]:
        return render(request, "booking/reschedule.html", context, status=400)
    new_start = form.cleaned_data["start"]
    week = new_start.astimezone(ZoneInfo(tz)).date().isoformat()
    cutoff_hours = partner.cancellation_cutoff_hours
    context.update(
        {
            "new_start": new_start,
            "new_start_value": utc_iso(new_start),
            "person": person,
            "any_person": raw_staff == ANY_STAFF,
            "staff_value": raw_staff,
            "final": new_start - timedelta(hours=cutoff_hours) <= now,
            "cutoff_hours": cutoff_hours,
            "here_post": here,
            "week_value": week,
            "back_url": here + query_string(week=week, tz=tz, staff=raw_staff),
        }
    )
    return render(request, "booking/reschedule_confirm.html", context)


# --- /manage/<token>/renew/ ----------------------------------------------------------------------


@private_page
@require_POST
def manage_renew(request: HttpRequest, token: str) -> HttpResponse:
    """Revoke every link to this booking (this one included) and email the customer a new one:
    for a link that was forwarded or shown to someone by mistake."""
    booking = booking_or_404(token)
    services.booking_manage_link_rotate(
        booking=booking, actor=Actor.customer(via=Via.MANAGE_LINK, ip=client_ip(request))
    )
    return render(request, "booking/link_renewed.html", {"partner": booking.partner})
