"""Customer data encrypted at rest (C26): the four columns become ciphertexts, and a keyed blind
index of the email is added for lookups. Existing rows are sealed in place with raw SQL (the
model field would try to decrypt the plaintext it reads)."""

from typing import Any


import booking.validators
import security.fields
from django.db import migrations

from security import fieldcrypto

_COLUMNS = ("customer_name", "customer_email", "customer_phone", "notes")


def _convert(schema_editor: Any, change: Any, *, with_index: bool) -> None:
    connection = schema_editor.connection
    quote = connection.ops.quote_name
    table = quote("booking_booking")
    columns = ", ".join(quote(c) for c in _COLUMNS)
    with connection.cursor() as cursor:
        cursor.execute(f"SELECT id, {columns} FROM {table}")  # noqa: S608 (quoted model names)  # nosec B608
        rows = cursor.fetchall()
    assignments = ", ".join(f"{quote(c)} = %s" for c in _COLUMNS)
    if with_index:
        assignments += f", {quote('customer_email_index')} = %s"
    with connection.cursor() as cursor:
        for row_id, *values in rows:
            new = [change(v) if v else v for v in values]
            if with_index:
                new.append(fieldcrypto.blind_index(values[1]) if values[1] else "")
            cursor.execute(
                f"UPDATE {table} SET {assignments} WHERE id = %s",  # noqa: S608 (quoted model names)  # nosec B608
                [*new, row_id],
            )


def encrypt_rows(apps: Any, schema_editor: Any) -> None:
    _convert(schema_editor, fieldcrypto.encrypt, with_index=True)


def decrypt_rows(apps: Any, schema_editor: Any) -> None:
    _convert(schema_editor, fieldcrypto.decrypt, with_index=False)


class Migration(migrations.Migration):
    dependencies = [
        ("booking", "0015_customer_email_plain"),
    ]

    operations = [
        migrations.AddField(
            model_name="booking",
            name="customer_email_index",
            field=security.fields.BlindIndexField(
                blank=True,
                db_index=True,
                default="",
                editable=False,
                max_length=64,
                source="customer_email",
            ),
        ),
        migrations.AlterField(
            model_name="booking",
            name="customer_email",
            field=security.fields.EncryptedEmailField(
                max_length=254,
                validators=[
                    booking.validators.validate_single_line,
                    booking.validators.validate_plain_email,
                ],
            ),
        ),
        migrations.AlterField(
            model_name="booking",
            name="customer_name",
            field=security.fields.EncryptedTextField(
                max_length=120, validators=[booking.validators.validate_single_line]
            ),
        ),
        migrations.AlterField(
            model_name="booking",
            name="customer_phone",
            field=security.fields.EncryptedTextField(
                blank=True, max_length=40, validators=[booking.validators.validate_single_line]
            ),
        ),
        migrations.AlterField(
            model_name="booking",
            name="notes",
            field=security.fields.EncryptedMultilineField(
                blank=True, max_length=2000, validators=[booking.validators.validate_text]
            ),
        ),
        migrations.RunPython(encrypt_rows, decrypt_rows),
    ]
