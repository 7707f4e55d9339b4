"""Every booking has its customer (0013 filled them in). A migration of its own: PostgreSQL
refuses to alter a table in the transaction that just updated its rows under a deferred
foreign key."""

import django.db.models.deletion
from django.db import migrations, models


class Migration(migrations.Migration):
    dependencies = [
        ("booking", "0017_customers"),
    ]

    operations = [
        migrations.AlterField(
            model_name="booking",
            name="customer",
            field=models.ForeignKey(
                on_delete=django.db.models.deletion.PROTECT,
                related_name="bookings",
                to="booking.customer",
            ),
        ),
    ]
