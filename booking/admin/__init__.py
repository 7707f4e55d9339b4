"""The partner workspace in the admin (C15). Scoping lives in scoping.py, customer data masking
and support grants in support.py; this package registers the admins on import (autodiscover)."""

from booking.admin import (  # noqa: F401  (registers the admins)
    bookings,
    closures,
    customers,
    invitations,
    partner,
    staff,
    support,
)
