"""Derived manage links (booking.tokens): a per-booking link version; the stored hash of the old
random links becomes optional (kept for links already sent, until they expire)."""

import secrets

from django.db import migrations, models

import booking.tokens


def _own_versions(apps, schema_editor):
    # AddField gives every existing row the same default; each booking gets its own, so rotating
    # one booking's links never touches another's version.
    Booking = apps.get_model("booking", "Booking")
    for pk in Booking.objects.values_list("pk", flat=True).iterator():
        Booking.objects.filter(pk=pk).update(manage_link_version=secrets.token_hex(16))


class Migration(migrations.Migration):
    dependencies = [
        ("booking", "0012_staff_roles"),
    ]

    operations = [
        migrations.AddField(
            model_name="booking",
            name="manage_link_version",
            field=models.CharField(
                default=booking.tokens.new_link_version, editable=False, max_length=32
            ),
        ),
        migrations.RunPython(_own_versions, migrations.RunPython.noop, elidable=True),
        migrations.AlterField(
            model_name="booking",
            name="manage_token_hash",
            field=models.CharField(
                blank=True, default=None, editable=False, max_length=64, null=True, unique=True
            ),
        ),
    ]
