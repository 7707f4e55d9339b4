"""Who did it: the actor every write service takes explicitly (the "acting user" of an action).

A service that changes data is told who acts, rather than looking for a request somewhere: the
same service runs in a view, a Celery job, a webhook or a management command, and the audit event
it writes in its own transaction must name the actor in each case.

- `Actor.user(user, ip=...)`: a person logged in (a partner in the admin, an operator).
- `Actor.customer(ip=..., via=...)`: a customer, who never logs in: through the public booking
  pages or widget API, or through the private manage link of one booking.
- `Actor.system(job)`: a scheduled job or a reaction to a provider's event (a hold running out,
  a payment confirmed by Stripe's webhook).

This module imports nothing of the other apps (ARCHITECTURE: security is a layer of its own).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from django.db import models

if TYPE_CHECKING:
    from django.contrib.auth.base_user import AbstractBaseUser
    from django.http import HttpRequest


class ActorKind(models.TextChoices):
    USER = "user", "User"
    CUSTOMER = "customer", "Customer"
    SYSTEM = "system", "System"


class Via(models.TextChoices):
    """The way a customer or the system reached the service (kept in the audit event)."""

    BOOKING_PAGE = "booking_page", "Public booking page"
    WIDGET_API = "widget_api", "Booking widget API"
    MANAGE_LINK = "manage_link", "Private manage link"
    ADMIN = "admin", "Admin"
    RESET_LINK = "reset_link", "Password reset link"
    INVITATION_LINK = "invitation_link", "Invitation link"
    COMMAND = "command", "Management command"
    JOB = "job", "Scheduled job"
    STRIPE_WEBHOOK = "stripe_webhook", "Stripe webhook"
    STRIPE_API = "stripe_api", "Stripe API read"


@dataclass(frozen=True)
class Actor:
    kind: ActorKind
    via: Via
    # The logged-in user for USER actors; None for customers and the system.
    account: AbstractBaseUser | None = None
    ip: str = ""
    # The job's name for SYSTEM actors ("holds_release"), for the audit trail.
    job: str = ""

    def __post_init__(self) -> None:
        if (self.kind == ActorKind.USER) != (self.account is not None):
            raise ValueError("A user actor, and only a user actor, has an account.")
        if self.kind == ActorKind.SYSTEM and not self.job:
            raise ValueError("A system actor names its job.")

    @classmethod
    def user(cls, account: AbstractBaseUser, *, ip: str = "", via: Via = Via.ADMIN) -> Actor:
        return cls(kind=ActorKind.USER, via=via, account=account, ip=ip)

    @classmethod
    def customer(cls, *, via: Via, ip: str = "") -> Actor:
        return cls(kind=ActorKind.CUSTOMER, via=via, ip=ip)

    @classmethod
    def system(cls, job: str, *, via: Via = Via.JOB, ip: str = "") -> Actor:
        """A job, or the platform reacting to a provider (`ip`: where the provider called from)."""
        return cls(kind=ActorKind.SYSTEM, via=via, job=job, ip=ip)

    @classmethod
    def from_request(cls, request: HttpRequest, *, via: Via) -> Actor:
        """The person behind a request: the logged-in user, or else a customer."""
        from security.client_ip import client_ip

        ip = client_ip(request)
        account: Any = getattr(request, "user", None)
        if account is not None and account.is_authenticated:
            return cls.user(account, ip=ip, via=via)
        return cls.customer(via=via, ip=ip)

    @property
    def is_customer(self) -> bool:
        return self.kind == ActorKind.CUSTOMER

    def describe(self) -> dict[str, str]:
        """What the audit event keeps of the actor besides the account (which has columns)."""
        described = {"actor_kind": str(self.kind.value), "via": str(self.via.value)}
        if self.job:
            described["job"] = self.job
        return described
