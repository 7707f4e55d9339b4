"""Payments in the partner workspace (C15, C20): read-only, scoped like the bookings they pay
for, with a "Refund in full" action behind a confirmation page.

Who may do what follows the booking permissions of the roles (booking/roles.py), because a
payment is part of a booking: whoever may view a partner's bookings may view their payments
(support staff included; a payment holds no customer data), and whoever may change them (owners
and members; cancelling refunds anyway) may refund. Nobody edits or deletes a payment here:
states come from Stripe.
"""

from __future__ import annotations

from typing import Any

from django.contrib import admin, messages
from django.contrib.admin import helpers
from django.db.models import QuerySet
from django.http import HttpRequest, HttpResponse
from django.template.response import TemplateResponse
from django.urls import reverse
from django.utils.html import format_html
from django.utils.translation import gettext_lazy as _

from booking.admin.scoping import ALL, NOTHING, PARTNER, SUPPORT, request_scope
from booking.admin.zone import zoned_field
from payments import selectors
from payments.models import Payment, Refund, WebhookEvent
from payments.money import format_minor
from payments.refunds import RefundNotPossible, refund_request
from security.actors import Actor, Via


class _ReadOnly(admin.ModelAdmin):
    """States come from Stripe: nobody adds, edits or deletes them here."""

    def has_add_permission(self, request: HttpRequest) -> bool:
        return False

    def has_change_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False

    def has_delete_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False


@admin.register(Payment)
class PaymentAdmin(_ReadOnly):
    # The amount opens the payment, the booking column its booking (two links, never nested).
    list_display = [
        "amount_display",
        "booking_link",
        "status",
        "refund_state",
        "paid_local",
        "created_local",
    ]
    list_display_links = ["amount_display"]
    list_filter = ["status", "created_at"]
    search_fields = ["stripe_payment_intent_id"]
    ordering = ["-created_at"]
    readonly_fields = [
        "booking_link",
        "stripe_payment_intent_id",
        "amount_display",
        "status",
        "amount_refunded_display",
        "refund_state",
        "last_error_code",
        "paid_local",
        "created_local",
        "updated_local",
    ]
    fields = tuple(readonly_fields)
    actions = ["refund_in_full"]
    list_select_related = ["booking", "booking__service"]
    paid_local = zoned_field("paid_at", _("paid"))
    created_local = zoned_field("created_at", _("created"))
    updated_local = zoned_field("updated_at", _("updated"))

    def get_queryset(self, request: HttpRequest) -> QuerySet[Payment]:
        scope = request_scope(request)
        if scope.kind in (ALL, SUPPORT):
            return selectors.payment_list_for_partner(partner_id=None)
        if scope.kind == PARTNER:
            rows = selectors.payment_list_for_partner(partner_id=scope.partner_id)
            if scope.own_bookings_only:  # a stylist with a login: her own bookings' payments
                rows = rows.filter(booking__staff_id__in=scope.own_staff_ids)
            return rows
        return Payment.objects.none()

    def _in_scope(self, request: HttpRequest, obj: Payment | None) -> bool:
        scope = request_scope(request)
        if obj is None or scope.kind in (ALL, SUPPORT):
            return scope.kind != NOTHING
        return (
            scope.kind == PARTNER
            and obj.booking is not None
            and obj.booking.partner_id == scope.partner_id
            and (not scope.own_bookings_only or obj.booking.staff_id in scope.own_staff_ids)
        )

    def has_module_permission(self, request: HttpRequest) -> bool:
        return (
            request.user.has_perm("booking.view_booking") and request_scope(request).kind != NOTHING
        )

    def has_view_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return request.user.has_perm("booking.view_booking") and self._in_scope(request, obj)

    def has_refund_permission(self, request: HttpRequest) -> bool:
        scope = request_scope(request)
        return request.user.has_perm("booking.change_booking") and scope.kind in (ALL, PARTNER)

    @admin.display(description="Booking")
    def booking_link(self, obj: Payment) -> str:
        if obj.booking_id is None:
            return "deleted with its partner"
        url = reverse("admin:booking_booking_change", args=[obj.booking_id])
        return format_html('<a href="{}">{}</a>', url, obj.booking)

    @admin.display(description="Amount")
    def amount_display(self, obj: Payment) -> str:
        return obj.amount_display

    @admin.display(description="Refunded")
    def amount_refunded_display(self, obj: Payment) -> str:
        return format_minor(obj.amount_refunded, obj.currency)

    @admin.display(description="Refund")
    def refund_state(self, obj: Payment) -> str:
        refund = getattr(obj, "refund", None)
        return refund.get_status_display() if refund is not None else "–"

    @admin.action(description=_("Refund in full"), permissions=["refund"])
    def refund_in_full(
        self, request: HttpRequest, queryset: QuerySet[Payment]
    ) -> HttpResponse | None:
        payments = list(queryset.select_related("booking", "booking__service"))
        refundable = [p for p in payments if p.is_refundable]
        if request.POST.get("confirm") != "yes":
            context = {
                **self.admin_site.each_context(request),
                "title": _("Refund in full?"),
                "opts": self.model._meta,
                "refundable": refundable,
                "skipped": [p for p in payments if not p.is_refundable],
                "selected": [p.pk for p in payments],
                "action": "refund_in_full",
                "action_checkbox_name": helpers.ACTION_CHECKBOX_NAME,
            }
            return TemplateResponse(request, "admin/payments/refund_confirmation.html", context)
        done = 0
        for payment in refundable:
            try:
                refund_request(
                    payment=payment,
                    reason=Refund.Reason.PARTNER,
                    actor=Actor.from_request(request, via=Via.ADMIN),
                )
                done += 1
            except RefundNotPossible as exc:
                self.message_user(request, f"{payment}: {exc}", messages.ERROR)
        if done:
            self.message_user(
                request,
                f"{done} refund(s) sent to Stripe. The customers are emailed when Stripe accepts them.",
            )
        return None


@admin.register(WebhookEvent)
class WebhookEventAdmin(_ReadOnly):
    """Platform operators only: which Stripe events arrived and what became of them."""

    list_display = ["received_at", "event_type", "outcome", "stripe_event_id", "payment"]
    list_filter = ["event_type", "outcome"]
    readonly_fields = ["stripe_event_id", "event_type", "outcome", "payment", "received_at"]

    def has_module_permission(self, request: HttpRequest) -> bool:
        return request.user.is_superuser

    def has_view_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return request.user.is_superuser
