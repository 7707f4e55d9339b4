"""The compliance check of customer data encryption at rest (C26): usable keys, and no
encrypted column holding a value that is not a ciphertext (written around the application, or
left over from before the migration). Counted with SQL, so the check reads no plaintext."""

from __future__ import annotations

from datetime import datetime

from django.conf import settings
from django.db import connection

from security import fieldcrypto
from security.compliance import Finding, failed, passed
from security.encryption_rotation import encrypted_models


def field_encryption(now: datetime) -> Finding:
    problems = fieldcrypto.key_problems()
    quote = connection.ops.quote_name
    plaintext: dict[str, int] = {}
    columns = 0
    with connection.cursor() as cursor:
        for model, encrypted, _indexes in encrypted_models():
            for column in encrypted:
                columns += 1
                cursor.execute(
                    f"SELECT count(*) FROM {quote(model._meta.db_table)} "  # noqa: S608 (quoted model names)  # nosec B608
                    f"WHERE {quote(column)} <> '' AND {quote(column)} NOT LIKE %s",
                    [fieldcrypto.PREFIX + "%"],
                )
                found = cursor.fetchone()[0]
                if found:
                    plaintext[f"{model._meta.db_table}.{column}"] = found
    evidence = {
        "keys": len(settings.FIELD_ENCRYPTION_KEYS),
        "encrypted_columns": columns,
        "plaintext_values": plaintext,
    }
    if problems:
        return failed(problems[0], **evidence)
    if plaintext:
        return failed(
            f"{sum(plaintext.values())} values stored without encryption in "
            f"{', '.join(sorted(plaintext))}",
            **evidence,
        )
    return passed(
        f"{columns} customer data columns hold ciphertexts only, under {evidence['keys']} key(s)",
        **evidence,
    )
