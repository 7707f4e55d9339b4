from __future__ import annotations

from django.contrib import admin
from django.urls import include, path

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
    # The language picker's form posts to /i18n/setlang/ (Django's set_language: a cookie, then
    # back to the page it came from).
    path("i18n/", include("django.conf.urls.i18n")),
]
