from django.apps import AppConfig


class PaymentsConfig(AppConfig):
    name = "payments"
    default_auto_field = "django.db.models.BigAutoField"

    def ready(self) -> None:
        from booking.deletion import Coverage, register_partner_data
        from booking.erasure import register_customer_data
        from payments import checks, receivers  # noqa: F401 - registers checks and receivers
        from payments.compliance import CHECKS
        from payments.events import PaymentEvent
        from security.compliance import register_checks
        from security.events import register_event_types

        register_event_types(PaymentEvent)
        register_partner_data("payments.Payment", Coverage.DETACHED)
        register_partner_data("payments.Refund", Coverage.DETACHED)
        register_partner_data("payments.WebhookEvent", Coverage.DETACHED)
        for label in ("payments.Payment", "payments.Refund", "payments.WebhookEvent"):
            register_customer_data(label, "kept: amounts, states and Stripe ids, no personal data")
        register_checks(*CHECKS, owner="payments")
