"""booking's deploy checks: booking.E001 while the manage-link key is derived from SECRET_KEY."""

from __future__ import annotations

from django.core import checks as django_checks
from django.test import override_settings

from booking import checks


def test_a_derived_manage_link_key_fires_e001_on_deploy() -> None:
    with override_settings(MANAGE_LINK_KEY_IS_DERIVED=True):
        errors = checks.check_manage_link_key()
    assert [e.id for e in errors] == ["booking.E001"]
    assert "MANAGE_LINK_KEY_FILE" in errors[0].hint


def test_an_explicit_manage_link_key_passes() -> None:
    with override_settings(MANAGE_LINK_KEY_IS_DERIVED=False):
        assert checks.check_manage_link_key() == []


def test_the_check_runs_only_on_deploy() -> None:
    with override_settings(MANAGE_LINK_KEY_IS_DERIVED=True):
        plain = django_checks.run_checks(include_deployment_checks=False)
        deploy = django_checks.run_checks(include_deployment_checks=True)
    assert "booking.E001" not in {e.id for e in plain}
    assert "booking.E001" in {e.id for e in deploy}
