from django.urls import path

from security import views
from security.health import HEALTHZ_PATH

urlpatterns = [
    path(HEALTHZ_PATH.lstrip("/"), views.healthz, name="healthz"),
    path("security/csp-report", views.csp_report, name="csp-report"),
    path(".well-known/security.txt", views.security_txt, name="security-txt"),
    path("security/policy", views.security_policy, name="security-policy"),
]
