"""Customers as records: one per email address per partner, made from the existing bookings
(the details of each address's earliest booking), every booking pointed at its customer."""

from typing import Any


import booking.validators
import django.db.models.deletion
import django.utils.timezone
import security.fields
from django.db import migrations, models


def customers_from_bookings(apps: Any, schema_editor: Any) -> None:
    Booking = apps.get_model("booking", "Booking")
    Customer = apps.get_model("booking", "Customer")
    made: dict[tuple[int, str], Any] = {}
    for row in Booking.objects.order_by("created_at", "pk").iterator():
        key = (row.partner_id, row.customer_email_index)
        if key not in made:
            made[key] = Customer.objects.create(
                partner_id=row.partner_id,
                name=row.customer_name,
                email=row.customer_email,
                phone=row.customer_phone,
                created_at=row.created_at,
            )
        row.customer = made[key]
        row.save(update_fields=["customer"])


class Migration(migrations.Migration):
    dependencies = [
        ("booking", "0016_customer_data_encrypted"),
    ]

    operations = [
        migrations.CreateModel(
            name="Customer",
            fields=[
                (
                    "id",
                    models.BigAutoField(
                        auto_created=True, primary_key=True, serialize=False, verbose_name="ID"
                    ),
                ),
                (
                    "name",
                    security.fields.EncryptedTextField(
                        max_length=120, validators=[booking.validators.validate_single_line]
                    ),
                ),
                (
                    "email",
                    security.fields.EncryptedEmailField(
                        max_length=254, validators=[booking.validators.validate_single_line]
                    ),
                ),
                (
                    "email_index",
                    security.fields.BlindIndexField(
                        blank=True,
                        db_index=True,
                        default="",
                        editable=False,
                        max_length=64,
                        source="email",
                    ),
                ),
                (
                    "phone",
                    security.fields.EncryptedTextField(
                        blank=True,
                        max_length=40,
                        validators=[booking.validators.validate_single_line],
                    ),
                ),
                (
                    "created_at",
                    models.DateTimeField(default=django.utils.timezone.now, editable=False),
                ),
                (
                    "partner",
                    models.ForeignKey(
                        on_delete=django.db.models.deletion.CASCADE,
                        related_name="customers",
                        to="booking.partner",
                    ),
                ),
            ],
            options={
                "ordering": ["-created_at"],
            },
        ),
        migrations.AddField(
            model_name="booking",
            name="customer",
            field=models.ForeignKey(
                null=True,
                on_delete=django.db.models.deletion.PROTECT,
                related_name="bookings",
                to="booking.customer",
            ),
        ),
        migrations.AddConstraint(
            model_name="customer",
            constraint=models.UniqueConstraint(
                fields=("partner", "email_index"), name="customer_one_record_per_email"
            ),
        ),
        migrations.AddConstraint(
            model_name="customer",
            constraint=models.CheckConstraint(
                condition=models.Q(("email_index", ""), _negated=True),
                name="customer_email_index_present",
            ),
        ),
        migrations.RunPython(customers_from_bookings, migrations.RunPython.noop),
    ]
