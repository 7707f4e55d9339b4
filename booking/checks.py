"""booking's system checks, so `manage.py check --deploy` tells the operator.

Ids: booking.E001 the manage-link key is not set explicitly in production (it falls back to a
key derived from SECRET_KEY, so rotating SECRET_KEY would silently revoke every link customers
hold in their mailboxes, and one leaked secret would forge both sessions and links).
"""

from __future__ import annotations

from django.conf import settings
from django.core.checks import Error, Tags, register


@register(Tags.security, deploy=True)
def check_manage_link_key(app_configs: object = None, **kwargs: object) -> list[Error]:
    # Deploy only: development and the tests use the fallback on purpose.
    if settings.MANAGE_LINK_KEY_IS_DERIVED:
        return [
            Error(
                "MANAGE_LINK_KEY is not set: the customers' manage links are signed with a key "
                "derived from SECRET_KEY.",
                hint=(
                    "Set MANAGE_LINK_KEY (or MANAGE_LINK_KEY_FILE) to a secret of at least 32 "
                    "characters: python -c 'import secrets; print(secrets.token_urlsafe(48))'. "
                    "Keep it when rotating SECRET_KEY; changing it revokes every link sent."
                ),
                id="booking.E001",
            )
        ]
    return []
