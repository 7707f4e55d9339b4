"""URLconf for the browser test of the 500 page: the real URLs plus one view that fails."""

from __future__ import annotations

from django.http import HttpRequest, HttpResponse
from django.urls import include, path


def crash(request: HttpRequest) -> HttpResponse:
    raise RuntimeError("deliberate failure for the 500 page test")


urlpatterns = [
    path("__crash__/", crash),
    path("", include("settings.urls")),
]
