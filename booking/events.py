"""The security event types of booking, registered with security at start-up (BookingConfig)."""

from __future__ import annotations

from django.db.models import TextChoices


class BookingEvent(TextChoices):
    BOOKING_CREATED = "booking_created", "Booking created"
    BOOKING_CONFIRMED = "booking_confirmed", "Booking confirmed after payment"
    BOOKING_CANCELLED = "booking_cancelled", "Booking cancelled"
    BOOKING_RESCHEDULED = "booking_rescheduled", "Booking rescheduled"
    HOLD_RELEASED = "hold_released", "Unpaid hold released"
    SUPPORT_ACCESS = "support_access", "Customer data viewed by platform staff"
    DATA_EXPORT = "data_export", "Data exported"
    SUPPORT_GRANT_CREATED = "support_grant_created", "Support grant created"
    SUPPORT_GRANT_REVOKED = "support_grant_revoked", "Support grant revoked"
    MANAGE_LINK_ROTATED = "manage_link_rotated", "Manage link renewed (older links revoked)"
    MANAGE_LINKS_REQUESTED = "manage_links_requested", "Manage links requested by email address"
    REMINDER_SENT = "reminder_sent", "Booking reminder sent"
    PARTNER_DELETED = "partner_deleted", "Partner account deleted with all its data"
    CUSTOMER_ERASED = "customer_erased", "Customer's data erased (bookings anonymised)"
    RETENTION_APPLIED = "retention_applied", "Old bookings anonymised (retention period)"
    INVITATION_SENT = "invitation_sent", "Invitation created (its email follows)"
    INVITATION_RESENT = "invitation_resent", "Invitation re-sent (the older link stops working)"
    INVITATION_REVOKED = "invitation_revoked", "Invitation revoked"
    INVITATION_ACCEPTED = "invitation_accepted", "Invitation accepted (account created)"
    INVITATION_REFUSED = "invitation_refused", "Invitation link refused"
    CLOSURE_CREATED = "closure_created", "Business closed over a date range"
    CLOSURE_DELETED = "closure_deleted", "Closure removed (the days follow the hours again)"
    ABSENCE_CREATED = "absence_created", "Staff absence entered over a date range"
    ABSENCE_DELETED = "absence_deleted", "Staff absence removed (the person's hours apply again)"
    HOURS_CHANGED = "hours_changed", "Weekly hours changed"
    DATE_OVERRIDE_SET = "date_override_set", "Special hours of a date set"
    DATE_OVERRIDE_DELETED = "date_override_deleted", "Special hours of a date removed"
    CALENDAR_FEED_CREATED = "calendar_feed_created", "Calendar feed created (older URL revoked)"
    CALENDAR_FEED_REVOKED = "calendar_feed_revoked", "Calendar feed revoked"
