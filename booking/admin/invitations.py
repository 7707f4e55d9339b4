"""Invitations in the workspace: the partner's owners (and superusers) invite people by email,
see the pending invitations, revoke them or send them again (booking.invitations does the
writes). Members and support staff have no invitation permission (booking/roles.py): the pages
answer them 403.

The add page is the admin's own view replaced by a small form: an invitation is never edited,
and the service's refusals (too many emails, a pending invitation of the address) must come back
as form errors, which the admin's save_model cannot give."""

from __future__ import annotations

from typing import Any, cast

from django import forms
from django.contrib import admin, messages
from django.core.exceptions import PermissionDenied, ValidationError
from django.db.models import QuerySet
from django.http import HttpRequest, HttpResponse, HttpResponseRedirect
from django.template.response import TemplateResponse
from django.urls import reverse
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy, ngettext

from booking.admin.scoping import (
    ALL,
    PartnerScopedAdmin,
    ScopedRelatedFilter,
    request_scope,
    scope_queryset,
)
from booking.admin.zone import zoned_field
from booking.invitations import (
    ROLE_LABELS,
    invitation_create,
    invitation_resend,
    invitation_revoke,
    role_label,
)
from booking.models import Invitation, InvitationStatus, Partner, StaffMember
from security.actors import Actor, Via


class InviteForm(forms.Form):
    partner = forms.ModelChoiceField(
        label=gettext_lazy("Business"), queryset=Partner.objects.order_by("name")
    )
    email = forms.EmailField(label=gettext_lazy("Email address"), max_length=254)
    role = forms.ChoiceField(
        label=gettext_lazy("Role"),
        choices=list(ROLE_LABELS.items()),
        initial="member",
        help_text=gettext_lazy(
            "An owner manages the business, its team and its invitations; a team member works "
            "with the bookings and services."
        ),
    )
    staff_member = forms.ModelChoiceField(
        label=gettext_lazy("Staff member"),
        queryset=StaffMember.objects.none(),
        required=False,
        help_text=gettext_lazy(
            "Optional, for a team member: the person of your team whose login this will be "
            "(they then see their own bookings only)."
        ),
    )

    def __init__(self, *args: Any, request: HttpRequest, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        scope = request_scope(request)
        people = StaffMember.objects.filter(user__isnull=True).select_related("partner")
        cast(forms.ModelChoiceField, self.fields["staff_member"]).queryset = scope_queryset(
            request, people
        )
        if scope.is_partner:
            del self.fields["partner"]  # the owner's own business, whatever is posted
        self.own_partner = scope.partner

    def clean(self) -> dict[str, Any]:
        cleaned = super().clean() or {}
        if cleaned.get("staff_member") is not None and cleaned.get("role") != "member":
            self.add_error(
                "staff_member", _("Only a team member can be the login of a staff member.")
            )
        return cleaned


def _as_form_errors(form: forms.Form, error: ValidationError) -> None:
    if hasattr(error, "error_dict"):
        for field, errors in error.error_dict.items():
            form.add_error(field if field in form.fields else None, errors)
    else:
        form.add_error(None, error)


@admin.register(Invitation)
class InvitationAdmin(PartnerScopedAdmin):
    list_display = ("email", "partner", "role_shown", "staff_member", "state", "expires_local")
    list_filter = (("partner", ScopedRelatedFilter), "status")
    list_select_related = ("partner", "staff_member")
    actions = ("resend_selected", "revoke_selected")
    fields = (
        "partner",
        "email",
        "role_shown",
        "staff_member",
        "state",
        "invited_by",
        "created_local",
        "sent_local",
        "expires_local",
        "finished_local",
    )
    readonly_fields = fields
    created_local = zoned_field("created_at", gettext_lazy("created"))
    sent_local = zoned_field("sent_at", gettext_lazy("last sent"))
    expires_local = zoned_field("expires_at", gettext_lazy("link valid until"))
    finished_local = zoned_field("finished_at", gettext_lazy("accepted or revoked"))

    def get_queryset(self, request: HttpRequest) -> QuerySet[Any]:
        queryset = super().get_queryset(request)
        scope = request_scope(request)
        # Owners only among partner users (members hold no permission either).
        return queryset if scope.kind == ALL or scope.is_owner else queryset.none()

    @admin.display(description=gettext_lazy("role"), ordering="role")
    def role_shown(self, obj: Invitation) -> str:
        return role_label(obj.role)

    @admin.display(description=gettext_lazy("status"))
    def state(self, obj: Invitation) -> str:
        if obj.status == InvitationStatus.PENDING and obj.is_expired():
            return _("Expired")
        if obj.status == InvitationStatus.PENDING and not obj.token_hash:
            return _("Pending (email being sent)")
        return str(InvitationStatus(obj.status).label)

    def _may_invite(self, request: HttpRequest) -> bool:
        scope = request_scope(request)
        return scope.kind == ALL or scope.is_owner

    def has_add_permission(self, request: HttpRequest) -> bool:
        return self._may_invite(request) and super().has_add_permission(request)

    def has_change_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        # Never edited: the detail page is read-only; revoking and re-sending are actions.
        return obj is None and super().has_change_permission(request, obj)

    def has_delete_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False  # revoked instead: an invitation is part of the audit trail

    def has_invite_permission(self, request: HttpRequest) -> bool:
        return self._may_invite(request) and request.user.has_perm("booking.change_invitation")

    def add_view(
        self, request: HttpRequest, form_url: str = "", extra_context: dict[str, Any] | None = None
    ) -> HttpResponse:
        if not self.has_add_permission(request):
            raise PermissionDenied
        form = InviteForm(request.POST or None, request=request)
        if request.method == "POST" and form.is_valid():
            partner = form.own_partner or form.cleaned_data["partner"]
            try:
                invitation = invitation_create(
                    partner=partner,
                    email=form.cleaned_data["email"],
                    role=form.cleaned_data["role"],
                    staff_member=form.cleaned_data["staff_member"],
                    actor=Actor.from_request(request, via=Via.ADMIN),
                )
            except ValidationError as error:
                _as_form_errors(form, error)
            else:
                self.message_user(
                    request,
                    _("The invitation to %(email)s is on its way; its link works for 72 hours.")
                    % {"email": invitation.email},
                    messages.SUCCESS,
                )
                return HttpResponseRedirect(reverse("admin:booking_invitation_changelist"))
        context = {
            **self.admin_site.each_context(request),
            "title": _("Invite someone"),
            "opts": self.opts,
            "form": form,
            **(extra_context or {}),
        }
        return TemplateResponse(
            request,
            "admin/booking/invitation/invite.html",
            context,
            status=400 if request.method == "POST" else 200,
        )

    @admin.action(description=gettext_lazy("Send again (new link)"), permissions=["invite"])
    def resend_selected(self, request: HttpRequest, queryset: QuerySet[Invitation]) -> None:
        actor = Actor.from_request(request, via=Via.ADMIN)
        try:
            sent = sum(
                invitation_resend(invitation=invitation, actor=actor)
                for invitation in queryset.select_related("partner")
            )
        except ValidationError as error:
            self.message_user(request, " ".join(error.messages), messages.ERROR)
            return
        self.message_user(
            request,
            ngettext(
                "Sent %(count)d invitation again; its older link no longer works.",
                "Sent %(count)d invitations again; their older links no longer work.",
                sent,
            )
            % {"count": sent},
            messages.SUCCESS,
        )

    @admin.action(description=gettext_lazy("Revoke selected invitations"), permissions=["invite"])
    def revoke_selected(self, request: HttpRequest, queryset: QuerySet[Invitation]) -> None:
        actor = Actor.from_request(request, via=Via.ADMIN)
        now = timezone.now()
        revoked = sum(
            invitation_revoke(invitation=invitation, actor=actor, now=now)
            for invitation in queryset.select_related("partner")
        )
        self.message_user(
            request,
            ngettext("Revoked %(count)d invitation.", "Revoked %(count)d invitations.", revoked)
            % {"count": revoked},
            messages.SUCCESS,
        )
