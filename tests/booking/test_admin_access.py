"""C15 access matrix: every admin URL that touches partner data x every role, with the expected
status and a check that no response body carries data the role must not see. Partner A's
objects are the subjects; the member of partner B is "the other partner"; partner A's stylist
(a member linked to a staff member) sees her own bookings only; the superuser is the operator."""

from __future__ import annotations

from collections.abc import Callable
from datetime import timedelta

import pytest
from admin_world import (
    A_ALL,
    A_CUSTOMER_DATA,
    A_OWN_CUSTOMER,
    B_ALL,
    B_CUSTOMER_DATA,
    World,
    build_world,
)

from booking.models import Closure, DateOverride
from payments.models import Payment
from tests.otp_login import login_verified

pytestmark = pytest.mark.django_db

ROLES = ("owner", "member_b", "stylist_a", "support", "support_granted", "superuser", "anonymous")
R = 302  # redirect: the admin's "does not exist" for objects out of scope; login for anonymous

URLS: dict[str, Callable[[World], str]] = {
    "booking_changelist": lambda w: "/admin/booking/booking/",
    "booking_search": lambda w: "/admin/booking/booking/?q=cust",
    "booking_filter_service": lambda w: (
        f"/admin/booking/booking/?service__id__exact={w.a_service.pk}"
    ),
    "booking_change": lambda w: f"/admin/booking/booking/{w.a_booking.pk}/change/",
    "booking_add": lambda w: "/admin/booking/booking/add/",
    "booking_delete": lambda w: f"/admin/booking/booking/{w.a_booking.pk}/delete/",
    "booking_history": lambda w: f"/admin/booking/booking/{w.a_booking.pk}/history/",
    "booking_cancel": lambda w: f"/admin/booking/booking/{w.a_booking.pk}/cancel/",
    "booking_reschedule": lambda w: f"/admin/booking/booking/{w.a_booking.pk}/reschedule/",
    "booking_export": lambda w: "/admin/booking/booking/export/",
    "calendar_feeds": lambda w: "/admin/booking/booking/calendar/feeds/",
    "calendar": lambda w: (
        f"/admin/booking/booking/calendar/?partner={w.a.pk}&week={w.a_booking.start.date()}"
    ),
    "autocomplete_service": lambda w: (
        "/admin/autocomplete/?app_label=booking&model_name=booking&field_name=service"
    ),
    "autocomplete_partner": lambda w: (
        "/admin/autocomplete/?app_label=booking&model_name=service&field_name=partner"
    ),
    "partner_changelist": lambda w: "/admin/booking/partner/",
    "partner_change": lambda w: f"/admin/booking/partner/{w.a.pk}/change/",
    "partner_history": lambda w: f"/admin/booking/partner/{w.a.pk}/history/",
    "service_changelist": lambda w: "/admin/booking/service/",
    "service_change": lambda w: f"/admin/booking/service/{w.a_service.pk}/change/",
    "dateoverride_changelist": lambda w: "/admin/booking/dateoverride/",
    # Special hours of a date: read on their change page, set on the page that shows first the
    # bookings they leave out (the add page; the other partner naming A gets a 404).
    "dateoverride_change": lambda w: f"/admin/booking/dateoverride/{_an_override(w).pk}/change/",
    "dateoverride_add": lambda w: f"/admin/booking/dateoverride/add/?partner={w.a.pk}",
    "grant_changelist": lambda w: "/admin/booking/supportgrant/",
    "grant_add": lambda w: "/admin/booking/supportgrant/add/",
    "grant_change": lambda w: f"/admin/booking/supportgrant/{w.grant.pk}/change/",
    "payment_changelist": lambda w: "/admin/payments/payment/",
    "payment_change": lambda w: f"/admin/payments/payment/{_a_payment(w).pk}/change/",
    "payment_add": lambda w: "/admin/payments/payment/add/",
    "webhookevent_changelist": lambda w: "/admin/payments/webhookevent/",
    "own_booking_change": lambda w: f"/admin/booking/booking/{w.a_own_booking.pk}/change/",
    "staff_changelist": lambda w: "/admin/booking/staffmember/",
    "staff_add": lambda w: "/admin/booking/staffmember/add/",
    "staff_change": lambda w: f"/admin/booking/staffmember/{w.a_staff.pk}/change/",
    "staff_history": lambda w: f"/admin/booking/staffmember/{w.a_staff.pk}/history/",
    "staff_delete": lambda w: f"/admin/booking/staffmember/{w.a_staff.pk}/delete/",
    "resource_changelist": lambda w: "/admin/booking/resource/",
    "resource_add": lambda w: "/admin/booking/resource/add/",
    "resource_change": lambda w: f"/admin/booking/resource/{w.a_resource.pk}/change/",
    "resource_history": lambda w: f"/admin/booking/resource/{w.a_resource.pk}/history/",
    "resource_delete": lambda w: f"/admin/booking/resource/{w.a_resource.pk}/delete/",
    "staff_css": lambda w: f"/admin/booking/booking/calendar/staff.css?partner={w.a.pk}",
    # The partner's home page (today and tomorrow), the list's filters, the day calendar and
    # booking by hand's free times asked for partner A's service and stylist.
    "home": lambda w: "/admin/",
    "booking_list_today": lambda w: "/admin/booking/booking/?show=today",
    "booking_list_moved": lambda w: "/admin/booking/booking/?show=moved",
    "calendar_day": lambda w: (
        f"/admin/booking/booking/calendar/?partner={w.a.pk}&day={w.a_booking.start.date()}"
    ),
    # One person's week on a time grid (partner A's stylist).
    "calendar_week_grid": lambda w: (
        f"/admin/booking/booking/calendar/?partner={w.a.pk}&week={w.a_booking.start.date()}"
        f"&staff={w.a_staff.pk}"
    ),
    "booking_add_free_times": lambda w: (
        f"/admin/booking/booking/add/?service={w.a_service.pk}&staff={w.a_staff.pk}"
        f"&day={w.a_booking.start.date()}"
    ),
    "invitation_changelist": lambda w: "/admin/booking/invitation/",
    "invitation_add": lambda w: "/admin/booking/invitation/add/",
    "invitation_change": lambda w: f"/admin/booking/invitation/{w.a_invitation.pk}/change/",
    "invitation_history": lambda w: f"/admin/booking/invitation/{w.a_invitation.pk}/history/",
    "invitation_delete": lambda w: f"/admin/booking/invitation/{w.a_invitation.pk}/delete/",
    "foreign_invitation_change": lambda w: f"/admin/booking/invitation/{w.b_invitation.pk}/change/",
    # Closures over date ranges: the list, one closure, and the closure page (partner A named
    # for the operator; the other partner naming A gets a 404 before any permission is asked).
    "closure_changelist": lambda w: "/admin/booking/closure/",
    "closure_change": lambda w: f"/admin/booking/closure/{_a_closure(w).pk}/change/",
    "closure_add": lambda w: f"/admin/booking/closure/add/?partner={w.a.pk}",
    "closure_add_for_stylist": lambda w: (
        f"/admin/booking/closure/add/?partner={w.a.pk}&who={w.a_staff.pk}"
    ),
    # The weekly hours editor: the business's week and the stylist's own.
    "hours_week": lambda w: f"/admin/booking/partner/hours/?partner={w.a.pk}",
    "hours_week_staff": lambda w: (
        f"/admin/booking/partner/hours/?partner={w.a.pk}&staff={w.a_staff.pk}"
    ),
}


def _a_closure(world: World) -> Closure:
    closure, _ = Closure.objects.get_or_create(
        partner=world.a,
        first_day=world.a_booking.start.date() + timedelta(days=30),
        last_day=world.a_booking.start.date() + timedelta(days=32),
    )
    return closure


def _an_override(world: World) -> DateOverride:
    override, _ = DateOverride.objects.get_or_create(
        partner=world.a, date=world.a_booking.start.date() + timedelta(days=40)
    )
    return override


def _a_payment(world: World) -> Payment:
    """Partner A's booking, paid (payments build on booking; the row is all the admin needs)."""
    payment, _ = Payment.objects.get_or_create(
        booking=world.a_booking,
        defaults={
            "stripe_payment_intent_id": "pi_world_a",
            "amount": 15000,
            "currency": "CHF",
            "status": Payment.Status.SUCCEEDED,
            "paid_at": world.a_booking.created_at,
        },
    )
    return payment


# Expected status: owner of A, member of B, A's stylist, support without grant, support with a
# grant for A, superuser, anonymous.
EXPECTED: dict[str, tuple[int, int, int, int, int, int, int]] = {
    "booking_changelist": (200, 200, 200, 200, 200, 200, R),
    "booking_search": (200, 200, 200, 200, 200, 200, R),
    "booking_filter_service": (200, 200, 200, 200, 200, 200, R),
    "booking_change": (200, R, R, 200, 200, 200, R),
    "booking_add": (200, 200, 200, 403, 403, 200, R),
    "booking_delete": (403, 403, 403, 403, 403, 200, R),
    "booking_history": (200, 404, 404, 200, 200, 200, R),
    "booking_cancel": (200, 404, 404, 403, 403, 200, R),
    "booking_reschedule": (200, 404, 404, 403, 403, 200, R),
    "booking_export": (200, 200, 200, 200, 200, 200, R),
    # Calendar subscriptions: each partner user's own page (an owner sees the business's feeds);
    # operators have no bookings of their own.
    "calendar_feeds": (200, 200, 200, 403, 403, 403, R),
    "calendar": (200, 200, 200, 200, 200, 200, R),
    "autocomplete_service": (200, 200, 200, 200, 200, 200, R),
    "autocomplete_partner": (200, 200, 200, 200, 200, 200, R),
    "partner_changelist": (200, 200, 200, 200, 200, 200, R),
    "partner_change": (200, R, 200, 200, 200, 200, R),
    "partner_history": (200, 404, 200, 200, 200, 200, R),
    "service_changelist": (200, 200, 200, 200, 200, 200, R),
    "service_change": (200, R, 200, 200, 200, 200, R),
    "dateoverride_changelist": (200, 200, 200, 200, 200, 200, R),
    "dateoverride_change": (200, R, 200, 200, 200, 200, R),
    # Members may set special hours (their role's permission, as before); support may not.
    "dateoverride_add": (200, 404, 200, 403, 403, 200, R),
    "grant_changelist": (200, 403, 403, 200, 200, 200, R),
    "grant_add": (200, 403, 403, 403, 403, 200, R),
    "grant_change": (200, 403, 403, R, 200, 200, R),
    # Payments follow the booking permissions; nobody adds one by hand; Stripe's events are
    # for superusers only.
    "payment_changelist": (200, 200, 200, 200, 200, 200, R),
    "payment_change": (200, R, R, 200, 200, 200, R),
    "payment_add": (403, 403, 403, 403, 403, 403, R),
    "webhookevent_changelist": (403, 403, 403, 403, 403, 200, R),
    # Staff and resources: set up by the owner, read by members and support; a stylist with a
    # login sees her own bookings and no one else's.
    "own_booking_change": (200, R, 200, 200, 200, 200, R),
    "staff_changelist": (200, 200, 200, 200, 200, 200, R),
    "staff_add": (200, 403, 403, 403, 403, 200, R),
    "staff_change": (200, R, 200, 200, 200, 200, R),
    "staff_history": (200, 404, 200, 200, 200, 200, R),
    "staff_delete": (200, 403, 403, 403, 403, 200, R),
    "resource_changelist": (200, 200, 200, 200, 200, 200, R),
    "resource_add": (200, 403, 403, 403, 403, 200, R),
    "resource_change": (200, R, 200, 200, 200, 200, R),
    "resource_history": (200, 404, 200, 200, 200, 200, R),
    "resource_delete": (200, 403, 403, 403, 403, 200, R),
    "staff_css": (200, 200, 200, 200, 200, 200, R),
    "home": (200, 200, 200, 200, 200, 200, R),
    "booking_list_today": (200, 200, 200, 200, 200, 200, R),
    "booking_list_moved": (200, 200, 200, 200, 200, 200, R),
    "calendar_day": (200, 200, 200, 200, 200, 200, R),
    # The other partner's users see their own week, where A's stylist is no one.
    "calendar_week_grid": (200, 404, 200, 200, 200, 200, R),
    # The other partner's page answers, but without A's service, person or free times.
    "booking_add_free_times": (200, 200, 200, 403, 403, 200, R),
    # Invitations: the owner's (and operators'); members and support hold no permission.
    # Never edited or deleted (revoked instead); another partner's is "does not exist".
    "invitation_changelist": (200, 403, 403, 403, 403, 200, R),
    "invitation_add": (200, 403, 403, 403, 403, 200, R),
    "invitation_change": (200, 403, 403, 403, 403, 200, R),
    "invitation_history": (200, 404, 404, 404, 404, 200, R),
    "invitation_delete": (403, 403, 403, 403, 403, 403, R),
    "foreign_invitation_change": (R, 403, 403, 403, 403, 200, R),
    # Closing the business is the owner's: members (the stylist too) and support read closures.
    "closure_changelist": (200, 200, 200, 200, 200, 200, R),
    "closure_change": (200, R, 200, 200, 200, 200, R),
    "closure_add": (200, 404, 403, 403, 403, 200, R),
    "closure_add_for_stylist": (200, 404, 403, 403, 403, 200, R),
    # Only the owner sets hours: a stylist cannot edit the business's (nor her own) week.
    "hours_week": (200, 404, 403, 403, 403, 200, R),
    "hours_week_staff": (200, 404, 403, 403, 403, 200, R),
}

# What each role must never see in any response body.
FORBIDDEN: dict[str, tuple[str, ...]] = {
    "owner": B_ALL,
    "member_b": A_ALL,
    "stylist_a": (*B_ALL, *A_CUSTOMER_DATA),
    "support": (*A_CUSTOMER_DATA, A_OWN_CUSTOMER, *B_CUSTOMER_DATA),
    "support_granted": B_CUSTOMER_DATA,
    "superuser": (),
    "anonymous": (*A_ALL, *B_ALL),
}


def test_the_matrix_covers_every_url() -> None:
    assert set(URLS) == set(EXPECTED)


@pytest.mark.parametrize("role", ROLES)
def test_access_matrix(client, role: str) -> None:
    world = build_world()
    user = world.user(role)
    if user is not None:
        login_verified(client, user)
    failures = []
    for name, url_of in URLS.items():
        url = url_of(world)
        response = client.get(url)
        expected = EXPECTED[name][ROLES.index(role)]
        if response.status_code != expected:
            failures.append(f"{name}: {url} gave {response.status_code}, expected {expected}")
        if role == "anonymous" and response.status_code == 302:
            assert response["Location"].startswith("/admin/login/"), url
        if response.status_code == 302 and role != "anonymous":
            assert response["Location"] == "/admin/", (
                f"{name}: a foreign id redirects to the admin index"
            )
        body = response.content.decode()
        if response.status_code == 302:
            # The "does not exist" message is shown on the next page: it must not carry data either.
            body += client.get(response["Location"]).content.decode()
        leaked = [s for s in FORBIDDEN[role] if s in body]
        if leaked:
            failures.append(f"{name}: {url} shows {leaked}")
    assert not failures, "\n".join(failures)


@pytest.mark.parametrize("role", ("owner", "support_granted", "superuser"))
def test_allowed_roles_do_see_the_data(client, role: str) -> None:
    """The matrix would pass with empty pages; these roles must actually see partner A's customer."""
    world = build_world()
    login_verified(client, world.user(role))
    body = client.get(f"/admin/booking/booking/{world.a_booking.pk}/change/").content.decode()
    assert world.a_booking.customer_name in body and world.a_booking.customer_email in body


def test_the_other_partner_cannot_post_to_foreign_objects(client) -> None:
    world = build_world()
    login_verified(client, world.member_b)
    a = world.a_booking
    for url, data in (
        (f"/admin/booking/booking/{a.pk}/cancel/", {"reason": "x"}),
        (f"/admin/booking/booking/{a.pk}/reschedule/", {"start": "2030-01-01T10:00"}),
        (
            f"/admin/booking/service/{world.a_service.pk}/change/",
            {"name": "Hijacked", "slug": "h", "duration_minutes": 30},
        ),
        (f"/admin/booking/partner/{world.a.pk}/change/", {"name": "Hijacked"}),
    ):
        response = client.post(url, data)
        assert response.status_code in (302, 403, 404), url
    a.refresh_from_db()
    world.a_service.refresh_from_db()
    world.a.refresh_from_db()
    assert (
        a.status == "confirmed"
        and world.a_service.name != "Hijacked"
        and world.a.name != "Hijacked"
    )


def test_staff_without_role_or_partner_sees_nothing(client) -> None:
    from admin_world import make_user

    world = build_world()
    login_verified(client, make_user("lost@platform.example"))
    assert client.get("/admin/booking/booking/").status_code == 403
    assert client.get(f"/admin/booking/booking/{world.a_booking.pk}/change/").status_code == 403
