"""Production settings with Django's default middleware (what `django-admin startproject` writes),
the baseline `bench/bench_http.py` compares the full security stack with. For the benchmark only:
nothing deployed ever loads this module."""

from __future__ import annotations

from settings.prod import *  # noqa: F403

MIDDLEWARE = [
    "django.middleware.security.SecurityMiddleware",
    "django.contrib.sessions.middleware.SessionMiddleware",
    "django.middleware.common.CommonMiddleware",
    "django.middleware.csrf.CsrfViewMiddleware",
    "django.contrib.auth.middleware.AuthenticationMiddleware",
    "django.contrib.messages.middleware.MessageMiddleware",
    "django.middleware.clickjacking.XFrameOptionsMiddleware",
]
