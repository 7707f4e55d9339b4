"""Closing the business (holidays) or entering a person's absence over a date range, never
silently: the page shows the bookings the days cover first (customer, time in the partner's
zone, service, person, paid or not) and saves nothing until the owner chose to cancel them (each
customer told, paid ones refunded) or to keep them; booking.closures.closure_create does the rest.
Without bookings on those days it saves at once and says so."""

from __future__ import annotations

from typing import Any

from django import forms
from django.contrib import admin, messages
from django.core.exceptions import PermissionDenied, ValidationError
from django.db.models import QuerySet
from django.http import Http404, HttpRequest, HttpResponse, HttpResponseRedirect
from django.template.response import TemplateResponse
from django.urls import reverse
from django.utils import timezone
from django.utils.decorators import method_decorator
from django.utils.translation import gettext_lazy as _
from django.utils.translation import ngettext
from django.views.decorators.http import require_http_methods

from booking.admin.booking_list import paid_through_moves
from booking.admin.scoping import ALL, PartnerScopedAdmin, ScopedRelatedFilter, request_scope
from booking.closures import (
    CoveredChanged,
    CoveredChoice,
    check_range,
    check_times,
    closure_create,
    closure_delete,
    covered_by_range,
)
from booking.i18n import zoned
from booking.models import Booking, Closure, Partner, StaffMember
from security.actors import Actor, Via

WHOLE_BUSINESS = ""


def page_partner(request: HttpRequest, perm: str) -> Partner:
    """The partner a workspace page is about: the user's own (a `partner` parameter naming
    another one is a 404), or for operators the one the parameter names. Then the role's
    permission `perm` (403 without it): another partner's page is a 404 before anything else."""
    scope = request_scope(request)
    asked = request.POST.get("partner") or request.GET.get("partner") or ""
    if asked and not asked.isdigit():
        raise Http404
    if scope.is_partner and scope.partner is not None:
        if asked and int(asked) != scope.partner.pk:
            raise Http404
        partner = scope.partner
    elif scope.kind == ALL or (asked and request.user.has_perm(perm)):
        found = Partner.objects.filter(pk=int(asked)).first() if asked else None
        if found is None:
            raise Http404
        partner = found
    else:
        raise PermissionDenied
    if not request.user.has_perm(perm):
        raise PermissionDenied
    return partner


class ClosureForm(forms.Form):
    who = forms.ChoiceField(label=_("Who is away"), required=False)
    first_day = forms.DateField(
        label=_("First day"), widget=forms.DateInput(attrs={"type": "date"}, format="%Y-%m-%d")
    )
    last_day = forms.DateField(
        label=_("Last day"),
        widget=forms.DateInput(attrs={"type": "date"}, format="%Y-%m-%d"),
        help_text=_("Closed up to and including this day."),
    )
    from_time = forms.TimeField(
        label=_("From (on the first day)"),
        required=False,
        widget=forms.TimeInput(attrs={"type": "time"}, format="%H:%M"),
        help_text=_("A person's absence only; empty: from the start of the day."),
    )
    until_time = forms.TimeField(
        label=_("Until (on the last day)"),
        required=False,
        widget=forms.TimeInput(attrs={"type": "time"}, format="%H:%M"),
        help_text=_("A person's absence only; empty: to the end of the day."),
    )
    note = forms.CharField(
        label=_("Note"),
        required=False,
        max_length=200,
        help_text=_("e.g. Holidays. Customers whose bookings are cancelled read it."),
    )

    def __init__(self, *args: Any, partner: Partner, can_absence: bool, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.partner = partner
        choices: list[tuple[str, Any]] = [(WHOLE_BUSINESS, _("The whole business (closed)"))]
        if can_absence:
            choices += [(str(s.pk), s.name) for s in StaffMember.objects.filter(partner=partner)]
        who = self.fields["who"]
        if isinstance(who, forms.ChoiceField):  # as declared above (for the type checker)
            who.choices = choices

    def clean(self) -> dict[str, Any]:
        data = super().clean() or {}
        if "first_day" in data and "last_day" in data:
            try:
                check_range(
                    partner=self.partner,
                    first_day=data["first_day"],
                    last_day=data["last_day"],
                    now=timezone.now(),
                )
            except ValidationError as exc:
                for field, errors in exc.message_dict.items():
                    for error in errors:
                        self.add_error(field, error)
        if not self.errors and "who" in data:
            try:
                check_times(
                    partner=self.partner,
                    staff=self.staff,
                    first_day=data["first_day"],
                    last_day=data["last_day"],
                    from_time=data.get("from_time"),
                    until_time=data.get("until_time"),
                )
            except ValidationError as exc:
                for field, errors in exc.message_dict.items():
                    for error in errors:
                        self.add_error(field, error)
        return data

    @property
    def staff(self) -> StaffMember | None:
        who = self.cleaned_data.get("who") or WHOLE_BUSINESS
        if who == WHOLE_BUSINESS:
            return None
        return StaffMember.objects.get(partner=self.partner, pk=int(who))


def covered_rows(bookings: list[Booking], partner: Partner) -> list[dict[str, Any]]:
    zone = partner.zone
    return [
        {
            "booking": b,
            "when": zoned(b.start, zone),
            "paid": paid_through_moves(b),
            "is_hold": b.status == Booking.Status.PENDING_PAYMENT,
        }
        for b in bookings
    ]


def closure_view(model_admin: admin.ModelAdmin[Any], request: HttpRequest) -> HttpResponse:
    partner = page_partner(request, "booking.add_closure")
    can_absence = request.user.has_perm("booking.add_staffabsence")
    submitted = request.method == "POST"
    form = ClosureForm(
        request.POST if submitted else None,
        partner=partner,
        can_absence=can_absence,
        initial={
            "first_day": request.GET.get("day"),
            "last_day": request.GET.get("day"),
            "who": request.GET.get("who", WHOLE_BUSINESS),
        },
    )
    context: dict[str, Any] = {
        **model_admin.admin_site.each_context(request),
        "title": _("Close over dates"),
        "opts": model_admin.model._meta,
        "partner": partner,
        "form": form,
        "zone_name": partner.time_zone,
        "choices": CoveredChoice,
    }
    if not (submitted and form.is_valid()):
        return TemplateResponse(request, "admin/booking/closure/close.html", context)
    data = form.cleaned_data
    staff = form.staff
    now = timezone.now()
    covered = covered_by_range(
        partner=partner,
        first_day=data["first_day"],
        last_day=data["last_day"],
        now=now,
        staff=staff,
        from_time=data.get("from_time"),
        until_time=data.get("until_time"),
    )
    raw_choice = request.POST.get("choice", "")
    if raw_choice not in CoveredChoice.values and covered:
        # Shown first: nothing is saved until the owner chose what happens to these bookings.
        return TemplateResponse(
            request,
            "admin/booking/closure/close.html",
            {**context, "covered": covered_rows(covered, partner), "staff": staff},
        )
    shown = {int(v) for v in request.POST.getlist("shown") if v.isdigit()}
    try:
        result = closure_create(
            partner=partner,
            actor=Actor.from_request(request, via=Via.ADMIN),
            first_day=data["first_day"],
            last_day=data["last_day"],
            note=data["note"],
            choice=CoveredChoice(raw_choice) if raw_choice else CoveredChoice.KEEP,
            shown=shown,
            staff=staff,
            from_time=data.get("from_time"),
            until_time=data.get("until_time"),
            now=now,
        )
    except CoveredChanged as exc:
        fresh = covered_by_range(
            partner=partner,
            first_day=data["first_day"],
            last_day=data["last_day"],
            now=timezone.now(),
            staff=staff,
            from_time=data.get("from_time"),
            until_time=data.get("until_time"),
        )
        form.add_error(None, exc.messages[0])
        return TemplateResponse(
            request,
            "admin/booking/closure/close.html",
            {**context, "covered": covered_rows(fresh, partner), "staff": staff},
        )
    except ValidationError as exc:
        for field, errors in exc.message_dict.items():
            for error in errors:
                form.add_error(field if field in form.fields else None, error)
        return TemplateResponse(request, "admin/booking/closure/close.html", context)
    _tell(request, result.cancelled, result.kept, staff)
    if staff is not None:
        return HttpResponseRedirect(reverse("admin:booking_staffmember_change", args=[staff.pk]))
    return HttpResponseRedirect(reverse("admin:booking_closure_changelist"))


def _tell(
    request: HttpRequest, cancelled: list[int], kept: list[int], staff: StaffMember | None
) -> None:
    saved = (
        _("The absence of %(name)s was saved.") % {"name": staff.name}
        if staff is not None
        else _("The closure was saved.")
    )
    if cancelled:
        extra = ngettext(
            "%(count)d booking was cancelled; its customer is told by email (a payment is "
            "refunded).",
            "%(count)d bookings were cancelled; each customer is told by email (payments are "
            "refunded).",
            len(cancelled),
        ) % {"count": len(cancelled)}
    elif kept:
        extra = ngettext(
            "%(count)d booking on these days was kept.",
            "%(count)d bookings on these days were kept.",
            len(kept),
        ) % {"count": len(kept)}
    else:
        extra = str(_("No bookings were on these days."))
    messages.success(request, f"{saved} {extra}")


@admin.register(Closure)
class ClosureAdmin(PartnerScopedAdmin):
    list_display = ("first_day", "last_day", "partner", "note")
    list_filter = (("partner", ScopedRelatedFilter),)
    search_fields = ("note",)
    fields = ("partner", "first_day", "last_day", "note")
    # Set once, on the closure page that shows the bookings the days cover first; changing them
    # here would skip that. A wrong closure is deleted (closure_delete) and entered again.
    readonly_fields = fields

    def delete_model(self, request: HttpRequest, obj: Closure) -> None:
        closure_delete(closure=obj, actor=Actor.from_request(request, via=Via.ADMIN))

    def delete_queryset(self, request: HttpRequest, queryset: QuerySet[Closure]) -> None:
        actor = Actor.from_request(request, via=Via.ADMIN)
        for closure in queryset:
            closure_delete(closure=closure, actor=actor)

    def get_queryset(self, request: HttpRequest) -> Any:
        return super().get_queryset(request).select_related("partner")

    @method_decorator(require_http_methods(["GET", "HEAD", "POST"]))
    def add_view(
        self, request: HttpRequest, form_url: str = "", extra_context: Any = None
    ) -> HttpResponse:
        # The one way to add a closure: the page that shows the bookings it covers first.
        return closure_view(self, request)
