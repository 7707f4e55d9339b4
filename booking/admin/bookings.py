"""The bookings admin: scoped list and detail, cancel, reschedule, create by hand and CSV export.

A booking is never edited through a model form: its detail page is read-only and every change
goes through booking.services (the same rules and database guarantee as customer bookings).
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from datetime import date, datetime
from typing import Any
from urllib.parse import urlencode
from zoneinfo import ZoneInfo

from django.contrib import admin, messages
from django.contrib.admin import helpers
from django.contrib.admin.utils import unquote
from django.core.exceptions import PermissionDenied, ValidationError
from django.db.models import QuerySet
from django.http import Http404, HttpRequest, HttpResponse, HttpResponseRedirect
from django.template.response import TemplateResponse
from django.urls import path, reverse
from django.utils import timezone
from django.utils.translation import gettext_lazy as _
from django.utils.translation import ngettext

from booking import errors, selectors, services
from booking.admin.booking_list import (
    UPCOMING_FIRST,
    ShowFilter,
    paid_through_moves,
    payment_text,
    state_html,
    upcoming_first,
)
from booking.admin.calendar import calendar_view, staff_css_view
from booking.admin.csv_export import csv_safe, csv_writer
from booking.admin.feeds import feeds_view
from booking.admin.forms import (
    BookingCreateForm,
    CancelForm,
    FreeTimesForm,
    LocalDateTimeField,
    RescheduleForm,
)
from booking.admin.reminders import BookingReminderInline
from booking.admin.scoping import (
    ALL,
    PARTNER,
    SUPPORT,
    PartnerScopedAdmin,
    ScopedRelatedFilter,
    request_scope,
    scope_queryset,
)
from booking.admin.support import MASKED, CustomerDataMixin, customer_access
from booking.admin.zone import zoned_field
from booking.events import BookingEvent
from booking.i18n import active_language
from booking.models import Booking, Service, StaffMember
from security.actors import Actor, Via
from security.admin_guard import admin_bad_request
from security.client_ip import client_ip
from security.events import record_event
from security.fieldcrypto import blind_index
from security.inputs import parse_id


@dataclass(frozen=True)
class FreeTimes:
    day: date
    zone: ZoneInfo
    who: str
    times: list[datetime]


def _actor(request: HttpRequest) -> Actor:
    return Actor.from_request(request, via=Via.ADMIN)


def _local(booking: Booking, field: str) -> str:
    value = getattr(booking, field)
    return value.astimezone(booking.partner.zone).strftime("%Y-%m-%d %H:%M") if value else ""


@admin.register(Booking)
class BookingAdmin(CustomerDataMixin, PartnerScopedAdmin):
    list_filter = (
        ShowFilter,
        "status",
        ("start", admin.DateFieldListFilter),
        ("service", ScopedRelatedFilter),
        ("staff", ScopedRelatedFilter),
        ("partner", ScopedRelatedFilter),
    )
    # Customer data is encrypted (C26): the database cannot search it, so the search box looks
    # a whole email up through its blind index (get_search_results). No substring search.
    search_fields = ("customer_email",)
    search_help_text = "Search by a customer's complete email address (not part of it)."
    list_select_related = ("partner", "service", "staff")
    list_per_page = 50
    show_full_result_count = False
    ordering = ("start",)
    actions = ("cancel_selected", "export_selected_csv")
    # Derived fields (busy_start/busy_end, manage_token_hash) are never shown.
    fields = (
        "partner",
        "service_name",
        "staff",
        "resource",
        "state",
        "payment_state",
        "local_start",
        "local_end",
        "customer_name",
        "customer_email",
        "customer_phone",
        "notes",
        "language",  # the customer's emails are in it
        "time_zone",  # the customer's emails and manage page show times in it
        "marketing_consent",
        "created_local",
        "cancelled_local",
        "cancellation_reason",
        "rescheduled_from",
    )
    readonly_fields = fields
    inlines = (BookingReminderInline,)

    created_local = zoned_field("created_at", _("created"))
    cancelled_local = zoned_field("cancelled_at", _("cancelled"))

    # --- list -----------------------------------------------------------------------------------

    def get_queryset(self, request: HttpRequest) -> QuerySet[Booking]:
        return upcoming_first(
            super()
            .get_queryset(request)
            .select_related("partner", "service", "staff", "resource", "payment", "rescheduled_to")
        )

    def get_ordering(self, request: HttpRequest) -> Any:
        return UPCOMING_FIRST

    @admin.display(description=_("state"))
    def state(self, obj: Booking) -> str:
        return state_html(obj)

    @admin.display(description=_("payment"))
    def paid(self, obj: Booking) -> str:
        return payment_text(obj)  # in the list: the row's own payment (selected with it)

    @admin.display(description=_("payment"))
    def payment_state(self, obj: Booking) -> str:
        return paid_through_moves(obj)

    def get_list_display(self, request: HttpRequest) -> Any:
        columns: list[Any] = [
            "local_start",
            "service_name",
            "staff",
            *self.customer_columns(request),
            "state",
            "paid",
        ]
        if not request_scope(request).is_partner:
            columns.insert(1, "partner")
        return columns

    def get_list_display_links(self, request: HttpRequest, list_display: Any) -> Any:
        return ("local_start",)

    def get_search_results(
        self, request: HttpRequest, queryset: QuerySet[Booking], search_term: str
    ) -> Any:
        # Not the admin's own search: it would build customer_email__icontains, which an
        # encrypted column refuses. The whole address, case-insensitive, through the index.
        results, duplicates = queryset, False
        if search_term.strip():
            results = results.filter(customer_email_index=blind_index(search_term))
        # The scoping the parent admin applies to search results, applied here as well.
        results = scope_queryset(request, results)
        scope = request_scope(request)
        if search_term and scope.kind == SUPPORT:
            # Searching masked customer data would reveal it one guess at a time.
            results = results.filter(partner_id__in=list(customer_access(request).grants))
        return results, duplicates

    @admin.display(description="start (local)", ordering="start")
    def local_start(self, obj: Booking) -> str:
        return f"{_local(obj, 'start')} {obj.partner.time_zone}"

    @admin.display(description="end (local)")
    def local_end(self, obj: Booking) -> str:
        return f"{_local(obj, 'end')} {obj.partner.time_zone}"

    @admin.display(description=_("Marketing consent"))
    def marketing_consent(self, obj: Booking) -> str:
        """Whether the customer agreed to news and offers by email, when and to which notice."""
        if obj.marketing_consent_at is None:
            return str(_("No"))
        return str(
            _("Yes, on %(when)s (notice version %(version)s)")
            % {
                "when": f"{_local(obj, 'marketing_consent_at')} {obj.partner.time_zone}",
                "version": obj.marketing_notice_version,
            }
        )

    @admin.display(description="service", ordering="service__name")
    def service_name(self, obj: Booking) -> str:
        return obj.service.name

    def changelist_view(
        self, request: HttpRequest, extra_context: dict[str, Any] | None = None
    ) -> HttpResponse:
        extra_context = {**(extra_context or {}), **self._links(request)}
        response = super().changelist_view(request, extra_context)
        changelist = (
            getattr(response, "context_data", {}).get("cl") if response.status_code == 200 else None
        )
        if changelist is not None:
            customer_access(request).audit(view="changelist", bookings=changelist.result_list)
        return response

    # --- detail ---------------------------------------------------------------------------------

    def has_change_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        # The detail page is read-only (changes go through the services); the permission still
        # grants the cancel and reschedule screens and actions.
        return obj is None and super().has_change_permission(request, obj)

    def has_delete_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return request_scope(request).kind == ALL and super().has_delete_permission(request, obj)

    def has_cancel_permission(self, request: HttpRequest) -> bool:
        return super().has_change_permission(request)

    def _changeable(self, request: HttpRequest, object_id: str) -> Booking:
        booking = self.get_object(request, unquote(object_id))
        if not isinstance(booking, Booking):
            raise Http404(_("No such booking."))
        if not self.has_cancel_permission(request):
            raise PermissionDenied
        return booking

    def change_view(
        self, request: HttpRequest, object_id: str, form_url: str = "", extra_context: Any = None
    ) -> HttpResponse:
        booking = self.get_object(request, unquote(object_id))
        extra = dict(extra_context or {})
        if (
            booking is not None
            and self.has_cancel_permission(request)
            and booking.status != Booking.Status.CANCELLED
        ):
            extra["booking_cancel_url"] = reverse("admin:booking_booking_cancel", args=[booking.pk])
            extra["booking_reschedule_url"] = reverse(
                "admin:booking_booking_reschedule", args=[booking.pk]
            )
        # Booked by hand without an email: the page says that the customer hears nothing from us.
        extra["no_customer_email"] = (
            booking is not None and not booking.customer_email and booking.anonymised_at is None
        )
        response = super().change_view(request, object_id, form_url, extra)
        if booking is not None and response.status_code == 200:
            customer_access(request).audit(view="change", bookings=[booking])
        return response

    # --- extra screens --------------------------------------------------------------------------

    def get_urls(self) -> list[Any]:
        wrap = self.admin_site.admin_view
        return [
            path("calendar/", wrap(calendar_view(self)), name="booking_booking_calendar"),
            path(
                "calendar/staff.css", wrap(staff_css_view(self)), name="booking_booking_staff_css"
            ),
            path("calendar/feeds/", wrap(feeds_view(self)), name="booking_booking_feeds"),
            path("export/", wrap(self.export_view), name="booking_booking_export"),
            path("<path:object_id>/cancel/", wrap(self.cancel_view), name="booking_booking_cancel"),
            path(
                "<path:object_id>/reschedule/",
                wrap(self.reschedule_view),
                name="booking_booking_reschedule",
            ),
            *super().get_urls(),
        ]

    def _links(self, request: HttpRequest) -> dict[str, str]:
        return {
            "booking_calendar_url": reverse("admin:booking_booking_calendar"),
            "booking_export_url": reverse("admin:booking_booking_export"),
        }

    def _render(
        self, request: HttpRequest, template: str, context: dict[str, Any]
    ) -> TemplateResponse:
        return TemplateResponse(
            request,
            template,
            {**self.admin_site.each_context(request), "opts": self.opts, **context},
        )

    def cancel_view(self, request: HttpRequest, object_id: str) -> HttpResponse:
        booking = self._changeable(request, object_id)
        form = CancelForm(request.POST or None)
        if request.method == "POST" and form.is_valid():
            try:
                services.booking_cancel(
                    booking=booking, reason=form.cleaned_data["reason"], actor=_actor(request)
                )
            except (services.BookingError, ValidationError) as exc:
                errors.add_to_form(form, exc)
            else:
                self.log_change(request, booking, "Cancelled by the partner.")
                self.message_user(
                    request,
                    _("The booking was cancelled and the customer notified."),
                    messages.SUCCESS,
                )
                return HttpResponseRedirect(
                    reverse("admin:booking_booking_change", args=[booking.pk])
                )
        return self._render(
            request,
            "admin/booking/booking/cancel.html",
            {"title": _("Cancel booking"), "booking": booking, "bookings": [booking], "form": form},
        )

    def reschedule_view(self, request: HttpRequest, object_id: str) -> HttpResponse:
        booking = self._changeable(request, object_id)
        zone = booking.partner.zone
        form = RescheduleForm(request.POST or None, zone=zone)
        if request.method == "POST" and form.is_valid():
            try:
                new = services.booking_reschedule(
                    booking=booking, new_start=form.cleaned_data["start"], actor=_actor(request)
                )
            except (services.BookingError, ValidationError) as exc:
                errors.add_to_form(form, exc, field="start")
            else:
                self.log_change(request, booking, f"Rescheduled to booking {new.pk}.")
                self.message_user(
                    request, _("The booking was moved and the customer notified."), messages.SUCCESS
                )
                return HttpResponseRedirect(reverse("admin:booking_booking_change", args=[new.pk]))
        return self._render(
            request,
            "admin/booking/booking/reschedule.html",
            {
                "title": _("Reschedule booking"),
                "booking": booking,
                "form": form,
                "zone_name": zone.key,
                "current_start": _local(booking, "start"),
            },
        )

    def add_view(
        self, request: HttpRequest, form_url: str = "", extra_context: Any = None
    ) -> HttpResponse:
        """Create a booking by hand through booking_create: the slot must be offered and free,
        exactly as for a customer; refusals come back as form errors. "Show free times" lists
        the chosen person's (or anyone's) free starts on a date as the choices for the start;
        a stylist with a login books for herself only."""
        if not self.has_add_permission(request):
            raise PermissionDenied
        scope = request_scope(request)
        offered = scope_queryset(
            request, Service.objects.filter(is_active=True).select_related("partner")
        ).order_by("partner__name", "name")
        staff = scope_queryset(
            request, StaffMember.objects.filter(is_active=True).select_related("partner")
        ).order_by("partner__name", "display_order", "name")
        if scope.own_bookings_only:
            staff = staff.filter(pk__in=scope.own_staff_ids)
        zone_name = scope.partner.time_zone if scope.partner else "the partner's time zone"
        choices: dict[str, Any] = {"services": offered, "staff": staff, "zone_name": zone_name}
        may_override = scope.is_owner
        showing = request.method == "POST" and "show_times" in request.POST
        # Without JavaScript: "Show free times" lists them as choices; a link with the service,
        # person and date (?service=&staff=&day=, as from the home page) lists them as links,
        # and a link fills in the booking form's start.
        wanted = request.GET.copy()
        staff_id = parse_id(wanted.get("staff", ""))
        if request.method == "GET" and "service" not in wanted and staff_id is not None:
            # From a free cell of the calendar: the person's service, if they have just one (and
            # then their free times that day, beside the time clicked).
            theirs = list(offered.filter(staff__pk=staff_id).values_list("pk", flat=True)[:2])
            if len(theirs) == 1:
                wanted["service"] = str(theirs[0])
        asked = wanted if request.method == "GET" and "service" in wanted else None
        query = FreeTimesForm(request.POST or asked, **choices)
        if showing:
            # Only the free times are asked for: the customer's details are not checked yet.
            form = BookingCreateForm(initial=request.POST.dict(), **choices)
        elif request.method == "POST":
            form = BookingCreateForm(request.POST, may_override=may_override, **choices)
        else:
            picked = {k: wanted[k] for k in ("service", "staff", "day", "start") if k in wanted}
            form = BookingCreateForm(initial=picked, may_override=may_override, **choices)
        free = self._free_times(query, request.POST.get("start", ""))
        time_links: list[tuple[str, str, bool]] = []
        if free is not None and request.method == "POST":
            form.offer(free.times, free.zone)
        elif free is not None:
            chosen = request.GET.get("start", "")
            for moment in free.times:
                local = moment.astimezone(free.zone).strftime("%Y-%m-%dT%H:%M")
                link = {**{k: wanted.get(k, "") for k in ("service", "staff", "day")}}
                link["start"] = local
                time_links.append((local[-5:], "?" + urlencode(link), local == chosen))
        if request.method == "POST" and not showing and form.is_valid():
            data = form.cleaned_data
            person = data["staff"]
            overriding = may_override and bool(data.get("override"))
            try:
                if scope.own_bookings_only and person is None:
                    raise services.StaffNotOffered(_("Choose yourself as the staff member."))
                if overriding:
                    booking, _token = services.booking_create_override(
                        service=data["service"],
                        staff=person,
                        start=data["start"],
                        customer=form.customer(language=active_language()),
                        actor=_actor(request),
                    )
                else:
                    booking, _token = services.booking_create(
                        service=data["service"],
                        start=data["start"],
                        # The language the admin is shown in: a partner booking for a customer
                        # usually talks with them in it.
                        customer=form.customer(language=active_language()),
                        actor=_actor(request),
                        staff=person,
                    )
            except services.StaffNotOffered as exc:
                errors.add_to_form(form, exc, field="staff")
            except (services.SlotNotOffered, services.SlotTaken) as exc:
                if person is None:
                    errors.add_to_form(form, exc, field="start")
                else:
                    local = data["start"].astimezone(data["service"].partner.zone)
                    form.add_error(
                        "start",
                        _(
                            "%(refusal)s %(time)s on %(date)s (%(zone)s) is not a free time of %(name)s."
                        )
                        % {
                            "refusal": str(exc),
                            "time": local.strftime("%H:%M"),
                            "date": local.strftime("%Y-%m-%d"),
                            "zone": local.tzinfo,
                            "name": person.name,
                        },
                    )
            except (services.BookingError, ValidationError) as exc:
                errors.add_to_form(form, exc, field="start")
            else:
                self.log_addition(
                    request,
                    booking,
                    "Booked by hand in the admin, overriding the rules."
                    if overriding
                    else "Booked by hand in the admin.",
                )
                self.message_user(
                    request,
                    _("The booking was created and the customer notified.")
                    if booking.customer_email
                    else _(
                        "The booking was created. The customer has no email address: no "
                        "emails are sent to them, tell them the time yourself."
                    ),
                    messages.SUCCESS,
                )
                return HttpResponseRedirect(
                    reverse("admin:booking_booking_change", args=[booking.pk])
                )
        return self._render(
            request,
            "admin/booking/booking/add.html",
            {
                "title": _("Add booking"),
                "form": form,
                "free": free,
                "query": query,
                "time_links": time_links,
            },
        )

    def _free_times(self, query: FreeTimesForm, start: str) -> FreeTimes | None:
        """The free starts the query asks for: its date, or the posted start's date."""
        if not query.is_bound or not query.is_valid():
            return None
        service, person, day = (query.cleaned_data[k] for k in ("service", "staff", "day"))
        if day is None:
            try:
                day = LocalDateTimeField().clean(start).date() if start else None
            except ValidationError:
                day = None
        if day is None:
            return None
        zone = service.partner.zone
        try:
            times = selectors.free_starts_by_local_day(
                service=service, zone=zone, first=day, last=day, now=timezone.now(), staff=person
            )[day]
        except OverflowError:
            return None
        who = person.name if person is not None else _("anyone")
        return FreeTimes(day=day, zone=zone, who=str(who), times=times)

    # --- actions ------------------------------------------------------------------------------

    @admin.action(description=_("Cancel selected bookings…"), permissions=["cancel"])
    def cancel_selected(
        self, request: HttpRequest, queryset: QuerySet[Booking]
    ) -> HttpResponse | None:
        bookings = list(queryset.exclude(status=Booking.Status.CANCELLED))
        form = CancelForm(request.POST if "confirm" in request.POST else None)
        if "confirm" in request.POST and form.is_valid():
            done = 0
            for booking in bookings:
                try:
                    services.booking_cancel(
                        booking=booking, reason=form.cleaned_data["reason"], actor=_actor(request)
                    )
                except services.ChangeNotAllowed:
                    continue
                self.log_change(request, booking, "Cancelled by the partner.")
                done += 1
            self.message_user(
                request,
                ngettext(
                    "Cancelled %(count)d booking; the customer was notified.",
                    "Cancelled %(count)d bookings; the customers were notified.",
                    done,
                )
                % {"count": done},
                messages.SUCCESS,
            )
            return None
        return self._render(
            request,
            "admin/booking/booking/cancel.html",
            {
                "title": _("Cancel bookings"),
                "bookings": bookings,
                "form": form,
                "bulk": True,
                "action_checkbox_name": helpers.ACTION_CHECKBOX_NAME,
            },
        )

    @admin.action(description=_("Export selected bookings as CSV"), permissions=["view"])
    def export_selected_csv(
        self, request: HttpRequest, queryset: QuerySet[Booking]
    ) -> HttpResponse:
        return self._csv(request, queryset.order_by("start", "pk"), view="export_selected")

    def export_view(self, request: HttpRequest) -> HttpResponse:
        """All bookings in the user's scope as CSV (platform staff: ?partner=<id> for one)."""
        if not self.has_view_permission(request):
            raise PermissionDenied
        queryset = self.get_queryset(request)
        wanted = request.GET.get("partner", "")
        if request_scope(request).kind != PARTNER and wanted:
            partner_id = parse_id(wanted)
            if partner_id is None:  # never "all partners" for a typo
                return admin_bad_request(
                    request,
                    self.admin_site,
                    [_("Choose a partner from the list.")],
                    back_url=reverse("admin:booking_booking_changelist"),
                )
            queryset = queryset.filter(partner_id=partner_id)
        return self._csv(request, queryset.order_by("start", "pk"), view="export")

    def _csv(self, request: HttpRequest, bookings: Iterable[Booking], *, view: str) -> HttpResponse:
        access = customer_access(request)
        rows = list(bookings)
        response = HttpResponse(content_type="text/csv; charset=utf-8")
        stamp = timezone.now().strftime("%Y%m%d-%H%M")
        response["Content-Disposition"] = f'attachment; filename="bookings-{stamp}.csv"'
        writer = csv_writer(response)
        writer.writerow(
            [
                "id",
                "partner",
                "service",
                "start",
                "end",
                "time_zone",
                "status",
                "customer_name",
                "customer_email",
                "customer_phone",
                "notes",
                "created_at",
                "cancelled_at",
                "cancellation_reason",
                "staff",
                "resource",
            ]
        )
        for booking in rows:
            writer.writerow(
                [
                    csv_safe(v)
                    for v in (
                        booking.pk,
                        booking.partner.name,
                        booking.service.name,
                        _local(booking, "start"),
                        _local(booking, "end"),
                        booking.partner.time_zone,
                        booking.status,
                        access.value(booking, "customer_name"),
                        access.value(booking, "customer_email"),
                        access.value(booking, "customer_phone"),
                        access.value(booking, "notes"),
                        # In the partner's zone like start and end (the offset says which).
                        booking.created_at.astimezone(booking.partner.zone).isoformat(),
                        booking.cancelled_at.astimezone(booking.partner.zone).isoformat()
                        if booking.cancelled_at
                        else "",
                        booking.cancellation_reason,
                        booking.staff.name,
                        booking.resource.name if booking.resource else "",
                    )
                ]
            )
        ids = [b.pk for b in rows]
        record_event(
            event_type=BookingEvent.DATA_EXPORT,
            actor=request.user,
            ip=client_ip(request),
            target=f"booking:{','.join(map(str, ids))}"[:500],
            detail={
                "view": view,
                "rows": len(ids),
                "booking_ids": ids,
                "partner_ids": sorted({b.partner_id for b in rows}),
                "masked": sorted(
                    {b.partner_id for b in rows if access.mode(b.partner_id) == MASKED}
                ),
            },
        )
        access.audit(view=view, bookings=rows)
        return response
