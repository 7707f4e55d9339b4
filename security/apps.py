from django.apps import AppConfig


class SecurityConfig(AppConfig):
    name = "security"
    verbose_name = "Security"

    def ready(self) -> None:
        from security import checks, signals  # noqa: F401  (registers the system checks)

        signals.connect()
