from __future__ import annotations

from django.contrib import admin
from django.urls import include, path

urlpatterns = [
    path("", include("security.urls")),
    path("api/v1/", include("booking.api.urls")),
    path("", include("booking.urls")),
    path("account/", include("accounts.urls")),
    path("admin/", admin.site.urls),
]
