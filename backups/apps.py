from __future__ import annotations

from django.apps import AppConfig


class BackupsConfig(AppConfig):
    default_auto_field = "django.db.models.BigAutoField"
    name = "backups"
    verbose_name = "Backups"

    def ready(self) -> None:
        from backups import checks  # noqa: F401  (registers the system checks)
        from backups.compliance import CHECKS
        from security.compliance import register_checks

        register_checks(*CHECKS, owner="backups")
