"""Admin screens for a partner's set-up: profile with weekly hours, services, date overrides."""

from __future__ import annotations

import zoneinfo
from typing import Any

from django import forms
from django.contrib import admin, messages
from django.db import models
from django.http import HttpRequest, HttpResponse, HttpResponseRedirect
from django.urls import path, reverse
from django.utils import timezone
from django.utils.decorators import method_decorator
from django.utils.translation import gettext_lazy as _
from django.views.decorators.http import require_http_methods

from booking.admin.scoping import (
    ALL,
    PartnerScopedAdmin,
    PartnerScopedInline,
    ScopedRelatedFilter,
    SummaryInline,
    request_scope,
)
from booking.hours import HoursLeaveBookingsOutside, date_override_delete
from booking.models import (
    DateOverride,
    DateOverrideRange,
    OpeningHours,
    Partner,
    Service,
    ServiceTranslation,
)
from booking.reminders import reminders_replan
from security.actors import Actor, Via

PROFILE_FIELDS = (
    "name",
    "time_zone",
    "contact_email",
    "address",
    "phone",
    "privacy_notice_url",
    "cancellation_cutoff_hours",
    "widget_origins",
    "retention_months",
)


class OpeningHoursInline(SummaryInline):
    """The weekly hours, read here; written on the weekly hours editor (link above the form),
    which shows the bookings new hours leave out before saving."""

    model = OpeningHours
    fields = ("weekday", "start", "end")
    verbose_name_plural = _('Opening hours (change them with "Weekly hours" above)')


@admin.register(Partner)
class PartnerAdmin(PartnerScopedAdmin):
    partner_field = ""
    list_display = ("name", "slug", "time_zone", "contact_email")
    search_fields = ("name", "slug")
    inlines = (OpeningHoursInline,)
    # The privacy notice link: typed without a scheme, it means https (and only https is valid).
    formfield_overrides = {models.URLField: {"assume_scheme": "https"}}

    def get_fields(self, request: HttpRequest, obj: Any = None) -> Any:
        if request_scope(request).is_partner:
            return PROFILE_FIELDS  # their own profile: no slug (public URLs), no dates
        return ("name", "slug", *PROFILE_FIELDS[1:], "created_at")

    def get_list_display(self, request: HttpRequest) -> Any:
        return (
            ("name", "time_zone", "contact_email")
            if request_scope(request).is_partner
            else self.list_display
        )

    def formfield_for_dbfield(self, db_field: Any, request: HttpRequest, **kwargs: Any) -> Any:
        if db_field.name == "time_zone":
            # Chosen from the IANA zones, not typed (the model's validator still checks it).
            return forms.ChoiceField(
                label=_("Time zone"),
                choices=[(zone, zone) for zone in sorted(zoneinfo.available_timezones())],
                help_text=_(
                    "Every time in the workspace and in the customers' emails is shown in it."
                ),
            )
        return super().formfield_for_dbfield(db_field, request, **kwargs)

    change_form_template = "admin/booking/partner/change_form.html"

    def get_urls(self) -> list[Any]:
        from booking.admin.deletion import delete_account_view

        @require_http_methods(["GET", "HEAD", "POST"])
        def view(request: HttpRequest, object_id: str) -> HttpResponse:
            return delete_account_view(self, request, object_id)

        from booking.admin.hours import hours_view

        @require_http_methods(["GET", "HEAD", "POST"])
        def hours(request: HttpRequest) -> HttpResponse:
            return hours_view(self, request)

        return [
            # Before the change view's <path:object_id>/, which would take "hours" for an id.
            path("hours/", self.admin_site.admin_view(hours), name="booking_partner_hours"),
            path(
                "<path:object_id>/delete-account/",
                self.admin_site.admin_view(view),
                name="booking_partner_delete_account",
            ),
            *super().get_urls(),
        ]

    def change_view(
        self,
        request: HttpRequest,
        object_id: str,
        form_url: str = "",
        extra_context: dict[str, Any] | None = None,
    ) -> HttpResponse:
        # Only the owner deletes the account (C25), from their own profile.
        scope = request_scope(request)
        extra = {
            **(extra_context or {}),
            "can_delete_account": scope.is_owner and str(scope.partner_id) == str(object_id),
        }
        return super().change_view(request, object_id, form_url, extra)

    def has_add_permission(self, request: HttpRequest) -> bool:
        # Partners are created by the platform, never by a partner's user.
        return request_scope(request).kind == ALL and super().has_add_permission(request)

    def has_delete_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return request_scope(request).kind == ALL and super().has_delete_permission(request, obj)


class ServiceTranslationInline(PartnerScopedInline):
    """The service's name and description in the other languages; where a language has none,
    customers reading it see the default name and description above."""

    model = ServiceTranslation
    extra = 0
    fields = ("language", "name", "description")


@admin.register(Service)
class ServiceAdmin(PartnerScopedAdmin):
    list_display = ("name", "partner", "duration_minutes", "price", "currency", "is_active")
    list_filter = ("is_active", ("partner", ScopedRelatedFilter))
    search_fields = ("name", "slug")
    prepopulated_fields = {"slug": ("name",)}
    fields = (
        "partner",
        "name",
        "slug",
        "description",
        "duration_minutes",
        "price",
        "currency",
        "buffer_before_minutes",
        "buffer_after_minutes",
        "min_notice_minutes",
        "horizon_days",
        "slot_interval_minutes",
        "staff_choice",
        "required_resource_kind",
        "reminder_hours",
        "second_reminder_hours",
        "is_active",
    )
    inlines = (ServiceTranslationInline,)

    def get_queryset(self, request: HttpRequest) -> Any:
        return super().get_queryset(request).select_related("partner")

    def save_model(self, request: HttpRequest, obj: Any, form: Any, change: bool) -> None:
        super().save_model(request, obj, form, change)
        if change and {"reminder_hours", "second_reminder_hours"} & set(form.changed_data):
            # The unsent reminders of its bookings ahead follow the new lead times.
            reminders_replan(service=obj, now=timezone.now())


class DateOverrideRangeInline(SummaryInline):
    model = DateOverrideRange
    fields = ("start", "end")
    verbose_name_plural = _("Open on this day (no ranges: closed all day)")


@admin.register(DateOverride)
class DateOverrideAdmin(PartnerScopedAdmin):
    """Special hours of one date: set on the page that shows first the bookings they leave out
    (booking.admin.hours.override_view, the add page), read here. Setting a date again
    replaces its hours; removing them goes through booking.hours.date_override_delete."""

    list_display = ("date", "partner", "note")
    list_filter = (("partner", ScopedRelatedFilter),)
    search_fields = ("note",)
    fields = ("partner", "date", "note")
    readonly_fields = fields
    inlines = (DateOverrideRangeInline,)

    def get_queryset(self, request: HttpRequest) -> Any:
        return super().get_queryset(request).select_related("partner")

    @method_decorator(require_http_methods(["GET", "HEAD", "POST"]))
    def add_view(
        self, request: HttpRequest, form_url: str = "", extra_context: Any = None
    ) -> HttpResponse:
        from booking.admin.hours import override_view

        return override_view(self, request)

    def get_actions(self, request: HttpRequest) -> Any:
        # One at a time, from its page: a removal may be refused (bookings left outside).
        actions = super().get_actions(request)
        actions.pop("delete_selected", None)
        return actions

    @method_decorator(require_http_methods(["GET", "HEAD", "POST"]))
    def delete_view(
        self, request: HttpRequest, object_id: str, extra_context: Any = None
    ) -> HttpResponse:
        try:
            return super().delete_view(request, object_id, extra_context)
        except HoursLeaveBookingsOutside as exc:
            messages.error(request, exc.messages[0])
            override = self.get_object(request, object_id)
            day = f"&day={override.date:%Y-%m-%d}" if override is not None else ""
            partner = f"?partner={override.partner_id}" if override is not None else "?"
            return HttpResponseRedirect(reverse("admin:booking_dateoverride_add") + partner + day)

    def delete_model(self, request: HttpRequest, obj: DateOverride) -> None:
        date_override_delete(override=obj, actor=Actor.from_request(request, via=Via.ADMIN))
