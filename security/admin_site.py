"""The admin site (C13): it answers only staff sessions that passed MFA, and its login hands a
password-authenticated user over to the MFA step instead of showing the login form again. Its
logout answers every session, so one waiting at the MFA step can end itself too.
Installed as the default admin site by security.admin_apps.MFAAdminConfig, so `admin.site` and
every `@admin.register` use it."""

from __future__ import annotations

from collections.abc import Callable
from functools import partial
from typing import Any

from django.conf import settings
from django.contrib.admin import AdminSite, ModelAdmin
from django.contrib.auth.views import PasswordChangeView
from django.http import HttpRequest, HttpResponse, HttpResponseRedirect
from django.template.response import TemplateResponse
from django.urls import URLPattern, URLResolver, path, reverse
from django.utils.functional import lazy
from django.utils.translation import gettext, gettext_lazy
from django.views.decorators.cache import never_cache

from security.actors import Actor, Via
from security.admin_guard import ChangelistFilterGuard
from security.mfa import is_verified, mfa_pending, mfa_step_url
from security.password_change import AuditedOwnPasswordChangeForm

# Home pages apps put in front of the admin's index (booking: a partner's day at a glance). Each
# answers a request it has a home page for, or None (the next one, then the admin's index).
HomePage = Callable[[HttpRequest, AdminSite], TemplateResponse | None]
_home_pages: list[HomePage] = []


def register_home_page(page: HomePage) -> None:
    if page not in _home_pages:
        _home_pages.append(page)


def platform_name() -> str:
    return str(settings.PLATFORM_NAME) or gettext("Online booking")


class MFAAdminSite(AdminSite):
    # The platform's name (settings.PLATFORM_NAME, else "Online booking" in the reader's
    # language) in the header and page titles instead of "Django administration"; worked out
    # when shown, so the setting and the language are the current ones.
    site_header = lazy(platform_name, str)()
    site_title = lazy(platform_name, str)()
    index_title = gettext_lazy("Workspace")

    def register(self, model_or_iterable: Any, admin_class: Any = None, **options: Any) -> None:
        # Every admin registered here, ours and third-party apps' alike, gets the changelist
        # filter guard (C35): one place, so a new admin cannot forget it.
        admin_class = admin_class or ModelAdmin
        if not issubclass(admin_class, ChangelistFilterGuard):
            admin_class = type(
                admin_class.__name__,
                (ChangelistFilterGuard, admin_class),
                {"__module__": admin_class.__module__, "__doc__": admin_class.__doc__},
            )
        super().register(model_or_iterable, admin_class, **options)

    def has_permission(self, request: HttpRequest) -> bool:
        return super().has_permission(request) and is_verified(request.user)

    def get_urls(self) -> list[URLResolver | URLPattern]:
        # The admin wraps its logout in the permission check, which would send a session that
        # has not passed MFA back to the MFA step instead of logging it out. Logging out needs
        # no permission (Django's logout view answers POST only, with CSRF).
        logout = path("logout/", never_cache(self.logout), name="logout")
        return [logout if getattr(p, "name", None) == "logout" else p for p in super().get_urls()]

    def each_context(self, request: HttpRequest) -> dict[str, Any]:
        context = super().each_context(request)
        if not self.has_permission(request):
            # The MFA pages use the admin's look: no menu of the admin's models before MFA.
            context.update(available_apps=[], is_nav_sidebar_enabled=False)
        return context

    def index(
        self, request: HttpRequest, extra_context: dict[str, Any] | None = None
    ) -> TemplateResponse:
        for page in _home_pages:
            response = page(request, self)
            if response is not None:
                return response
        return super().index(request, extra_context)

    def password_change(
        self, request: HttpRequest, extra_context: dict[str, Any] | None = None
    ) -> TemplateResponse:
        """AdminSite.password_change, with a form that logs the change with its actor (the
        user, from this request). Django's method has no way to hand the form an argument, and the
        site is shared by every request, so the view is built here rather than configured."""
        defaults: dict[str, Any] = {
            "form_class": partial(
                AuditedOwnPasswordChangeForm, actor=Actor.from_request(request, via=Via.ADMIN)
            ),
            "success_url": reverse("admin:password_change_done", current_app=self.name),
            "extra_context": {**self.each_context(request), **(extra_context or {})},
        }
        if self.password_change_template is not None:
            defaults["template_name"] = self.password_change_template
        request.current_app = self.name
        return PasswordChangeView.as_view(**defaults)(request)  # type: ignore[return-value]  # renders a TemplateResponse

    def login(
        self, request: HttpRequest, extra_context: dict[str, Any] | None = None
    ) -> HttpResponse:
        # 1. Password done, MFA not: the MFA step, never the login form again (no loop).
        if request.method == "GET" and mfa_pending(request):
            return HttpResponseRedirect(mfa_step_url(request.GET.get("next")))
        response = super().login(request, extra_context)
        # 2. The password was right: the MFA step, carrying the page the user asked for (the
        #    login view has already checked that it is one of ours).
        if request.method == "POST" and response.status_code == 302 and mfa_pending(request):
            return HttpResponseRedirect(mfa_step_url(response["Location"]))
        return response
