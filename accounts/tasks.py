from __future__ import annotations

from celery import shared_task


@shared_task(ignore_result=True, autoretry_for=(OSError,), retry_backoff=30, max_retries=3)
def password_reset_email_send(user_id: int) -> bool:
    """Queued by a password reset request (accounts.services.password_reset_request)."""
    from accounts.services import password_reset_email_send as send

    return send(user_id=user_id)
