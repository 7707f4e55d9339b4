"""Customer data in the admin: masked for support staff without a grant, audited for platform
staff with one (and for superusers), plain for the partner's own users. The decision is made
here once (`customer_access`) and applied by `CustomerDataMixin`; support grants have their
admin screen here too."""

from __future__ import annotations

from collections.abc import Callable, Iterable
from typing import Any

from django import forms
from django.contrib import admin, messages
from django.contrib.auth import get_user_model
from django.core.exceptions import PermissionDenied
from django.db.models import QuerySet
from django.http import HttpRequest
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy, ngettext

from booking import selectors
from booking.admin.scoping import (
    ALL,
    PARTNER,
    SUPPORT,
    PartnerScopedAdmin,
    ScopedRelatedFilter,
    request_scope,
)
from booking.admin.zone import zoned_field
from booking.models import SUPPORT_GRANT_MAX_HOURS, Booking, SupportGrant
from booking.roles import SUPPORT as SUPPORT_GROUP
from booking.support_access import (
    customer_data_viewed,
    mask_email,
    mask_name,
    mask_text,
    support_grant_create,
    support_grant_revoke,
)
from security.client_ip import client_ip
from security.people import clearance_of

PLAIN, AUDITED, MASKED = "plain", "audited", "masked"
CUSTOMER_FIELDS: dict[str, Callable[[str], str]] = {
    "customer_name": mask_name,
    "customer_email": mask_email,
    "customer_phone": mask_text,
    "notes": mask_text,
}


class CustomerAccess:
    """How this request may see each partner's customer data."""

    def __init__(self, request: HttpRequest) -> None:
        self.request = request
        self.scope = request_scope(request)
        self._grants: dict[int, SupportGrant] | None = None

    @property
    def grants(self) -> dict[int, SupportGrant]:
        """The grants this user may use now: none without a current confidentiality agreement
        and training (C15), whatever grants exist."""
        if self._grants is None:
            user_id = self.request.user.pk
            self._grants = (
                selectors.support_grants_active(user_id=user_id, now=timezone.now())
                if self.scope.kind == SUPPORT
                and user_id is not None
                and clearance_of(self.request.user).ok
                else {}
            )
        return self._grants

    def mode(self, partner_id: int) -> str:
        if self.scope.kind == PARTNER:
            return PLAIN if partner_id == self.scope.partner_id else MASKED
        if self.scope.kind == ALL:
            return AUDITED
        if self.scope.kind == SUPPORT and partner_id in self.grants:
            return AUDITED
        return MASKED

    def value(self, booking: Booking, field: str) -> str:
        raw = getattr(booking, field)
        return raw if self.mode(booking.partner_id) != MASKED else CUSTOMER_FIELDS[field](raw)

    def audit(self, *, view: str, bookings: Iterable[Booking]) -> None:
        """The support_access event for the bookings this response showed unmasked to staff."""
        shown = [b for b in bookings if self.mode(b.partner_id) == AUDITED]
        if not shown:
            return
        partner_ids = {b.partner_id for b in shown}
        customer_data_viewed(
            actor=self.request.user,
            ip=client_ip(self.request),
            view=view,
            booking_ids=[b.pk for b in shown],
            grants={pid: self.grants.get(pid) for pid in partner_ids},
        )


def customer_access(request: HttpRequest) -> CustomerAccess:
    cached = getattr(request, "_customer_access", None)
    if cached is None:
        cached = CustomerAccess(request)
        request._customer_access = cached  # type: ignore[attr-defined]  # a per-request cache the stubs do not know
    return cached


def _column(request: HttpRequest, field: str, label: str) -> Callable[[Booking], str]:
    access = customer_access(request)

    def column(booking: Booking) -> str:
        return access.value(booking, field)

    column.short_description = label  # type: ignore[attr-defined]  # the admin reads it off the callable
    column.__name__ = field
    return column


class CustomerDataMixin:
    """For admins of bookings: swaps customer fields for their masked versions where the request
    may not see them, and audits the unmasked views of platform staff."""

    def customer_columns(self, request: HttpRequest) -> list[Callable[[Booking], str]]:
        # Callables, not field names: no sorting by a masked column (the order would leak it).
        return [
            _column(request, "customer_name", "customer"),
            _column(request, "customer_email", "email"),
        ]

    def swap_masked(
        self, request: HttpRequest, obj: Booking | None, names: Iterable[str]
    ) -> list[str]:
        masked = obj is not None and customer_access(request).mode(obj.partner_id) == MASKED
        return [f"{n}_masked" if masked and n in CUSTOMER_FIELDS else n for n in names]

    def get_fields(self, request: HttpRequest, obj: Any = None) -> Any:
        return self.swap_masked(request, obj, super().get_fields(request, obj))  # type: ignore[misc]  # a mixin: the admin class after it in the MRO has it

    def get_readonly_fields(self, request: HttpRequest, obj: Any = None) -> Any:
        return self.swap_masked(request, obj, super().get_readonly_fields(request, obj))  # type: ignore[misc]  # a mixin: the admin class after it in the MRO has it

    @admin.display(description="customer name")
    def customer_name_masked(self, obj: Booking) -> str:
        return mask_name(obj.customer_name)

    @admin.display(description="customer email")
    def customer_email_masked(self, obj: Booking) -> str:
        return mask_email(obj.customer_email)

    @admin.display(description="customer phone")
    def customer_phone_masked(self, obj: Booking) -> str:
        return mask_text(obj.customer_phone)

    @admin.display(description="notes")
    def notes_masked(self, obj: Booking) -> str:
        return mask_text(obj.notes)


# --- Support grants -----------------------------------------------------------------------------


def support_staff() -> QuerySet[Any]:
    return (
        get_user_model()
        .objects.filter(
            is_active=True, is_staff=True, groups__name=SUPPORT_GROUP, membership__isnull=True
        )
        .order_by("email")
    )


class SupportGrantForm(forms.ModelForm):
    hours = forms.IntegerField(
        min_value=1,
        max_value=SUPPORT_GRANT_MAX_HOURS,
        initial=4,
        help_text=_("How long the grant runs, in hours (at most %(hours)d).")
        % {"hours": SUPPORT_GRANT_MAX_HOURS},
    )

    class Meta:
        model = SupportGrant
        fields = ("partner", "granted_to", "reason")

    def clean_granted_to(self) -> Any:
        user = self.cleaned_data.get("granted_to")
        if user is not None:
            problems = clearance_of(user).problems
            if problems:
                raise forms.ValidationError(
                    _("%(user)s cannot be given access: %(problems)s.")
                    % {"user": user, "problems": "; ".join(problems)}
                )
        return user


@admin.register(SupportGrant)
class SupportGrantAdmin(PartnerScopedAdmin):
    """Owners grant support staff access to their own partner's customer data; superusers for
    any partner. Grants are never edited: they run out or are revoked."""

    form = SupportGrantForm
    list_display = ("granted_to", "partner", "reason", "created_local", "expires_local", "status")
    list_filter = (("partner", ScopedRelatedFilter),)
    actions = ("revoke_selected",)
    list_select_related = ("partner", "granted_to")
    created_local = zoned_field("created_at", gettext_lazy("created"))
    expires_local = zoned_field("expires_at", gettext_lazy("expires"))
    revoked_local = zoned_field("revoked_at", gettext_lazy("revoked"))

    def get_queryset(self, request: HttpRequest) -> QuerySet[Any]:
        queryset = (
            super().get_queryset(request).select_related("partner", "granted_to", "granted_by")
        )
        scope = request_scope(request)
        if scope.kind == SUPPORT:
            return queryset.filter(granted_to=request.user)  # their own grants only
        if scope.kind == PARTNER and not scope.is_owner:
            return queryset.none()
        return queryset

    def get_fields(self, request: HttpRequest, obj: Any = None) -> Any:
        if obj is None:
            fields: tuple[str, ...] = ("partner", "granted_to", "reason", "hours")
        else:
            fields = (
                "partner",
                "granted_to",
                "granted_by",
                "reason",
                "created_local",
                "expires_local",
                "revoked_local",
                "status",
            )
        if request_scope(request).is_partner:
            fields = tuple(f for f in fields if f != "partner")
        return fields

    def get_readonly_fields(self, request: HttpRequest, obj: Any = None) -> Any:
        return () if obj is None else self.get_fields(request, obj)

    def formfield_for_foreignkey(self, db_field: Any, request: HttpRequest, **kwargs: Any) -> Any:
        if db_field.name == "granted_to":
            kwargs["queryset"] = support_staff()
        return super().formfield_for_foreignkey(db_field, request, **kwargs)

    @admin.display(description="status")
    def status(self, obj: SupportGrant) -> str:
        if obj.revoked_at:
            return "revoked"
        return "active" if obj.is_active() else "expired"

    def has_add_permission(self, request: HttpRequest) -> bool:
        scope = request_scope(request)
        return (scope.kind == ALL or scope.is_owner) and super().has_add_permission(request)

    def has_change_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        # Grants are immutable: their pages are read-only, revoking is an action.
        return obj is None and super().has_change_permission(request, obj)

    def has_delete_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False  # a grant is part of the audit trail

    def has_revoke_permission(self, request: HttpRequest) -> bool:
        scope = request_scope(request)
        return (scope.kind == ALL or scope.is_owner) and request.user.has_perm(
            "booking.change_supportgrant"
        )

    def save_model(self, request: HttpRequest, obj: SupportGrant, form: Any, change: bool) -> None:
        scope = request_scope(request)
        partner = scope.partner if scope.is_partner else form.cleaned_data["partner"]
        if partner is None:
            raise PermissionDenied  # no partner to grant access to: refuse, never guess
        grant = support_grant_create(
            partner=partner,
            granted_to=form.cleaned_data["granted_to"],
            granted_by=request.user,
            reason=form.cleaned_data["reason"],
            hours=form.cleaned_data["hours"],
            ip=client_ip(request),
        )
        obj.pk, obj.partner, obj.created_at, obj.expires_at = (
            grant.pk,
            grant.partner,
            grant.created_at,
            grant.expires_at,
        )

    @admin.action(description=gettext_lazy("Revoke selected grants"), permissions=["revoke"])
    def revoke_selected(self, request: HttpRequest, queryset: QuerySet[SupportGrant]) -> None:
        revoked = sum(
            support_grant_revoke(grant=grant, revoked_by=request.user, ip=client_ip(request))
            for grant in queryset
        )
        self.message_user(
            request,
            ngettext("Revoked %(count)d grant.", "Revoked %(count)d grants.", revoked)
            % {"count": revoked},
            messages.SUCCESS,
        )
