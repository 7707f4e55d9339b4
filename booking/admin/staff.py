"""Admin screens for a partner's staff members (weekly hours, absences, the services they
perform) and resources (with their absences), scoped like every partner admin (scoping.py).

Absences are typed and shown as wall-clock times in the partner's zone, which the form names;
they are stored as instants. A staff member's login must be a member of the same business: the
choices offer only those, and the model's clean() refuses any other id that is posted."""

from __future__ import annotations

from datetime import datetime
from typing import Any
from zoneinfo import ZoneInfo

from django import forms
from django.contrib import admin
from django.contrib.auth import get_user_model
from django.http import HttpRequest
from django.utils.translation import gettext_lazy as _

from booking.admin.forms import LocalDateTimeField, local_to_aware
from booking.admin.scoping import (
    ALL,
    PARTNER,
    PartnerScopedAdmin,
    PartnerScopedInline,
    ScopedRelatedFilter,
    SummaryInline,
    request_scope,
)
from booking.closures import absence_delete
from booking.models import (
    Partner,
    Resource,
    ResourceAbsence,
    ServiceStaff,
    StaffAbsence,
    StaffHours,
    StaffMember,
)
from security.actors import Actor, Via


class AbsenceForm(forms.ModelForm):
    """An absence in the partner's wall-clock time; `zone` is set by the inline (see
    AbsenceInline.get_formset)."""

    zone: ZoneInfo = ZoneInfo("UTC")
    starts_at = LocalDateTimeField(label=_("From"))
    ends_at = LocalDateTimeField(label=_("Until"))

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        for name in ("starts_at", "ends_at"):
            value = getattr(self.instance, name, None)
            if value is not None:
                self.initial[name] = value.astimezone(self.zone).replace(tzinfo=None)
            self.fields[name].help_text = _("Local time in %(zone)s.") % {"zone": self.zone.key}

    def clean_starts_at(self) -> datetime:
        return local_to_aware(self.cleaned_data["starts_at"], self.zone)

    def clean_ends_at(self) -> datetime:
        return local_to_aware(self.cleaned_data["ends_at"], self.zone)


class AbsenceInline(PartnerScopedInline):
    extra = 0
    fields = ("starts_at", "ends_at", "note")
    form = AbsenceForm

    def partner_of(self, obj: Any) -> Partner | None:
        return getattr(obj, "partner", None)

    def get_formset(self, request: HttpRequest, obj: Any = None, **kwargs: Any) -> Any:
        partner = self.partner_of(obj) or request_scope(request).partner
        zone = partner.zone if partner is not None else ZoneInfo("UTC")
        form = type("ZonedAbsenceForm", (self.form,), {"zone": zone})
        # The admin makes inline instances per request: naming the zone here names it once.
        self.verbose_name_plural = _("%(absences)s (times in %(zone)s)") % {
            "absences": self.model._meta.verbose_name_plural,
            "zone": zone.key,
        }
        return super().get_formset(request, obj, form=form, **kwargs)


class StaffHoursInline(SummaryInline):
    """The person's weekly hours, read here; written on the weekly hours editor (link above the
    form), which shows the bookings new hours leave out before saving."""

    model = StaffHours
    fields = ("weekday", "start", "end")

    def get_formset(self, request: HttpRequest, obj: Any = None, **kwargs: Any) -> Any:
        partner = getattr(obj, "partner", None) or request_scope(request).partner
        where = partner.time_zone if partner is not None else _("the partner's time zone")
        # Per request, like the absences' heading (the admin makes inline instances per request).
        self.verbose_name_plural = _(
            'Weekly hours (times in %(zone)s; change them with "Weekly hours" above)'
        ) % {"zone": where}
        return super().get_formset(request, obj, **kwargs)


class ServiceStaffForm(forms.ModelForm):
    def clean(self) -> dict[str, Any]:
        data = super().clean() or {}
        # The model's clean() cannot see a person being added (no id yet); the inline's parent
        # is known here. Partner users only ever get their own services; this is for platform
        # staff, who see every partner's.
        service, staff = data.get("service"), data.get("staff")
        if service is not None and staff is not None and staff.partner_id != service.partner_id:
            self.add_error("service", _("This service belongs to another business."))
        return data


class ServiceStaffInline(PartnerScopedInline):
    model = ServiceStaff
    form = ServiceStaffForm
    extra = 0
    fields = ("service", "duration_minutes")
    verbose_name_plural = _("Services this person performs")


class StaffAbsenceInline(SummaryInline):
    """The person's absences, read here (in the partner's zone, named); entered on the "Away over
    dates" page (link above the form), which shows the bookings they cover before saving.
    Removing one goes through closures.absence_delete (StaffMemberAdmin.save_formset)."""

    model = StaffAbsence
    fields = ("local_from", "local_until", "note")
    readonly_fields = fields
    can_delete = True

    def has_delete_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return admin.TabularInline.has_delete_permission(self, request, obj)

    def get_formset(self, request: HttpRequest, obj: Any = None, **kwargs: Any) -> Any:
        partner = getattr(obj, "partner", None) or request_scope(request).partner
        self.zone = partner.zone if partner is not None else ZoneInfo("UTC")
        self.verbose_name_plural = _(
            'Absences (times in %(zone)s; enter them with "Away over dates" above)'
        ) % {"zone": self.zone.key}
        return super().get_formset(request, obj, **kwargs)

    @admin.display(description=_("From"))
    def local_from(self, obj: StaffAbsence) -> str:
        return f"{obj.starts_at.astimezone(self.zone):%Y-%m-%d %H:%M}"

    @admin.display(description=_("Until"))
    def local_until(self, obj: StaffAbsence) -> str:
        return f"{obj.ends_at.astimezone(self.zone):%Y-%m-%d %H:%M}"


class _AbsenceInlines:
    """Absences on the add page only where the zone is known: a partner user's own partner. A
    superuser adding a person or resource picks the partner in the same form, so the absences
    come after the first save."""

    absence_inline: type[PartnerScopedInline]

    def get_inlines(self, request: HttpRequest, obj: Any = None) -> Any:
        inlines = list(super().get_inlines(request, obj))  # type: ignore[misc]  # a mixin: the admin after it in the MRO has it
        scope = request_scope(request)
        if obj is None and scope.kind != PARTNER:
            inlines = [i for i in inlines if i is not self.absence_inline]
        return inlines


class StaffMemberForm(forms.ModelForm):
    class Meta:
        model = StaffMember
        fields = (
            "partner",
            "name",
            "user",
            "is_active",
            "works_opening_hours",
            "display_order",
            "colour",
        )
        widgets = {"colour": forms.TextInput(attrs={"type": "color"})}
        labels = {"user": _("Login")}
        help_texts = {
            "user": _("Optional: a login of this business; it then sees this person's bookings.")
        }


@admin.register(StaffMember)
class StaffMemberAdmin(_AbsenceInlines, PartnerScopedAdmin):
    form = StaffMemberForm
    list_display = ("name", "partner", "login", "is_active", "display_order")
    list_filter = ("is_active", ("partner", ScopedRelatedFilter))
    search_fields = ("name",)
    fields = StaffMemberForm.Meta.fields
    inlines = (StaffHoursInline, ServiceStaffInline, StaffAbsenceInline)
    absence_inline = StaffAbsenceInline

    def get_queryset(self, request: HttpRequest) -> Any:
        return super().get_queryset(request).select_related("partner", "user")

    @admin.display(description=_("login"), ordering="user__email")
    def login(self, obj: StaffMember) -> str:
        return str(obj.user) if obj.user_id else "–"

    def formfield_for_foreignkey(self, db_field: Any, request: HttpRequest, **kwargs: Any) -> Any:
        if db_field.name == "user":
            # Logins of the business only (the model's clean() checks the partner chosen by a
            # superuser); never the platform's staff or another business's people.
            scope = request_scope(request)
            users = get_user_model().objects.filter(membership__isnull=False)
            if scope.kind == PARTNER and scope.partner is not None:
                users = users.filter(membership__partner=scope.partner)
            elif scope.kind != ALL:
                users = users.none()
            kwargs["queryset"] = users.order_by("email")
        return super().formfield_for_foreignkey(db_field, request, **kwargs)

    def save_formset(self, request: HttpRequest, form: Any, formset: Any, change: bool) -> None:
        if formset.model is not StaffAbsence:
            super().save_formset(request, form, formset, change)
            return
        # Only removals reach here (the rows are read-only); each through its service.
        formset.save(commit=False)
        actor = Actor.from_request(request, via=Via.ADMIN)
        for absence in formset.deleted_objects:
            absence_delete(absence=absence, actor=actor)


class ResourceAbsenceInline(AbsenceInline):
    model = ResourceAbsence


@admin.register(Resource)
class ResourceAdmin(_AbsenceInlines, PartnerScopedAdmin):
    list_display = ("name", "kind", "partner", "is_active")
    list_filter = ("is_active", ("partner", ScopedRelatedFilter))
    search_fields = ("name", "kind")
    fields = ("partner", "name", "kind", "is_active")
    inlines = (ResourceAbsenceInline,)
    absence_inline = ResourceAbsenceInline

    def get_queryset(self, request: HttpRequest) -> Any:
        return super().get_queryset(request).select_related("partner")
