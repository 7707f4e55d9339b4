"""A partner's customers in the admin: the list (name, email, how many bookings, found by the
whole email address through the blind index) and each customer with their bookings. Read-only:
customers change through bookings and, later, their own data requests. Scoped like every
partner admin; support staff see the data masked unless granted, and every unmasked view of
platform staff is audited (support.py)."""

from __future__ import annotations

import json
from typing import Any

from django.contrib import admin, messages
from django.contrib.admin import helpers
from django.contrib.admin.utils import unquote
from django.db.models import Count, QuerySet
from django.http import HttpRequest, HttpResponse
from django.template.response import TemplateResponse
from django.urls import reverse
from django.utils.html import format_html, format_html_join
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from booking import erasure
from booking.admin.scoping import (
    ALL,
    PARTNER,
    SUPPORT,
    PartnerScopedAdmin,
    request_scope,
    scope_queryset,
)
from booking.admin.support import AUDITED, MASKED, customer_access
from booking.admin.zone import zoned_field
from booking.models import Customer
from booking.support_access import customer_data_viewed, mask_email, mask_name, mask_text
from security.actors import Actor, Via
from security.client_ip import client_ip
from security.fieldcrypto import blind_index

_MASKS = {"name": mask_name, "email": mask_email, "phone": mask_text}


def _column(request: HttpRequest, field: str) -> Any:
    access = customer_access(request)

    def column(customer: Customer) -> str:
        value = getattr(customer, field)
        return _MASKS[field](value) if access.mode(customer.partner_id) == MASKED else value

    column.short_description = field  # type: ignore[attr-defined]  # the admin reads it off the callable
    column.__name__ = field
    return column


@admin.register(Customer)
class CustomerAdmin(PartnerScopedAdmin):
    # Encrypted columns (C26): the search is the whole email address through its blind index.
    search_fields = ("email",)
    search_help_text = "Search by a customer's complete email address (not part of it)."
    list_per_page = 50
    show_full_result_count = False
    fields = ("partner", "name", "email", "phone", "created_local", "booking_table")
    readonly_fields = fields
    created_local = zoned_field("created_at", gettext_lazy("created"))
    actions = ("export_data", "anonymise")

    def has_erase_permission(self, request: HttpRequest) -> bool:
        """Export and anonymise: the partner's owner (change_customer) and superusers; never
        support, who only ever sees customers masked or under a grant."""
        return request.user.has_perm("booking.change_customer") and request_scope(request).kind in (
            ALL,
            PARTNER,
        )

    @admin.action(
        description=gettext_lazy("Export the customer's data (JSON)"), permissions=["erase"]
    )
    def export_data(
        self, request: HttpRequest, queryset: QuerySet[Customer]
    ) -> HttpResponse | None:
        chosen = list(queryset[:2])
        if len(chosen) != 1:
            self.message_user(request, _("Select exactly one customer to export."), messages.ERROR)
            return None
        data = erasure.customer_export(
            customer=chosen[0], actor=Actor.from_request(request, via=Via.ADMIN), format="json"
        )
        response = HttpResponse(
            json.dumps(data, ensure_ascii=False, indent=2), content_type="application/json"
        )
        response["Content-Disposition"] = f'attachment; filename="customer-{chosen[0].pk}.json"'
        return response

    @admin.action(
        description=gettext_lazy("Anonymise the customer (their bookings keep no personal data)"),
        permissions=["erase"],
    )
    def anonymise(self, request: HttpRequest, queryset: QuerySet[Customer]) -> HttpResponse | None:
        chosen = list(queryset[:2])
        if len(chosen) != 1:
            self.message_user(
                request, _("Select exactly one customer to anonymise."), messages.ERROR
            )
            return None
        customer = chosen[0]
        if request.POST.get("confirm") != "yes":
            return TemplateResponse(
                request,
                "admin/booking/customer/anonymise.html",
                {
                    **self.admin_site.each_context(request),
                    "title": _("Anonymise this customer?"),
                    "opts": self.model._meta,
                    "customer": customer,
                    "bookings": customer.bookings.count(),
                    "action_checkbox_name": helpers.ACTION_CHECKBOX_NAME,
                },
            )
        try:
            summary = erasure.customer_erase(
                customer=customer, actor=Actor.from_request(request, via=Via.ADMIN)
            )
        except erasure.ErasureRefused as exc:
            self.message_user(request, " ".join(exc.messages), messages.ERROR)
            return None
        self.message_user(
            request,
            _("The customer was anonymised: %(n)s bookings keep no personal data.")
            % {"n": summary.anonymised},
            messages.SUCCESS,
        )
        return None

    def get_queryset(self, request: HttpRequest) -> QuerySet[Customer]:
        queryset: QuerySet[Customer] = (
            super()
            .get_queryset(request)
            .select_related("partner")
            .annotate(booking_count=Count("bookings"))
        )
        return queryset

    def get_list_display(self, request: HttpRequest) -> Any:
        # Callables made for this request (the admin instance is shared between requests), not
        # field names: no sorting by a masked or encrypted column either.
        columns: list[Any] = [_column(request, "name"), _column(request, "email"), "bookings"]
        columns.append("created_local")
        if not request_scope(request).is_partner:
            columns.insert(2, "partner")
        return columns

    def get_list_display_links(self, request: HttpRequest, list_display: Any) -> Any:
        return (list_display[0],)  # the name column

    def get_fields(self, request: HttpRequest, obj: Any = None) -> Any:
        return self._swap_masked(request, obj, super().get_fields(request, obj))

    def get_readonly_fields(self, request: HttpRequest, obj: Any = None) -> Any:
        return self._swap_masked(request, obj, super().get_readonly_fields(request, obj))

    def _swap_masked(self, request: HttpRequest, obj: Any, names: Any) -> list[str]:
        masked = obj is not None and customer_access(request).mode(obj.partner_id) == MASKED
        return [f"{n}_masked" if masked and n in _MASKS else n for n in names]

    def get_search_results(
        self, request: HttpRequest, queryset: QuerySet[Customer], search_term: str
    ) -> Any:
        results = queryset
        if search_term.strip():
            results = results.filter(email_index=blind_index(search_term))
            if request_scope(request).kind == SUPPORT:
                # Searching masked customers would confirm an address one guess at a time.
                results = results.filter(partner_id__in=list(customer_access(request).grants))
        return scope_queryset(request, results), False

    def has_add_permission(self, request: HttpRequest) -> bool:
        return False

    def has_change_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False

    def has_delete_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False

    @admin.display(description="name")
    def name_masked(self, obj: Customer) -> str:
        return mask_name(obj.name)

    @admin.display(description="email")
    def email_masked(self, obj: Customer) -> str:
        return mask_email(obj.email)

    @admin.display(description="phone")
    def phone_masked(self, obj: Customer) -> str:
        return mask_text(obj.phone)

    @admin.display(description="bookings", ordering="booking_count")
    def bookings(self, obj: Customer) -> int:
        return int(getattr(obj, "booking_count", 0))

    @admin.display(description="bookings")
    def booking_table(self, obj: Customer) -> str:
        rows = obj.bookings.select_related("service", "staff").order_by("-start")
        zone = obj.partner.zone
        return format_html(
            "<table><thead><tr><th>start ({})</th><th>service</th><th>person</th>"
            "<th>status</th></tr></thead><tbody>{}</tbody></table>",
            obj.partner.time_zone,
            format_html_join(
                "",
                '<tr><td><a href="{}">{}</a></td><td>{}</td><td>{}</td><td>{}</td></tr>',
                (
                    (
                        reverse("admin:booking_booking_change", args=[b.pk]),
                        b.start.astimezone(zone).strftime("%Y-%m-%d %H:%M"),
                        b.service.name,
                        b.staff.name,
                        b.get_status_display(),
                    )
                    for b in rows
                ),
            ),
        )

    # --- views: remember the request (for masking), audit unmasked views -----------------------

    def changelist_view(
        self, request: HttpRequest, extra_context: dict[str, Any] | None = None
    ) -> HttpResponse:
        response = super().changelist_view(request, extra_context)
        changelist = (
            getattr(response, "context_data", {}).get("cl") if response.status_code == 200 else None
        )
        if changelist is not None:
            self._audit(request, "customer_list", list(changelist.result_list))
        return response

    def change_view(
        self, request: HttpRequest, object_id: str, form_url: str = "", extra_context: Any = None
    ) -> HttpResponse:
        response = super().change_view(request, object_id, form_url, extra_context)
        customer = self.get_object(request, unquote(object_id))
        if customer is not None and response.status_code == 200:
            self._audit(request, "customer", [customer])
        return response

    def _audit(self, request: HttpRequest, view: str, customers: list[Customer]) -> None:
        access = customer_access(request)
        shown = [c for c in customers if access.mode(c.partner_id) == AUDITED]
        if shown:
            customer_data_viewed(
                actor=request.user,
                ip=client_ip(request),
                view=view,
                booking_ids=[],
                customer_ids=[c.pk for c in shown],
                grants={c.partner_id: access.grants.get(c.partner_id) for c in shown},
            )
