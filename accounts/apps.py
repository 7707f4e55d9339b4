from django.apps import AppConfig


class AccountsConfig(AppConfig):
    name = "accounts"
    verbose_name = "Accounts"

    def ready(self) -> None:
        from accounts.events import AccountEvent
        from security.events import register_event_types

        register_event_types(AccountEvent)
