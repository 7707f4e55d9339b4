"""Every model that can refer to a partner, or to a partner's user, is covered by partner
deletion (C25): a new model that refers to one, in any app, fails here until
booking.deletion.PARTNER_DATA (or the app's own registration) says how it is covered."""

from __future__ import annotations

from django.apps import apps
from django.conf import settings
from django.db import models

from booking.deletion import PARTNER_DATA, Coverage
from booking.erasure import CUSTOMER_DATA
from booking.models import Customer, Partner


def _label(model: type[models.Model]) -> str:
    return f"{model._meta.app_label}.{model._meta.object_name}"


def _referring_models(roots: set[str] | None = None) -> set[str]:
    """Models from which a chain of foreign keys (one-to-one and many-to-many included, their
    automatic tables too) leads to a partner or to a user (or to `roots`)."""
    roots = roots or {_label(Partner), settings.AUTH_USER_MODEL}
    every = list(apps.get_models(include_auto_created=True))
    targets: dict[str, set[str]] = {
        _label(model): {
            _label(f.related_model)
            for f in model._meta.get_fields(include_hidden=True)
            if f.is_relation
            and f.concrete
            and f.related_model is not None
            and not isinstance(f.related_model, str)
        }
        for model in every
    }
    reaching = set(roots)
    changed = True
    while changed:
        changed = False
        for label, refs in targets.items():
            if label not in reaching and refs & reaching:
                reaching.add(label)
                changed = True
    return reaching


def test_every_model_that_refers_to_a_partner_or_its_users_is_covered_by_deletion() -> None:
    missing = sorted(_referring_models() - set(PARTNER_DATA))
    assert missing == [], (
        f"Not covered by partner deletion: {missing}. Delete, detach or pseudonymise their rows "
        "in booking.deletion.partner_delete (or a partner_deleting receiver) and list them in "
        "PARTNER_DATA / register_partner_data."
    )


def test_the_walk_finds_models_through_chains_not_only_direct_keys() -> None:
    found = _referring_models()
    # A reminder refers to a booking, which refers to the partner; a backup code to its device,
    # which refers to the user.
    assert {"booking.BookingReminder", "accounts.BackupCode", "payments.Refund"} <= found


def test_the_coverage_list_names_only_real_models_with_a_known_treatment() -> None:
    labels = {_label(m) for m in apps.get_models(include_auto_created=True)}
    known = {v for k, v in vars(Coverage).items() if k.isupper()}
    assert set(PARTNER_DATA) <= labels
    assert set(PARTNER_DATA.values()) <= known


def test_every_model_that_refers_to_a_customer_is_covered_by_erasure() -> None:
    found = _referring_models({_label(Customer)})
    assert "payments.Payment" in found
    missing = sorted(found - set(CUSTOMER_DATA))
    assert missing == [], (
        f"Not covered by customer erasure: {missing}. Anonymise or delete their personal "
        "fields in booking.erasure.customer_erase and list them in CUSTOMER_DATA."
    )
