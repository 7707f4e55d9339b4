"""The reminders of a booking on its admin page: when each is due and whether it was sent,
failed or skipped. Read-only: the periodic job alone writes them (booking.reminders)."""

from __future__ import annotations

from typing import Any

from django.contrib import admin
from django.http import HttpRequest
from django.utils.translation import gettext_lazy as _

from booking.admin.scoping import NOTHING, PartnerScopedInline, request_scope
from booking.models import BookingReminder


class BookingReminderInline(PartnerScopedInline):
    model = BookingReminder
    extra = 0
    can_delete = False
    verbose_name = _("reminder")
    verbose_name_plural = _("reminders")
    fields = ("lead_hours", "local_due_at", "state", "local_finished_at", "note")
    readonly_fields = fields

    def has_add_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False

    def has_change_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False

    def has_view_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        # Shown to whoever may see the booking (its admin checked that): the rows hold no
        # customer data, so they need no permission of their own in the partner roles.
        return request_scope(request).kind is not NOTHING

    def _local(self, reminder: BookingReminder, value: Any) -> str:
        if value is None:
            return "–"
        zone = reminder.booking.partner.zone
        return f"{value.astimezone(zone):%Y-%m-%d %H:%M} ({zone.key})"

    @admin.display(description=_("due"))
    def local_due_at(self, obj: BookingReminder) -> str:
        return self._local(obj, obj.due_at)

    @admin.display(description=_("finished"))
    def local_finished_at(self, obj: BookingReminder) -> str:
        return self._local(obj, obj.finished_at)

    def get_queryset(self, request: HttpRequest) -> Any:
        return super().get_queryset(request).select_related("booking__partner")
