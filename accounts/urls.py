from __future__ import annotations

from django.urls import path

from accounts import views

app_name = "accounts"

urlpatterns = [
    path("mfa/", views.mfa_settings, name="mfa-settings"),
    path("mfa/verify/", views.mfa_verify, name="mfa-verify"),
    path("mfa/enrol/", views.mfa_enrol, name="mfa-enrol"),
    path("mfa/enrol/qr.svg", views.mfa_enrol_qr, name="mfa-enrol-qr"),
    path("mfa/backup-codes/", views.mfa_backup_codes, name="mfa-backup-codes"),
    # The request page is "admin_password_reset" (settings/urls.py): the admin login links to it.
    path("password-reset/done/", views.PasswordResetDoneView.as_view(), name="password-reset-done"),
    path(
        "reset/<uidb64>/<token>/",
        views.PasswordResetConfirmView.as_view(),
        name="password-reset-confirm",
    ),
    path("reset/done/", views.PasswordResetCompleteView.as_view(), name="password-reset-complete"),
]
