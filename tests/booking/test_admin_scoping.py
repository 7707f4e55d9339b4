"""The scoping written once in booking/admin/scoping.py: saving, choices, bulk actions, search and
filters never reach another partner."""

from __future__ import annotations

import pytest
from admin_world import A_SERVICE, B_CUSTOMER, B_SERVICE, build_world

from booking.models import Booking, DateOverride, Partner, Service
from booking.roles import PARTNER_MEMBER, PARTNER_OWNER, ROLE_PERMISSIONS, SUPPORT
from tests import hostile_inputs as hostile
from tests.otp_login import login_verified

pytestmark = pytest.mark.django_db


@pytest.fixture
def world(client):
    world = build_world()
    login_verified(client, world.owner)
    return world


def _service_form(**extra: object) -> dict[str, object]:
    return {
        "name": "Beard trim",
        "slug": "beard",
        "description": "",
        "duration_minutes": 30,
        "price": "",
        "currency": "",
        "buffer_before_minutes": 0,
        "buffer_after_minutes": 0,
        "min_notice_minutes": 60,
        "horizon_days": 30,
        "slot_interval_minutes": "",
        "staff_choice": "any",
        "required_resource_kind": "",
        "is_active": "on",
        # The inline of the service's names in other languages: none posted.
        "translations-TOTAL_FORMS": 0,
        "translations-INITIAL_FORMS": 0,
        "translations-MIN_NUM_FORMS": 0,
        "translations-MAX_NUM_FORMS": 1000,
        **extra,
    }


def test_save_ignores_a_posted_foreign_partner(client, world) -> None:
    response = client.post("/admin/booking/service/add/", _service_form(partner=world.b.pk))
    assert response.status_code == 302
    assert Service.objects.get(slug="beard").partner == world.a


def test_override_saved_with_a_foreign_partner_id_belongs_to_the_own_partner(client, world) -> None:
    data = {"partner": world.b.pk, "date": "2030-01-01", "note": "Closed"}
    # The special-hours page of another partner does not exist for this user: nothing stored.
    assert client.post("/admin/booking/dateoverride/add/", data).status_code == 404
    assert not DateOverride.objects.filter(date="2030-01-01").exists()
    data["partner"] = ""  # the own partner's page
    assert client.post("/admin/booking/dateoverride/add/", data).status_code == 302
    assert DateOverride.objects.get(date="2030-01-01").partner == world.a
    # The unique (partner, date) rule holds without a database error: setting the date again
    # replaces its hours.
    response = client.post(
        "/admin/booking/dateoverride/add/", {**data, "r0_start": "10:00", "r0_end": "12:00"}
    )
    assert response.status_code == 302
    (override,) = DateOverride.objects.filter(date="2030-01-01")
    assert [(r.start.hour, r.end.hour) for r in override.ranges.all()] == [(10, 12)]


def test_service_slug_clash_within_the_partner_is_a_form_error(client, world) -> None:
    response = client.post("/admin/booking/service/add/", _service_form(slug="quill"))
    assert response.status_code == 200 and "already exists" in response.content.decode()


def test_foreign_key_choices_offer_only_own_services(client, world) -> None:
    before = Booking.objects.count()
    body = client.get("/admin/booking/booking/add/").content.decode()
    assert A_SERVICE in body and B_SERVICE not in body
    response = client.post(
        "/admin/booking/booking/add/",
        {
            "service": world.b_service.pk,
            "start": "2030-01-01T10:00",
            "customer_name": "X",
            "customer_email": "x@example.com",
        },
    )
    assert response.status_code == 200 and "Select a valid choice" in response.content.decode()
    assert Booking.objects.count() == before


def test_bulk_action_on_a_foreign_id_does_nothing(client, world) -> None:
    response = client.post(
        "/admin/booking/booking/",
        {
            "action": "cancel_selected",
            "_selected_action": [world.b_booking.pk],
            "confirm": "yes",
            "reason": "x",
        },
    )
    assert response.status_code in (200, 302)
    world.b_booking.refresh_from_db()
    assert world.b_booking.status == Booking.Status.CONFIRMED


def test_bulk_export_of_a_foreign_id_exports_nothing_of_it(client, world) -> None:
    response = client.post(
        "/admin/booking/booking/",
        {
            "action": "export_selected_csv",
            "_selected_action": [world.b_booking.pk, world.a_booking.pk],
        },
    )
    body = response.content.decode()
    assert B_CUSTOMER not in body and world.a_booking.customer_name in body


@pytest.mark.parametrize(
    "query",
    [
        f"?q={B_CUSTOMER.split()[0]}",
        "?q=barty@beta-cust.example",
        "?service__id__exact={b_service}",
        "?partner__id__exact={b}",
        "?status__exact=confirmed",
    ],
)
def test_search_and_filters_never_show_other_partners_bookings(client, world, query: str) -> None:
    url = "/admin/booking/booking/" + query.format(b_service=world.b_service.pk, b=world.b.pk)
    response = client.get(url, follow=True)
    body = response.content.decode()
    # (The search box echoes the user's own term; what matters is that no row of B is listed.)
    assert (
        f"/admin/booking/booking/{world.b_booking.pk}/change/" not in body and B_SERVICE not in body
    )


@pytest.mark.parametrize(
    ("term", "found"),
    [
        ("umberto@alpha-cust.example", True),
        ("  UMBERTO@Alpha-Cust.EXAMPLE ", True),  # whole address, any case
        ("umberto", False),  # customer data is encrypted (C26): no part-of-address search
        ("alpha-cust.example", False),
        ("Umberto Alphacust", False),
    ],
)
def test_owner_finds_a_booking_by_the_customers_whole_email(
    client, world, term: str, found: bool
) -> None:
    body = client.get("/admin/booking/booking/", {"q": term}).content.decode()
    assert (f"/admin/booking/booking/{world.a_booking.pk}/change/" in body) is found


def test_service_filter_lists_only_own_services(client, world) -> None:
    second = Service.objects.create(
        partner=world.a, name="Second", slug="second", duration_minutes=30
    )
    body = client.get("/admin/booking/booking/").content.decode()
    assert (
        f"service__id__exact={world.a_service.pk}" in body
        and f"service__id__exact={second.pk}" in body
    )
    assert f"service__id__exact={world.b_service.pk}" not in body


def test_autocomplete_only_returns_own_objects(client, world) -> None:
    data = client.get(
        "/admin/autocomplete/",
        {"app_label": "booking", "model_name": "booking", "field_name": "service", "term": ""},
    ).json()
    assert [r["id"] for r in data["results"]] == [str(world.a_service.pk)]
    data = client.get(
        "/admin/autocomplete/",
        {"app_label": "booking", "model_name": "service", "field_name": "partner", "term": "Yodel"},
    ).json()
    assert data["results"] == []


def test_partner_users_cannot_create_partners(client, world) -> None:
    assert client.get("/admin/booking/partner/add/").status_code == 403
    body = client.get(f"/admin/booking/partner/{world.a.pk}/change/").content.decode()
    for field in (
        "name",
        "time_zone",
        "contact_email",
        "cancellation_cutoff_hours",
        "widget_origins",
    ):
        assert f'name="{field}"' in body
    assert 'name="slug"' not in body


def test_search_by_support_without_grant_does_not_reveal_customers(client, world) -> None:
    login_verified(client, world.support)
    body = client.get("/admin/booking/booking/?q=Umberto@Alpha-Cust.example").content.decode()
    assert "0 results" in body or f"/admin/booking/booking/{world.a_booking.pk}/change/" not in body
    login_verified(client, world.support_granted)
    body = client.get("/admin/booking/booking/?q=Umberto@Alpha-Cust.example").content.decode()
    assert f"/admin/booking/booking/{world.a_booking.pk}/change/" in body


def test_role_groups_in_the_database_match_booking_roles() -> None:
    from django.contrib.auth.models import Group

    from booking.roles import roles_ensure

    roles_ensure()
    for name in (PARTNER_OWNER, PARTNER_MEMBER, SUPPORT):
        codenames = set(Group.objects.get(name=name).permissions.values_list("codename", flat=True))
        expected = {f"{a}_{m}" for m, actions in ROLE_PERMISSIONS[name].items() for a in actions}
        assert codenames == expected


def test_the_latest_migration_definition_equals_booking_roles() -> None:
    import importlib

    # The latest migration that sets the roles holds the whole definition: 0012 added the staff
    # and resource permissions, 0019 the customer list, 0020 the service translations, 0023
    # the owner's export and anonymisation of a customer, 0030 the owner's invitations, 0032 the
    # closures.
    migration = importlib.import_module("booking.migrations.0032_closure_role")
    assert migration.ROLES == ROLE_PERMISSIONS


# --- hostile numbers and dates in the set-up forms: a form error, never a 500 --------------------

SERVICE_NUMBERS = (
    "duration_minutes",
    "buffer_before_minutes",
    "buffer_after_minutes",
    "min_notice_minutes",
    "horizon_days",
    "slot_interval_minutes",
    "price",
)
PRICES = ["1e999999", "0E+1000000000", "1E-1000000000", "-0.01", "0.001", "sNaN"]


@pytest.mark.parametrize("field", SERVICE_NUMBERS)
def test_hostile_numbers_in_the_service_form_never_store_nonsense(client, world, field) -> None:
    for value in [*hostile.NUMBERS, *(PRICES if field == "price" else [])]:
        data = _service_form(**{field: value})
        if field == "price":
            data["currency"] = "CHF"
        response = client.post("/admin/booking/service/add/", data)
        assert response.status_code in (200, 302), (value, response.status_code)
        if response.status_code == 200:
            assert "errorlist" in response.content.decode(), value
        else:  # accepted: only a value the model's own rules allow (e.g. "0" minutes of buffer)
            service = Service.objects.get(slug="beard")
            service.full_clean()
            service.delete()


def test_hostile_numbers_in_the_partner_profile_never_store_nonsense(client, world) -> None:
    url = f"/admin/booking/partner/{world.a.pk}/change/"
    base = {
        "name": world.a.name,
        "time_zone": world.a.time_zone,
        "contact_email": world.a.contact_email,
        "widget_origins": "",
        "openinghours_set-TOTAL_FORMS": 0,
        "openinghours_set-INITIAL_FORMS": 0,
        "openinghours_set-MIN_NUM_FORMS": 0,
        "openinghours_set-MAX_NUM_FORMS": 1000,
    }
    for value in hostile.NUMBERS:
        response = client.post(url, {**base, "cancellation_cutoff_hours": value})
        assert response.status_code in (200, 302), (value, response.status_code)
        if response.status_code == 200:
            assert "errorlist" in response.content.decode(), value
        Partner.objects.get(pk=world.a.pk).full_clean()


# A real date with spaces around it is that date (the admin's forms strip what is typed).
@pytest.mark.parametrize("value", [d for d in hostile.DATES if d.strip() != "2026-01-01"])
def test_hostile_override_dates_are_form_errors(client, world, value: str) -> None:
    data = {"date": value, "note": "Closed"}
    response = client.post("/admin/booking/dateoverride/add/", data)
    assert response.status_code == 200 and "errorlist" in response.content.decode()
    assert not DateOverride.objects.exists()


def test_the_partner_sees_the_customers_marketing_consent_and_zone(client, world) -> None:
    Booking.objects.filter(pk=world.a_booking.pk).update(
        marketing_consent_at=world.a_booking.start,
        marketing_notice_version="2026-12-01",
        time_zone="America/New_York",
    )
    body = client.get(f"/admin/booking/booking/{world.a_booking.pk}/change/").content.decode()
    assert "Marketing consent" in body
    assert "notice version 2026-12-01" in body
    assert "America/New_York" in body
    # Another partner's booking (and its consent) stays out of reach.
    other = client.get(f"/admin/booking/booking/{world.b_booking.pk}/change/")
    assert other.status_code in (302, 404)


def test_changing_the_lead_times_in_the_admin_replans_the_unsent_reminders(client, world) -> None:
    from datetime import timedelta

    from admin_world import make_booking
    from django.utils import timezone

    from booking.models import BookingReminder

    service = world.a_service
    ahead = make_booking(service, timezone.now() + timedelta(days=5), customer_email="r@x.ch")
    BookingReminder.objects.create(
        booking=ahead, lead_hours=24, due_at=ahead.start - timedelta(hours=24)
    )
    data = _service_form(
        partner=world.a.pk,
        name=service.name,
        slug=service.slug,
        duration_minutes=service.duration_minutes,
        reminder_hours=48,
        second_reminder_hours=2,
    )
    response = client.post(f"/admin/booking/service/{service.pk}/change/", data)
    assert response.status_code == 302, response.content.decode()[:2000]
    assert sorted(ahead.reminders.values_list("lead_hours", flat=True)) == [2, 48]
