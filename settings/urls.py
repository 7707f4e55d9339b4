from __future__ import annotations

from django.contrib import admin
from django.urls import include, path
from django.views.decorators.csrf import csrf_exempt
from django.views.i18n import set_language

from accounts.views import password_reset_request

urlpatterns = [
    path("", include("security.urls")),
    path("api/v1/", include("booking.api.urls")),
    path("", include("payments.urls")),
    path("", include("booking.urls")),
    # Under this name the admin's login page links to it ("Forgotten your login credentials?").
    path("account/password-reset/", password_reset_request, name="admin_password_reset"),
    path("account/", include("accounts.urls")),
    path("admin/", admin.site.urls),
    # The language picker's form posts here (Django's set_language: a cookie, then back to the
    # page it came from, if that is on this site). Without a CSRF token: a forged post can only
    # change a visitor's display language, while a token in the picker would set a cookie and
    # add "Vary: Cookie" to every public page, which must stay cacheable by a shared cache.
    path("i18n/setlang/", csrf_exempt(set_language), name="set_language"),
]
