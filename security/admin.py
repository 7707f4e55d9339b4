from __future__ import annotations

from django.contrib import admin
from django.http import HttpRequest

from security.models import CspReport, SecurityEvent


class ReadOnlyAdminMixin:
    """An admin that shows rows and changes none: no add, change or delete, superusers included."""

    def has_add_permission(self, request: HttpRequest) -> bool:
        return False

    def has_change_permission(self, request: HttpRequest, obj: object = None) -> bool:
        return False

    def has_delete_permission(self, request: HttpRequest, obj: object = None) -> bool:
        return False


@admin.register(CspReport)
class CspReportAdmin(admin.ModelAdmin):
    """Operators read reports; nobody edits them."""

    list_display = ("received_at", "violated_directive", "blocked_uri", "document_uri")
    list_filter = ("violated_directive",)
    search_fields = ("document_uri", "blocked_uri")
    date_hierarchy = "received_at"

    def has_add_permission(self, request: HttpRequest) -> bool:
        return False

    def has_change_permission(self, request: HttpRequest, obj: object = None) -> bool:
        return False

    def has_delete_permission(self, request: HttpRequest, obj: object = None) -> bool:
        return bool(request.user.is_superuser)


@admin.register(SecurityEvent)
class SecurityEventAdmin(ReadOnlyAdminMixin, admin.ModelAdmin):
    """The append-only log (C31): superusers read it; nobody, superusers included, adds, edits
    or deletes a row here (a deletion would also break the hash chain)."""

    list_display = ("created_at", "event_type", "actor_email", "ip", "target")
    list_filter = ("event_type",)
    search_fields = ("actor_email", "target", "ip")
    date_hierarchy = "created_at"
    fields = (
        "created_at",
        "event_type",
        "actor_email",
        "ip",
        "target",
        "detail",
        "prev_hash",
        "hash",
    )
    readonly_fields = fields
    actions = None

    def has_module_permission(self, request: HttpRequest) -> bool:
        return bool(request.user.is_active and request.user.is_superuser)

    def has_view_permission(self, request: HttpRequest, obj: object = None) -> bool:
        return bool(request.user.is_active and request.user.is_superuser)
