"""Password changes (C31): one write path that takes the actor and logs the change with it.

Every form that sets a password in the product (the admin's "change my password", an operator
setting someone's password in the admin, the reset link) is one of the `Audited*` forms below,
built with the actor by its view. They set the password through `password_set`, which writes the
`password_change` event in the same transaction.

A password set some other way (`manage.py changepassword`, a shell) is still noticed by the user
model's post_save (security.signals) and logged without an actor ("attributed": false): nothing
changes a password unlogged, and no code looks for the current request to guess who did it.
"""

from __future__ import annotations

from typing import Any

from django.contrib.admin.forms import AdminPasswordChangeForm as AdminOwnPasswordChangeForm
from django.contrib.auth.forms import AdminPasswordChangeForm, SetPasswordForm
from django.db import transaction

from security.actors import Actor
from security.events import SecurityEventType, record_event

# Set on a user instance whose password change this module is logging already, so the post_save
# safety net does not log it a second time.
AUDITED_FLAG = "_password_change_audited"


def password_set(*, user: Any, raw_password: str | None, actor: Actor, commit: bool = True) -> Any:
    """Set (or, with None, disable) `user`'s password and log who did it. The raw password is
    never logged or stored; only its hash is saved."""
    if raw_password is None:
        user.set_unusable_password()
    else:
        user.set_password(raw_password)
    if not commit:
        return user
    with transaction.atomic():
        setattr(user, AUDITED_FLAG, True)
        try:
            user.save()
        finally:
            setattr(user, AUDITED_FLAG, False)
        account = actor.account
        record_event(
            event_type=SecurityEventType.PASSWORD_CHANGE,
            actor=actor,
            target=user.get_username(),
            detail={
                "by_self": account is not None and account.pk == user.pk,
                "attributed": True,
            },
        )
    return user


class _Audited:
    """Django's password forms, saving through `password_set` with the actor of the view."""

    user: Any
    cleaned_data: dict[str, Any]

    def __init__(self, *args: Any, actor: Actor, **kwargs: Any) -> None:
        self.actor = actor
        super().__init__(*args, **kwargs)

    def set_password_and_save(
        self,
        user: Any,
        password_field_name: str = "password1",  # noqa: S107 - a field name, not a password
        commit: bool = True,
    ) -> Any:
        return password_set(
            user=user,
            raw_password=self.cleaned_data[password_field_name],
            actor=self.actor,
            commit=commit,
        )


class AuditedSetPasswordForm(_Audited, SetPasswordForm):
    """The reset link's form."""


class AuditedOwnPasswordChangeForm(_Audited, AdminOwnPasswordChangeForm):
    """The admin's "change my password" (asks for the old password)."""


class AuditedAdminPasswordChangeForm(_Audited, AdminPasswordChangeForm):
    """An operator setting (or disabling) someone's password in the user admin."""

    def save(self, commit: bool = True) -> Any:
        if self.cleaned_data["set_usable_password"]:
            return self.set_password_and_save(self.user, commit=commit)
        return password_set(user=self.user, raw_password=None, actor=self.actor, commit=commit)
