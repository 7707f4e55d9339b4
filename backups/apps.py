from __future__ import annotations

from django.apps import AppConfig


class BackupsConfig(AppConfig):
    default_auto_field = "django.db.models.BigAutoField"
    name = "backups"
    verbose_name = "Backups"

    def ready(self) -> None:
        from backups import checks  # noqa: F401  (registers the system checks)
        from backups.anchors import BackupDestinationsAnchorStore
        from backups.compliance import CHECKS
        from backups.events import BackupEvent
        from security.anchor import register_anchor_store
        from security.compliance import register_checks
        from security.events import register_event_types

        register_event_types(BackupEvent)
        register_anchor_store(BackupDestinationsAnchorStore())
        register_checks(*CHECKS, owner="backups")
