from __future__ import annotations

from typing import Any, ClassVar

from django.conf import settings
from django.contrib.auth.base_user import AbstractBaseUser, BaseUserManager
from django.contrib.auth.models import PermissionsMixin
from django.db import models
from django.db.models.functions import Lower
from django.utils import timezone
from django_otp.models import Device, ThrottlingMixin, TimestampMixin

from accounts import backup_codes


def normalize_email_address(email: str) -> str:
    # The whole address is lower-cased: mailbox names are case-insensitive in practice, and a
    # login must not depend on how the user typed it.
    return email.strip().lower()


class UserManager(BaseUserManager["User"]):
    use_in_migrations = True

    def _create_user(self, email: str, password: str | None, **extra: Any) -> User:
        if not email:
            raise ValueError("An email address is required.")
        user = self.model(email=normalize_email_address(email), **extra)
        user.set_password(password)
        user.full_clean(exclude=["password"])
        user.save(using=self._db)
        return user

    def create_user(self, email: str, password: str | None = None, **extra: Any) -> User:
        extra.setdefault("is_staff", False)
        extra.setdefault("is_superuser", False)
        return self._create_user(email, password, **extra)

    def create_superuser(self, email: str, password: str | None = None, **extra: Any) -> User:
        extra["is_staff"] = True
        extra["is_superuser"] = True
        return self._create_user(email, password, **extra)

    def get_by_natural_key(self, username: str | None) -> User:
        return self.get(email__iexact=normalize_email_address(username or ""))


class User(AbstractBaseUser, PermissionsMixin):
    """A person who logs in: platform staff or a partner's user. Customers do not log in."""

    # unique=True for Django's auth checks; the Lower() constraint below makes it case-insensitive.
    email = models.EmailField("email address", max_length=254, unique=True)
    full_name = models.CharField(max_length=150, blank=True)
    is_staff = models.BooleanField(
        default=False, help_text="Can log into the admin (partner users and platform staff)."
    )
    is_active = models.BooleanField(default=True)
    date_joined = models.DateTimeField(default=timezone.now)

    objects = UserManager()

    EMAIL_FIELD = "email"
    USERNAME_FIELD = "email"
    REQUIRED_FIELDS: ClassVar[list[str]] = []

    class Meta:
        constraints = [
            models.UniqueConstraint(Lower("email"), name="accounts_user_email_ci_unique"),
        ]

    def __str__(self) -> str:
        return self.email

    def clean(self) -> None:
        super().clean()
        self.email = normalize_email_address(self.email)

    def get_full_name(self) -> str:
        return self.full_name or self.email

    def get_short_name(self) -> str:
        return self.full_name.split(" ")[0] if self.full_name else self.email


class BackupCodeDevice(ThrottlingMixin, TimestampMixin, Device):
    """A user's one-time MFA backup codes (C13), as one django-otp device: a session that passes
    with a backup code is verified like any other (OTPMiddleware). django-otp's own static
    device keeps its tokens in clear; the codes here are `BackupCode` rows holding only a salted
    hash (accounts.backup_codes)."""

    class Meta:
        verbose_name = "backup code set"
        constraints = [
            models.UniqueConstraint(fields=["user"], name="accounts_one_backup_code_set_per_user")
        ]

    def get_throttle_factor(self) -> int:
        return int(getattr(settings, "OTP_TOTP_THROTTLE_FACTOR", 1))

    def verify_token(self, token: str) -> bool:
        """Consume the code `token` matches. The delete must remove the row, so two requests
        racing with one code cannot both pass (callers also lock this device's row)."""
        allowed, _ = self.verify_is_allowed()
        if not allowed:
            return False
        match = next(
            (
                c
                for c in self.codes.all()
                if backup_codes.matches(token, salt=c.salt, code_hash=c.code_hash)
            ),
            None,
        )
        consumed = match is not None and BackupCode.objects.filter(pk=match.pk).delete()[0] == 1
        if consumed:
            self.throttle_reset(commit=False)
            self.set_last_used_timestamp(commit=False)
            self.save()
        else:
            self.throttle_increment(commit=True)
        return consumed


class BackupCode(models.Model):
    """One unused backup code: a salted SHA-256, never the code (accounts.backup_codes)."""

    device = models.ForeignKey(BackupCodeDevice, on_delete=models.CASCADE, related_name="codes")
    salt = models.CharField(max_length=32)
    code_hash = models.CharField(max_length=64)

    def __str__(self) -> str:
        return f"backup code {self.pk} of {self.device.user_id}"
