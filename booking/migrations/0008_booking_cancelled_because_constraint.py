from django.db import migrations, models


class Migration(migrations.Migration):
    """Separate from 0007 so that the constraint is added after the data migration committed its
    updates (PostgreSQL refuses ALTER TABLE with pending trigger events in one transaction)."""

    dependencies = [
        ("booking", "0007_booking_cancelled_because"),
    ]

    operations = [
        migrations.AddConstraint(
            model_name="booking",
            constraint=models.CheckConstraint(
                condition=models.Q(
                    models.Q(
                        (
                            "cancelled_because__in",
                            ["customer", "partner", "hold_expired", "rescheduled"],
                        ),
                        ("status", "cancelled"),
                    ),
                    models.Q(
                        models.Q(("status", "cancelled"), _negated=True), ("cancelled_because", "")
                    ),
                    _connector="OR",
                ),
                name="booking_cancelled_because_matches_status",
            ),
        ),
    ]
