"""Blocking bookings of a staff member (or resource) by busy start, and a booking's busy range
held to at most three days (a day of duration and a day of each buffer, as the validators
allow): together they let the slot engine and the booking write read only the bookings that
overlap a window, by an index range, whatever the partner's number of bookings."""

import datetime
import django.db.models.expressions
from django.db import migrations, models


class Migration(migrations.Migration):
    dependencies = [
        ("booking", "0026_booking_reminder_claims"),
    ]

    operations = [
        migrations.AddIndex(
            model_name="booking",
            index=models.Index(
                condition=models.Q(("status__in", ["pending_payment", "confirmed"])),
                fields=["staff", "busy_start"],
                name="booking_staff_blocking_busy",
            ),
        ),
        migrations.AddIndex(
            model_name="booking",
            index=models.Index(
                condition=models.Q(
                    ("resource__isnull", False), ("status__in", ["pending_payment", "confirmed"])
                ),
                fields=["resource", "busy_start"],
                name="booking_resource_blocking_busy",
            ),
        ),
        migrations.AddConstraint(
            model_name="booking",
            constraint=models.CheckConstraint(
                condition=models.Q(
                    (
                        "busy_end__lte",
                        django.db.models.expressions.CombinedExpression(
                            models.F("busy_start"), "+", models.Value(datetime.timedelta(days=3))
                        ),
                    )
                ),
                name="booking_busy_at_most_max",
                violation_error_message="A booking's busy time is at most three days.",
            ),
        ),
    ]
