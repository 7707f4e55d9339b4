from __future__ import annotations

from typing import Any

from django.contrib import admin
from django.contrib.auth import get_user_model
from django.db.models import QuerySet
from django.http import HttpRequest
from django.utils.html import format_html, format_html_join
from django.utils.safestring import SafeString
from django.utils.translation import gettext_lazy as _

from security.actors import Actor, Via
from security.events import event_types
from security.models import (
    ComplianceResult,
    ComplianceState,
    CspReport,
    PersonnelRecord,
    SecurityEvent,
)
from security.operator_output import json_text, utc_text


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


class EventTypeFilter(admin.SimpleListFilter):
    """The registered event types (each app registers its own; the column has no choices)."""

    title = "event type"
    parameter_name = "event_type"

    def lookups(self, request: HttpRequest, model_admin: admin.ModelAdmin) -> list[tuple[str, str]]:
        return event_types()

    def queryset(
        self, request: HttpRequest, queryset: QuerySet[SecurityEvent]
    ) -> QuerySet[SecurityEvent]:
        value = self.value()
        return queryset.filter(event_type=value) if value else queryset


@admin.register(SecurityEvent)
class SecurityEventAdmin(ReadOnlyAdminMixin, admin.ModelAdmin):
    """The append-only log (C31): superusers read it; nobody, superusers included, adds, edits
    or deletes a row here (a deletion would also break the hash chain)."""

    list_display = ("created_at", "event_type", "event_type_label", "actor_email", "ip", "target")
    list_filter = (EventTypeFilter,)
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


class SuperuserOnlyMixin:
    def has_module_permission(self, request: HttpRequest) -> bool:
        return bool(request.user.is_active and request.user.is_superuser)

    def has_view_permission(self, request: HttpRequest, obj: object = None) -> bool:
        return bool(request.user.is_active and request.user.is_superuser)


@admin.register(ComplianceState)
class ComplianceStateAdmin(SuperuserOnlyMixin, ReadOnlyAdminMixin, admin.ModelAdmin):
    """Continuous compliance (C30): each control's current state, and its history on the
    control's page. Written only by the hourly job; superusers read."""

    list_display = ("control", "title", "status", "reason", "since", "evaluated_at")
    list_filter = ("status",)
    fields = (
        "control",
        "title",
        "status",
        "reason",
        "evidence_text",
        "since",
        "evaluated_at",
        "history",
    )
    readonly_fields = fields
    actions = None
    HISTORY_ROWS = 200

    @admin.display(description=_("evidence"))
    def evidence_text(self, obj: ComplianceState) -> str:
        return json_text(obj.evidence)

    @admin.display(description=_("history (changes marked, newest first)"))
    def history(self, obj: ComplianceState) -> SafeString:
        rows = ComplianceResult.objects.filter(control=obj.control).order_by(
            "-evaluated_at", "-id"
        )[: self.HISTORY_ROWS]
        body = format_html_join(
            "",
            "<tr><td>{}</td><td>{}</td><td>{}</td><td>{}</td></tr>",
            (
                (utc_text(r.evaluated_at), r.status, _("changed") if r.changed else "", r.reason)
                for r in rows
            ),
        )
        return format_html(
            "<table><thead><tr><th>{}</th><th>{}</th><th></th><th>{}</th></tr></thead>"
            "<tbody>{}</tbody></table>",
            _("evaluated (UTC)"),
            _("status"),
            _("finding"),
            body,
        )


@admin.register(PersonnelRecord)
class PersonnelRecordAdmin(SuperuserOnlyMixin, admin.ModelAdmin):
    """Superusers record staff's confidentiality agreements and trainings (C15). Records are
    evidence: added, never changed or deleted."""

    list_display = ("user", "kind", "on", "note", "recorded_by", "recorded_at")
    list_filter = ("kind",)
    search_fields = ("user__email",)
    fields = ("user", "kind", "on", "note")
    autocomplete_fields = ()
    actions = None

    def has_add_permission(self, request: HttpRequest) -> bool:
        return bool(request.user.is_active and request.user.is_superuser)

    def has_change_permission(self, request: HttpRequest, obj: object = None) -> bool:
        return False

    def has_delete_permission(self, request: HttpRequest, obj: object = None) -> bool:
        return False

    def formfield_for_foreignkey(self, db_field: Any, request: HttpRequest, **kwargs: Any) -> Any:
        if db_field.name == "user":
            kwargs["queryset"] = get_user_model()._default_manager.filter(is_staff=True)
        return super().formfield_for_foreignkey(db_field, request, **kwargs)

    def save_model(
        self, request: HttpRequest, obj: PersonnelRecord, form: Any, change: bool
    ) -> None:
        from security.people import personnel_record_add

        record = personnel_record_add(
            user=obj.user,
            kind=PersonnelRecord.Kind(obj.kind),
            on=obj.on,
            note=obj.note,
            actor=Actor.from_request(request, via=Via.ADMIN),
        )
        obj.pk = record.pk
