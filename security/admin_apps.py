"""Django's admin app with our admin site as `admin.site` (INSTALLED_APPS names this class instead
of "django.contrib.admin"). A module of its own: app configs are imported while the app registry
is still loading, before the admin site's imports may run."""

from __future__ import annotations

from django.contrib.admin.apps import AdminConfig


class MFAAdminConfig(AdminConfig):
    default_site = "security.admin_site.MFAAdminSite"
