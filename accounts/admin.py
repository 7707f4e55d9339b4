from __future__ import annotations

import copy
from functools import partial

from django.contrib import admin
from django.contrib.auth.admin import UserAdmin as DjangoUserAdmin
from django.contrib.auth.forms import AdminUserCreationForm, UserChangeForm
from django.http import HttpRequest, HttpResponse
from django_otp.plugins.otp_totp.admin import TOTPDeviceAdmin as OTPTOTPDeviceAdmin
from django_otp.plugins.otp_totp.models import TOTPDevice

from accounts.models import User
from security.actors import Actor, Via
from security.admin import ReadOnlyAdminMixin
from security.password_change import AuditedAdminPasswordChangeForm


class UserCreationForm(AdminUserCreationForm):
    class Meta:
        model = User
        fields = ("email", "full_name")


class UserEditForm(UserChangeForm):
    class Meta:
        model = User
        fields = ("email", "full_name")


@admin.register(User)
class UserAdmin(DjangoUserAdmin):
    form = UserEditForm
    add_form = UserCreationForm
    ordering = ("email",)
    list_display = ("email", "full_name", "is_staff", "is_superuser", "is_active", "last_login")
    search_fields = ("email", "full_name")
    fieldsets = (
        (None, {"fields": ("email", "password")}),
        ("Profile", {"fields": ("full_name",)}),
        (
            "Permissions",
            {"fields": ("is_active", "is_staff", "is_superuser", "groups", "user_permissions")},
        ),
        ("Dates", {"fields": ("last_login", "date_joined")}),
    )
    add_fieldsets = (
        (None, {"classes": ("wide",), "fields": ("email", "full_name", "password1", "password2")}),
    )
    readonly_fields = ("last_login", "date_joined")
    change_password_form = AuditedAdminPasswordChangeForm

    def user_change_password(
        self, request: HttpRequest, id: str, form_url: str = ""
    ) -> HttpResponse:
        """Django's view, with the password form built with the actor of this request. The
        admin instance is shared by every request, so a shallow copy carries the per-request
        form class instead of an attribute set on the shared one."""
        per_request = copy.copy(self)
        per_request.change_password_form = partial(  # type: ignore[assignment]  # a partial is a form factory
            AuditedAdminPasswordChangeForm, actor=Actor.from_request(request, via=Via.ADMIN)
        )
        return DjangoUserAdmin.user_change_password(per_request, request, id, form_url)


# MFA devices (C13): operators see who has enrolled and when a device was last used (access
# reviews), but change nothing here: a reset goes through `manage.py mfa_reset`, which logs it.
admin.site.unregister(TOTPDevice)


@admin.register(TOTPDevice)
class TOTPDeviceAdmin(ReadOnlyAdminMixin, OTPTOTPDeviceAdmin):
    pass
