from __future__ import annotations

from celery import shared_task

from booking.emails import send_booking_event, send_manage_links


@shared_task(
    autoretry_for=(OSError,), retry_backoff=30, retry_kwargs={"max_retries": 5}, acks_late=True
)
def booking_notify(booking_id: int, event: str, audience: str | None = None) -> None:
    """Emails for a booking event ("confirmed", "cancelled", "rescheduled") to one audience
    ("customer" or "partner"), enqueued after commit."""
    send_booking_event(booking_id=booking_id, event=event, audience=audience)


@shared_task(
    autoretry_for=(OSError,), retry_backoff=30, retry_kwargs={"max_retries": 5}, acks_late=True
)
def manage_links_send(booking_ids: list[int], language: str | None = None) -> None:
    """Fresh manage links for the given bookings of one customer, in one email, in `language`
    (without one: the language the first booking was made in)."""
    send_manage_links(booking_ids=booking_ids, language=language)


@shared_task(time_limit=600, soft_time_limit=540)
def reminders_send() -> dict[str, int]:
    """The due reminder emails (every minute, settings.schedule). Safe to overlap."""
    from booking.reminders import reminders_send_due

    return reminders_send_due()


@shared_task(time_limit=1800, soft_time_limit=1740)
def retention_enforce() -> dict[str, int]:
    """Daily (settings.schedule): anonymise bookings past their partner's retention period.
    Safe to run twice: anonymised bookings are not touched again."""
    from booking.erasure import retention_enforce as enforce

    return enforce()


@shared_task(ignore_result=True, autoretry_for=(OSError,), retry_backoff=30, max_retries=5)
def invitation_send(invitation_id: int) -> bool:
    """Queued after an invitation is created or re-sent (booking.invitations): the link's secret
    is made here and goes into the email only, never into the queue."""
    from booking.invitations import invitation_email_send

    return invitation_email_send(invitation_id=invitation_id)
