from django.apps import AppConfig


class SecurityConfig(AppConfig):
    name = "security"
    verbose_name = "Security"

    def ready(self) -> None:
        from security import checks, signals  # noqa: F401  (registers the system checks)
        from security.compliance import register_checks
        from security.compliance.checks import CHECKS
        from security.events import SecurityEventType, register_event_types

        register_event_types(SecurityEventType)
        register_checks(*CHECKS, owner="security")
        signals.connect()
