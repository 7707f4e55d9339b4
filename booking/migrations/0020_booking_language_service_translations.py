"""The language a booking was made in (its emails use it) and the partners' service names and
descriptions per language, with the role permissions to edit them."""

from __future__ import annotations

import booking.validators
import django.db.models.deletion
import importlib
from typing import TYPE_CHECKING

from django.db import migrations, models

if TYPE_CHECKING:
    from django.db.backends.base.schema import BaseDatabaseSchemaEditor
    from django.db.migrations.state import StateApps

# The roles as 0019 froze them (staff members, resources, the customer list), plus the service
# translations wherever the role has services.
_ROLES_0019 = importlib.import_module("booking.migrations.0019_customer_list_role").ROLES
ROLES = {
    name: {**models_, "servicetranslation": models_["service"]}
    for name, models_ in _ROLES_0019.items()
}


def grant_translations(apps: StateApps, schema_editor: BaseDatabaseSchemaEditor) -> None:
    from booking.roles import roles_sync_in_migration

    roles_sync_in_migration(apps=apps, definition=ROLES)


def revoke_translations(apps: StateApps, schema_editor: BaseDatabaseSchemaEditor) -> None:
    from booking.roles import roles_sync

    roles_sync(apps=apps, definition=_ROLES_0019)


class Migration(migrations.Migration):
    dependencies = [
        ("booking", "0019_customer_list_role"),
    ]

    operations = [
        migrations.CreateModel(
            name="ServiceTranslation",
            fields=[
                (
                    "id",
                    models.BigAutoField(
                        auto_created=True, primary_key=True, serialize=False, verbose_name="ID"
                    ),
                ),
                (
                    "language",
                    models.CharField(
                        choices=[
                            ("en", "English"),
                            ("de", "German"),
                            ("fr", "French"),
                            ("it", "Italian"),
                        ],
                        max_length=8,
                        verbose_name="language",
                    ),
                ),
                (
                    "name",
                    models.CharField(
                        max_length=120,
                        validators=[booking.validators.validate_single_line],
                        verbose_name="name",
                    ),
                ),
                (
                    "description",
                    models.TextField(blank=True, max_length=2000, verbose_name="description"),
                ),
            ],
            options={
                "verbose_name": "translation",
                "verbose_name_plural": "translations",
                "ordering": ["service", "language"],
            },
        ),
        migrations.AddField(
            model_name="booking",
            name="language",
            field=models.CharField(
                choices=[("en", "English"), ("de", "German"), ("fr", "French"), ("it", "Italian")],
                default="en",
                editable=False,
                max_length=8,
                verbose_name="language",
            ),
        ),
        migrations.AddConstraint(
            model_name="booking",
            constraint=models.CheckConstraint(
                condition=models.Q(("language__in", ["en", "de", "fr", "it"])),
                name="booking_language_valid",
            ),
        ),
        migrations.AddField(
            model_name="servicetranslation",
            name="service",
            field=models.ForeignKey(
                on_delete=django.db.models.deletion.CASCADE,
                related_name="translations",
                to="booking.service",
            ),
        ),
        migrations.AddConstraint(
            model_name="servicetranslation",
            constraint=models.UniqueConstraint(
                fields=("service", "language"), name="service_translation_unique_language"
            ),
        ),
        migrations.AddConstraint(
            model_name="servicetranslation",
            constraint=models.CheckConstraint(
                condition=models.Q(("language__in", ["en", "de", "fr", "it"])),
                name="service_translation_language_valid",
            ),
        ),
        migrations.RunPython(grant_translations, revoke_translations),
    ]
