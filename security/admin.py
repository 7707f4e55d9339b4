from __future__ import annotations

from django.contrib import admin
from django.http import HttpRequest

from security.models import CspReport


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
