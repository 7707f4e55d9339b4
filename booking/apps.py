from django.apps import AppConfig


class BookingConfig(AppConfig):
    name = "booking"
    verbose_name = "Booking"

    def ready(self) -> None:
        from booking import (  # noqa: F401  (registers the system checks)
            checks,
            cors,  # connects the CORS rule and its cache invalidation
            slot_cache,  # its receivers move a partner's slots version (connect() below)
        )
        from booking.access_review import access_review_columns
        from booking.admin.dashboard import dashboard_home
        from booking.compliance import CHECKS
        from booking.events import BookingEvent
        from security.access_review import register_access_review_source
        from security.admin_site import register_home_page
        from security.compliance import register_checks
        from security.events import register_event_types

        slot_cache.connect()
        register_event_types(BookingEvent)
        register_checks(*CHECKS, owner="booking")
        register_access_review_source(access_review_columns)
        register_home_page(dashboard_home)
