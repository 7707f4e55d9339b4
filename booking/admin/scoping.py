"""Least privilege in the admin (C15), written once.

Every admin of partner data derives from `PartnerScopedAdmin` (or `PartnerScopedInline`), which
limits to the request's scope everything the admin can reach: querysets (and with them change,
delete and history pages, ids typed into URLs, bulk actions and autocomplete, which goes through
the target admin's `get_queryset`), foreign-key and many-to-many choices, related list filters and
search results. Saving attaches the user's own partner, whatever the form posted.

Scopes: a superuser sees all; a partner user (PartnerMembership) sees their partner (a member
who is the login of staff members sees only those people's bookings); support
staff (group Support, no membership) see all partners with customer data masked (support.py);
any other staff user sees nothing. What each role may do is decided by its group's permissions
(booking/roles.py), never in templates.
"""

from __future__ import annotations

import enum
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from django import forms
from django.contrib import admin
from django.contrib.admin.utils import unquote
from django.db import models
from django.db.models import QuerySet
from django.http import Http404, HttpRequest, HttpResponse

from booking.models import Booking, Partner, PartnerMembership, StaffMember
from booking.support_access import is_support_user

if TYPE_CHECKING:
    from django.utils.functional import _StrPromise


class ScopeKind(enum.Enum):
    """What a request may see. A plain Enum, not a string: comparing a kind with a string is
    always False (and mypy's strict equality reports it), so a typo cannot pass silently."""

    ALL = "all"  # superusers
    PARTNER = "partner"  # a partner's owner or member: that partner only
    SUPPORT = "support"  # platform support: all partners, customer data masked
    NOTHING = "nothing"  # any other staff user


ALL, PARTNER, SUPPORT, NOTHING = (
    ScopeKind.ALL,
    ScopeKind.PARTNER,
    ScopeKind.SUPPORT,
    ScopeKind.NOTHING,
)

# How each model of partner data reaches its partner's id.
PARTNER_PATHS: dict[str, str] = {
    "partner": "pk",
    "service": "partner_id",
    "servicetranslation": "service__partner_id",
    "openinghours": "partner_id",
    "dateoverride": "partner_id",
    "dateoverriderange": "override__partner_id",
    "closure": "partner_id",
    "booking": "partner_id",
    "bookingreminder": "booking__partner_id",
    "supportgrant": "partner_id",
    "staffmember": "partner_id",
    "staffhours": "staff__partner_id",
    "staffabsence": "staff__partner_id",
    "servicestaff": "staff__partner_id",
    "resource": "partner_id",
    "resourceabsence": "resource__partner_id",
    "customer": "partner_id",
    "invitation": "partner_id",
}


@dataclass(frozen=True)
class Scope:
    kind: ScopeKind
    partner: Partner | None = None
    role: str = ""
    # A member who is the login of staff members: their ids. Such a member sees those people's
    # bookings only; owners, and members who are nobody's login (a front desk), see all.
    own_staff_ids: frozenset[int] = frozenset()

    @property
    def partner_id(self) -> int | None:
        return self.partner.pk if self.partner else None

    @property
    def is_partner(self) -> bool:
        return self.kind == PARTNER

    @property
    def own_bookings_only(self) -> bool:
        return self.kind == PARTNER and bool(self.own_staff_ids)

    @property
    def is_owner(self) -> bool:
        return self.kind == PARTNER and self.role == PartnerMembership.Role.OWNER


def request_scope(request: HttpRequest) -> Scope:
    """The request's scope, worked out once per request (one or two queries)."""
    cached = getattr(request, "_booking_scope", None)
    if isinstance(cached, Scope):
        return cached
    user = request.user
    if not (user.is_authenticated and user.is_active and user.is_staff):
        scope = Scope(NOTHING)
    elif user.is_superuser:
        scope = Scope(ALL)
    else:
        membership = PartnerMembership.objects.select_related("partner").filter(user=user).first()
        if membership is not None:
            own: frozenset[int] = frozenset()
            if membership.role != PartnerMembership.Role.OWNER:
                own = frozenset(
                    StaffMember.objects.filter(
                        partner_id=membership.partner_id, user=user
                    ).values_list("pk", flat=True)
                )
            scope = Scope(PARTNER, membership.partner, membership.role, own)
        elif is_support_user(user):
            scope = Scope(SUPPORT)
        else:
            scope = Scope(NOTHING)
    request._booking_scope = scope  # type: ignore[attr-defined]  # a per-request cache the stubs do not know
    return scope


def scope_queryset(request: HttpRequest, queryset: QuerySet[Any]) -> QuerySet[Any]:
    """`queryset` cut down to what the request's scope may see. Models that are not partner data
    pass through unchanged (their own admins and permissions guard them)."""
    path = PARTNER_PATHS.get(queryset.model._meta.model_name)
    if path is None or queryset.model._meta.app_label != "booking":
        return queryset
    scope = request_scope(request)
    if scope.kind in (ALL, SUPPORT):
        return queryset
    if scope.kind == PARTNER:
        queryset = queryset.filter(**{path: scope.partner_id})
        if scope.own_bookings_only and queryset.model is Booking:
            queryset = queryset.filter(staff_id__in=scope.own_staff_ids)
        return queryset
    return queryset.none()


def in_scope(request: HttpRequest, obj: models.Model) -> bool:
    scope = request_scope(request)
    if scope.kind in (ALL, SUPPORT):
        return True
    if scope.kind == NOTHING:
        return False
    path = PARTNER_PATHS.get(obj._meta.model_name or "")
    if path == "pk":
        return bool(obj.pk == scope.partner_id)
    if path == "partner_id" and not isinstance(obj, Booking):
        return bool(getattr(obj, "partner_id", None) == scope.partner_id)
    return scope_queryset(request, type(obj)._default_manager.filter(pk=obj.pk)).exists()


class ScopedRelatedFilter(admin.RelatedFieldListFilter):
    """A related list filter offering only the objects of the user's own scope."""

    def field_choices(
        self, field: Any, request: HttpRequest, model_admin: admin.ModelAdmin
    ) -> list[tuple[Any, str | _StrPromise]]:
        related = field.related_model
        queryset = scope_queryset(request, related._default_manager.all())
        if any(f.name == "partner" for f in related._meta.fields):
            queryset = queryset.select_related("partner")
        ordering = (
            self.field_admin_ordering(field, request, model_admin)
            or related._meta.ordering
            or ["pk"]
        )
        return [(obj.pk, str(obj)) for obj in queryset.order_by(*ordering)]


class _ScopedFormfields:
    """Foreign-key and many-to-many choices limited to the scope (inlines and admins alike)."""

    def formfield_for_foreignkey(self, db_field: Any, request: HttpRequest, **kwargs: Any) -> Any:
        formfield = super().formfield_for_foreignkey(db_field, request, **kwargs)  # type: ignore[misc]  # a mixin: the admin class after it in the MRO has it
        if formfield is not None and hasattr(formfield, "queryset"):
            formfield.queryset = scope_queryset(request, formfield.queryset)
        return formfield

    def formfield_for_manytomany(self, db_field: Any, request: HttpRequest, **kwargs: Any) -> Any:
        formfield = super().formfield_for_manytomany(db_field, request, **kwargs)  # type: ignore[misc]  # a mixin: the admin class after it in the MRO has it
        if formfield is not None and hasattr(formfield, "queryset"):
            formfield.queryset = scope_queryset(request, formfield.queryset)
        return formfield


class PartnerScopedAdmin(_ScopedFormfields, admin.ModelAdmin):
    """The base of every admin of partner data."""

    # Hidden from partner users (their partner is implied); shown to platform staff.
    partner_field = "partner"

    def get_queryset(self, request: HttpRequest) -> QuerySet[Any]:
        return scope_queryset(request, super().get_queryset(request))

    def get_search_results(
        self, request: HttpRequest, queryset: QuerySet[Any], search_term: str
    ) -> tuple[QuerySet[Any], bool]:
        # The autocomplete view hands in its own queryset: scope it again rather than trust it.
        results, may_have_duplicates = super().get_search_results(request, queryset, search_term)
        return scope_queryset(request, results), may_have_duplicates

    def get_fields(self, request: HttpRequest, obj: Any = None) -> Any:
        fields = list(super().get_fields(request, obj))
        if request_scope(request).is_partner:
            fields = [f for f in fields if f != self.partner_field]
        return fields

    def get_form(
        self, request: HttpRequest, obj: Any = None, change: bool = False, **kwargs: Any
    ) -> Any:
        form = super().get_form(request, obj, change, **kwargs)
        scope = request_scope(request)
        if not (scope.is_partner and self.partner_field):
            return form
        field, partner = self.partner_field, scope.partner

        class PartnerForm(form):  # type: ignore[misc,valid-type]  # a base chosen at run time
            """The partner is not a form field for partner users, but set on the instance
            before validation, so unique constraints that include it are checked as form
            errors instead of failing in the database."""

            def __init__(self, *args: Any, **kw: Any) -> None:
                super().__init__(*args, **kw)
                setattr(self.instance, field, partner)

            def _get_validation_exclusions(self) -> Any:
                excluded = super()._get_validation_exclusions()
                excluded.discard(field)
                return excluded

        return PartnerForm

    def get_list_display(self, request: HttpRequest) -> Any:
        columns = list(super().get_list_display(request))
        if request_scope(request).is_partner:
            columns = [c for c in columns if c != self.partner_field]
        return columns

    def get_list_filter(self, request: HttpRequest) -> Any:
        filters = list(super().get_list_filter(request))
        if request_scope(request).is_partner:
            filters = [
                f
                for f in filters
                if f != self.partner_field
                and not (isinstance(f, tuple) and f[0] == self.partner_field)
            ]
        return filters

    def has_view_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return super().has_view_permission(request, obj) and (obj is None or in_scope(request, obj))

    def has_change_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return super().has_change_permission(request, obj) and (
            obj is None or in_scope(request, obj)
        )

    def has_delete_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return super().has_delete_permission(request, obj) and (
            obj is None or in_scope(request, obj)
        )

    def save_model(self, request: HttpRequest, obj: Any, form: Any, change: bool) -> None:
        scope = request_scope(request)
        if scope.is_partner and self.partner_field:
            setattr(obj, self.partner_field, scope.partner)
        super().save_model(request, obj, form, change)

    def history_view(
        self, request: HttpRequest, object_id: str, extra_context: Any = None
    ) -> HttpResponse:
        if self.get_object(request, unquote(object_id)) is None:
            raise Http404("No such object.")
        return super().history_view(request, object_id, extra_context)


# Opening hours, a person's hours, an override's ranges: a wall-clock time as HH:MM (the
# browser's time picker, five-minute steps), never HH:MM:SS with a "Now" shortcut that would
# enter the server's time.
HH_MM = {
    models.TimeField: {
        "widget": forms.TimeInput(format="%H:%M", attrs={"type": "time", "step": 300}),
        "input_formats": ["%H:%M"],
    }
}


class PartnerScopedInline(_ScopedFormfields, admin.TabularInline):
    formfield_overrides = HH_MM  # type: ignore[assignment]  # the stubs' value type is narrower

    def get_queryset(self, request: HttpRequest) -> QuerySet[Any]:
        return scope_queryset(request, super().get_queryset(request))


class SummaryInline(PartnerScopedInline):
    """Rows shown on their parent's page but written elsewhere, by the one service of the
    action (the weekly hours editor, the "Away over dates" page), which shows the bookings a
    change leaves out first: no adding or changing them here (a forged row is ignored by the
    admin's formset for lack of the permission)."""

    extra = 0
    can_delete = False

    def has_add_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False

    def has_change_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False

    def has_delete_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False
