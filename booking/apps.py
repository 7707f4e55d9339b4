from django.apps import AppConfig


class BookingConfig(AppConfig):
    name = "booking"
    verbose_name = "Booking"

    def ready(self) -> None:
        from booking import cors  # noqa: F401  (connects the CORS rule and its cache invalidation)
        from booking.events import BookingEvent
        from security.events import register_event_types

        register_event_types(BookingEvent)
