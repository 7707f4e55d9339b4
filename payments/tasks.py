"""Thin Celery tasks; the work is in payments.services and payments.refunds."""

from __future__ import annotations

import stripe
from celery import shared_task

from payments import emails, refunds, services


@shared_task(expires=55)
def holds_release() -> dict[str, int]:
    """Every minute (settings.schedule): release holds that ran out unpaid."""
    return services.holds_release()


@shared_task(
    autoretry_for=(stripe.APIConnectionError, stripe.RateLimitError, stripe.APIError),
    retry_backoff=30,
    retry_kwargs={"max_retries": 8},
    acks_late=True,
)
def refund_submit_task(refund_id: int) -> None:
    refunds.refund_submit(refund_id=refund_id)


@shared_task(
    autoretry_for=(OSError,), retry_backoff=30, retry_kwargs={"max_retries": 5}, acks_late=True
)
def refund_email_task(refund_id: int) -> None:
    emails.send_refund_email(refund_id=refund_id)
