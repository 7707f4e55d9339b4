"""Staff members and resources in the partner workspace: managed in the admin within the
partner's scope (forged ids in selects and inlines refused), absences typed and shown in the
partner's zone, the calendar's column per person, booking by hand with a person's free times,
and a stylist with a login seeing her own bookings only."""

from __future__ import annotations

import re
from datetime import UTC, datetime, time, timedelta
from zoneinfo import ZoneInfo

import pytest
from admin_world import (
    A_CUSTOMER,
    A_OWN_CUSTOMER,
    A_STYLIST,
    B_STYLIST,
    build_world,
    make_booking,
)

from booking.models import Booking, Resource, ServiceStaff, StaffAbsence, StaffMember
from security.fieldcrypto import blind_index
from tests import hostile_inputs as hostile
from tests.otp_login import login_verified
from tests.staffing import person

pytestmark = pytest.mark.django_db
ZURICH = ZoneInfo("Europe/Zurich")


@pytest.fixture
def world(client):
    world = build_world()
    login_verified(client, world.owner)
    return world


def _inline(prefix: str, rows: list[dict[str, object]], initial: int = 0) -> dict[str, object]:
    data: dict[str, object] = {
        f"{prefix}-TOTAL_FORMS": len(rows),
        f"{prefix}-INITIAL_FORMS": initial,
        f"{prefix}-MIN_NUM_FORMS": 0,
        f"{prefix}-MAX_NUM_FORMS": 1000,
    }
    for i, row in enumerate(rows):
        data.update({f"{prefix}-{i}-{k}": v for k, v in row.items()})
    return data


def _staff_form(world, **extra: object) -> dict[str, object]:
    """The person's page: their hours and absences are shown there, not entered (no rows)."""
    return {
        "name": "Nora Newhire",
        "user": "",
        "is_active": "on",
        "display_order": 3,
        "colour": "#aa3355",
        **_inline("hours", []),
        **_inline("service_links", [{"service": world.a_service.pk, "duration_minutes": 45}]),
        **_inline("absences", []),
        **extra,
    }


HOURS = "/admin/booking/partner/hours/"
AWAY = "/admin/booking/closure/add/"


def _hours_form(staff: StaffMember, **extra: object) -> dict[str, object]:
    """The weekly hours editor for the person: Monday 09:00-12:00 and 13:00-18:00."""
    return {
        "partner": staff.partner_id,
        "staff": staff.pk,
        "d0_0_start": "09:00",
        "d0_0_end": "12:00",
        "d0_1_start": "13:00",
        "d0_1_end": "18:00",
        **extra,
    }


def _away_form(staff: StaffMember, **extra: object) -> dict[str, object]:
    """The "Away over dates" page for the person: 22 December 2030 to 4 January 2031."""
    return {
        "partner": staff.partner_id,
        "who": staff.pk,
        "first_day": "2030-12-22",
        "last_day": "2031-01-04",
        "note": "Holiday",
        **extra,
    }


def test_owner_adds_a_staff_member_with_hours_services_and_an_absence_in_local_time(
    client, world
) -> None:
    response = client.post("/admin/booking/staffmember/add/", _staff_form(world))
    assert response.status_code == 302, response.content.decode()
    nora = StaffMember.objects.get(name="Nora Newhire")
    assert nora.partner == world.a and nora.colour == "#aa3355"
    assert ServiceStaff.objects.get(staff=nora).duration_minutes == 45
    page = client.get(f"/admin/booking/staffmember/{nora.pk}/change/").content.decode()
    # The ways to her hours and absences, from her page; the zone they are in is named.
    assert f"{HOURS}?partner={world.a.pk}&amp;staff={nora.pk}" in page
    assert f"{AWAY}?partner={world.a.pk}&amp;who={nora.pk}" in page
    assert "Europe/Zurich" in page
    assert client.post(HOURS, _hours_form(nora)).status_code == 302
    assert [(h.weekday, h.start, h.end) for h in nora.hours.order_by("start")] == [
        (0, time(9), time(12)),
        (0, time(13), time(18)),
    ]
    assert client.post(AWAY, _away_form(nora)).status_code == 302
    absence = StaffAbsence.objects.get(staff=nora)
    assert absence.starts_at == datetime(2030, 12, 22, tzinfo=ZURICH)
    assert absence.ends_at == datetime(2031, 1, 5, tzinfo=ZURICH)
    assert absence.starts_at.astimezone(UTC).hour == 23  # the evening before, in UTC
    # Shown again on her page in local time, the zone named; neither is a field there.
    page = client.get(f"/admin/booking/staffmember/{nora.pk}/change/").content.decode()
    assert "2030-12-22 00:00" in page and "Europe/Zurich" in page
    assert 'name="absences-0-starts_at"' not in page and 'name="hours-0-start"' not in page


def test_hours_and_absences_are_not_written_from_the_persons_page(client, world) -> None:
    """Rows posted to the person's page as if the old inline forms were there change nothing:
    hours and absences have one way in each, the pages that show the bookings concerned first."""
    staff = world.a_staff
    before = list(staff.hours.values_list("weekday", "start", "end"))
    absences = list(StaffAbsence.objects.filter(staff=staff).values_list("pk", "starts_at"))
    data = _staff_form(world, name=A_STYLIST)
    data.update(_inline("hours", [{"weekday": 6, "start": "01:00", "end": "02:00"}]))
    data.update(
        _inline(
            "absences",
            [{"starts_at": "2030-12-22T00:00", "ends_at": "2031-01-05T00:00", "note": "Sneaky"}],
        )
    )
    data.update(_inline("service_links", []))
    client.post(f"/admin/booking/staffmember/{staff.pk}/change/", data)
    assert list(staff.hours.values_list("weekday", "start", "end")) == before
    assert list(StaffAbsence.objects.filter(staff=staff).values_list("pk", "starts_at")) == (
        absences
    )
    assert not StaffAbsence.objects.filter(note="Sneaky").exists()


def test_an_absence_removed_on_the_persons_page_is_recorded(client, world) -> None:
    from security.models import SecurityEvent

    staff = world.a_staff
    assert client.post(AWAY, _away_form(staff)).status_code == 302
    absence = StaffAbsence.objects.get(staff=staff, note="Holiday")
    rows = list(StaffAbsence.objects.filter(staff=staff).order_by("starts_at", "pk"))
    data = _staff_form(world, name=staff.name, display_order=staff.display_order)
    data.update(
        _inline(
            "absences",
            [
                {"id": row.pk, "staff": staff.pk, **({"DELETE": "on"} if row == absence else {})}
                for row in rows
            ],
            initial=len(rows),
        )
    )
    data.update(_inline("service_links", []))
    response = client.post(f"/admin/booking/staffmember/{staff.pk}/change/", data)
    assert response.status_code == 302, response.content.decode()[:3000]
    assert not StaffAbsence.objects.filter(pk=absence.pk).exists()
    event = SecurityEvent.objects.filter(event_type="absence_deleted").get()
    assert event.target == f"staffabsence:{absence.pk}" and event.actor_id == world.owner.pk


def test_forged_ids_of_the_other_partner_are_refused(client, world) -> None:
    for forged in (
        {"service_links-0-service": world.b_service.pk},
        {"user": world.member_b.pk},
        {"user": world.support.pk},  # staff of the platform, no member of this business
    ):
        response = client.post("/admin/booking/staffmember/add/", _staff_form(world, **forged))
        assert response.status_code == 200 and "errorlist" in response.content.decode(), forged
    assert not StaffMember.objects.filter(name="Nora Newhire").exists()
    # The other partner's absence as an inline id (to delete it): not this person's.
    other = StaffAbsence.objects.get(staff=world.b_staff)
    data = _staff_form(world, name=A_STYLIST)
    data.update(
        _inline(
            "absences",
            [{"id": other.pk, "staff": world.a_staff.pk, "DELETE": "on"}],
            initial=1,
        )
    )
    data.update(_inline("service_links", []))
    client.post(f"/admin/booking/staffmember/{world.a_staff.pk}/change/", data)
    other.refresh_from_db()
    assert other.note == "Dentist" and other.staff == world.b_staff
    # The other partner's person on the weekly hours editor or the "Away over dates" page.
    assert client.post(HOURS, _hours_form(world.b_staff)).status_code == 404
    response = client.post(AWAY, _away_form(world.b_staff, partner=world.a.pk))
    assert response.status_code == 200 and "errorlist" in response.content.decode()
    assert not StaffAbsence.objects.filter(note="Holiday").exists()


def test_the_login_may_be_a_member_of_the_same_business(client, world) -> None:
    response = client.post(
        "/admin/booking/staffmember/add/", _staff_form(world, user=world.owner.pk)
    )
    assert response.status_code == 302
    assert StaffMember.objects.get(name="Nora Newhire").user == world.owner


def test_the_other_partner_cannot_change_staff_or_resources(client, world) -> None:
    login_verified(client, world.member_b)
    for url in (
        f"/admin/booking/staffmember/{world.a_staff.pk}/change/",
        f"/admin/booking/resource/{world.a_resource.pk}/change/",
        f"/admin/booking/staffmember/{world.a_staff.pk}/delete/",
        f"/admin/booking/resource/{world.a_resource.pk}/delete/",
    ):
        response = client.post(url, {"name": "Hijacked", "kind": "x", "post": "yes"})
        assert response.status_code in (302, 403, 404), url
    world.a_staff.refresh_from_db()
    world.a_resource.refresh_from_db()
    assert world.a_staff.name == A_STYLIST and world.a_resource.name != "Hijacked"


def test_owner_lists_own_staff_and_resources_only(client, world) -> None:
    body = client.get("/admin/booking/staffmember/").content.decode()
    assert A_STYLIST in body and B_STYLIST not in body
    body = client.get("/admin/booking/resource/").content.decode()
    assert world.a_resource.name in body and world.b_resource.name not in body


def test_owner_adds_a_resource_with_a_maintenance_absence(client, world) -> None:
    data = {
        "name": "Chair 3",
        "kind": "chair",
        "is_active": "on",
        **_inline(
            "absences",
            [{"starts_at": "2030-06-03T14:00", "ends_at": "2030-06-03T15:30", "note": "Repair"}],
        ),
    }
    response = client.post("/admin/booking/resource/add/", data)
    assert response.status_code == 302, response.content.decode()
    chair = Resource.objects.get(name="Chair 3")
    assert chair.partner == world.a
    assert chair.absences.get().starts_at == datetime(2030, 6, 3, 14, tzinfo=ZURICH)


def test_service_admin_has_the_staff_choice_and_resource_kind(client, world) -> None:
    page = client.get(f"/admin/booking/service/{world.a_service.pk}/change/").content.decode()
    assert 'name="staff_choice"' in page and 'name="required_resource_kind"' in page


def test_support_reads_staff_but_cannot_change_them(client, world) -> None:
    login_verified(client, world.support)
    page = client.get(f"/admin/booking/staffmember/{world.a_staff.pk}/change/").content.decode()
    assert A_STYLIST in page and 'name="name"' not in page
    client.post(
        f"/admin/booking/staffmember/{world.a_staff.pk}/change/",
        _staff_form(world, name="Hijacked"),
    )
    world.a_staff.refresh_from_db()
    assert world.a_staff.name == A_STYLIST


# --- the calendar: one column per person ---------------------------------------------------------


def test_calendar_has_a_column_per_staff_member_with_their_bookings(client, world) -> None:
    week = world.a_booking.start.astimezone(ZURICH).date().isoformat()
    body = client.get("/admin/booking/booking/calendar/", {"week": week}).content.decode()
    heads = re.findall(r'<th[^>]*class="cal-staff cal-staff-(\d+)"[^>]*>(.*?)</th>', body, re.S)
    names = [re.sub(r"<[^>]+>", "", h).strip() for _pk, h in heads]
    assert names == ["Team", A_STYLIST]
    own = re.search(
        rf'data-staff="{world.a_staff.pk}"[^>]*>(.*?)</td>',
        body[body.index(f'data-date="{week}"') :],
        re.S,
    )
    assert own is not None and A_OWN_CUSTOMER in own.group(1) and A_CUSTOMER not in own.group(1)
    assert "Europe/Zurich" in body
    assert "style=" not in body  # colours come from the stylesheet (strict CSP)
    css = client.get("/admin/booking/booking/calendar/staff.css")
    assert css["Content-Type"].startswith("text/css")
    assert f".cal-staff-{world.a_staff.pk}" in css.content.decode()
    assert f".cal-staff-{world.b_staff.pk}" not in css.content.decode()


def test_calendar_marks_an_absent_person(client, world) -> None:
    StaffAbsence.objects.create(
        staff=world.a_staff,
        starts_at=datetime(2030, 6, 4, 0, tzinfo=ZURICH),
        ends_at=datetime(2030, 6, 5, 0, tzinfo=ZURICH),
        note="Holiday",
    )
    body = client.get("/admin/booking/booking/calendar/", {"week": "2030-06-03"}).content.decode()
    cell = re.search(
        rf'data-date="2030-06-04".*?data-staff="{world.a_staff.pk}"[^>]*>(.*?)</td>', body, re.S
    )
    assert cell is not None and "Away" in cell.group(1)


def test_a_stylist_with_a_login_sees_her_own_bookings_only(client, world) -> None:
    login_verified(client, world.stylist_a)
    body = client.get("/admin/booking/booking/").content.decode()
    assert A_OWN_CUSTOMER in body and A_CUSTOMER not in body
    week = world.a_booking.start.astimezone(ZURICH).date().isoformat()
    body = client.get("/admin/booking/booking/calendar/", {"week": week}).content.decode()
    assert A_OWN_CUSTOMER in body and A_CUSTOMER not in body
    assert not re.search(r'class="cal-staff cal-staff-\d+"[^>]*>\s*Team', body)


# --- booking by hand with a person ---------------------------------------------------------------


def _monday_in_3_weeks(world) -> datetime:
    today = datetime.now(ZURICH).date()
    monday = today + timedelta(days=21 - today.weekday())
    return datetime.combine(monday, time(0), tzinfo=ZURICH)


def _post_add(client, world, **extra: object):
    return client.post(
        "/admin/booking/booking/add/",
        {
            "service": world.a_service.pk,
            "customer_name": "Walk In",
            "customer_email": "walkin@example.com",
            "customer_phone": "",
            "notes": "",
            **extra,
        },
    )


def test_booking_by_hand_shows_the_persons_free_times_and_books_her(client, world) -> None:
    monday = _monday_in_3_weeks(world)
    # The stylist works 09-17 Mon-Fri; one booking of hers at 10:00 that Monday.
    make_booking(world.a_service, monday.replace(hour=10), staff=world.a_staff)
    response = _post_add(
        client, world, staff=world.a_staff.pk, day=monday.date().isoformat(), show_times="1"
    )
    page = response.content.decode()
    assert response.status_code == 200 and "errorlist" not in page
    offered = re.findall(r'name="start" value="([\dT:-]+)"', page)
    day = monday.date().isoformat()
    assert f"{day}T09:00" in offered and f"{day}T11:00" in offered
    assert f"{day}T10:00" not in offered and f"{day}T08:00" not in offered  # busy; not working
    assert "Europe/Zurich" in page and A_STYLIST in page
    response = _post_add(client, world, staff=world.a_staff.pk, day=day, start=f"{day}T11:00")
    assert response.status_code == 302, response.content.decode()
    booking = Booking.objects.get(customer_email_index=blind_index("walkin@example.com"))
    assert booking.staff == world.a_staff and booking.start == monday.replace(hour=11)


def test_booking_by_hand_at_a_time_the_person_does_not_offer_is_a_clear_error(
    client, world
) -> None:
    monday = _monday_in_3_weeks(world)
    day = monday.date().isoformat()
    make_booking(world.a_service, monday.replace(hour=10), staff=world.a_staff)
    for start in (f"{day}T08:00", f"{day}T10:00"):  # the team works then; she does not / is busy
        response = _post_add(client, world, staff=world.a_staff.pk, day=day, start=start)
        page = response.content.decode()
        assert response.status_code == 200 and "errorlist" in page, start
        assert f"not a free time of {A_STYLIST}" in page
        assert re.findall(r'name="start" value="([\dT:-]+)"', page)  # her free times, offered
    assert not Booking.objects.filter(
        customer_email_index=blind_index("walkin@example.com")
    ).exists()


def test_booking_by_hand_refuses_a_person_of_another_business(client, world) -> None:
    day = _monday_in_3_weeks(world).date().isoformat()
    response = _post_add(client, world, staff=world.b_staff.pk, day=day, start=f"{day}T11:00")
    assert response.status_code == 200 and "errorlist" in response.content.decode()
    assert not Booking.objects.filter(
        customer_email_index=blind_index("walkin@example.com")
    ).exists()


def test_a_stylist_books_by_hand_for_herself_only(client, world) -> None:
    login_verified(client, world.stylist_a)
    page = client.get("/admin/booking/booking/add/").content.decode()
    assert A_STYLIST in page and ">Team<" not in page
    day = _monday_in_3_weeks(world).date().isoformat()
    team = StaffMember.objects.get(partner=world.a, name="Team")
    response = _post_add(client, world, staff=team.pk, day=day, start=f"{day}T11:00")
    assert response.status_code == 200 and "errorlist" in response.content.decode()


def test_any_person_of_the_partner_who_performs_the_service_is_offered(client, world) -> None:
    other = person(world.a, "Otto Otherservice", services=[])
    page = client.get("/admin/booking/booking/add/").content.decode()
    assert (
        A_STYLIST in page and other.name in page
    )  # the list is per partner; the check per service
    day = _monday_in_3_weeks(world).date().isoformat()
    response = _post_add(client, world, staff=other.pk, day=day, start=f"{day}T11:00")
    assert response.status_code == 200 and "cannot be booked for this service" in (
        response.content.decode()
    )


# --- hostile input: a form error, never a 500 or a half-stored person ----------------------------


@pytest.mark.parametrize("value", [*hostile.LOCAL_DATETIMES, "2030-03-31T02:30"])
def test_hostile_absence_days_are_form_errors(client, world, value: str) -> None:
    # Absences are entered as days on the "Away over dates" page; a day the form cannot read
    # (or a date-time where a day goes) is a form error there, and nothing is saved.
    response = client.post(AWAY, _away_form(world.a_staff, first_day=value))
    assert response.status_code == 200 and "errorlist" in response.content.decode()
    assert not StaffAbsence.objects.filter(note="Holiday").exists()


@pytest.mark.parametrize(
    ("field", "value"),
    [
        ("colour", "red"),
        ("colour", "#ABCDEF; }"),
        ("display_order", "-1"),
        ("service_links-0-duration_minutes", "1"),
    ],
)
def test_invalid_staff_values_are_form_errors(client, world, field: str, value: str) -> None:
    response = client.post("/admin/booking/staffmember/add/", _staff_form(world, **{field: value}))
    assert response.status_code == 200 and "errorlist" in response.content.decode()
    assert not StaffMember.objects.filter(name="Nora Newhire").exists()


def test_an_absence_ending_before_it_starts_is_a_form_error(client, world) -> None:
    response = client.post(AWAY, _away_form(world.a_staff, last_day="2030-12-21"))
    assert response.status_code == 200 and "errorlist" in response.content.decode()
    assert not StaffAbsence.objects.filter(note="Holiday").exists()


def test_hours_ending_before_they_start_are_a_form_error(client, world) -> None:
    before = list(world.a_staff.hours.values_list("weekday", "start", "end"))
    response = client.post(HOURS, _hours_form(world.a_staff, d0_0_end="08:00"))
    assert response.status_code == 200 and "errorlist" in response.content.decode()
    assert list(world.a_staff.hours.values_list("weekday", "start", "end")) == before


def test_a_superuser_cannot_link_a_service_of_another_business(client, world) -> None:
    login_verified(client, world.superuser)
    data = _staff_form(world, partner=world.a.pk)
    data["service_links-0-service"] = world.b_service.pk
    response = client.post("/admin/booking/staffmember/add/", data)
    assert response.status_code == 200 and "another business" in response.content.decode()
    assert not StaffMember.objects.filter(name="Nora Newhire").exists()


def test_day_view_places_each_booking_on_the_time_grid_in_its_persons_column(client, world) -> None:
    tuesday = datetime(2030, 6, 4, 10, 30, tzinfo=ZURICH)
    mine = make_booking(world.a_service, tuesday, staff=world.a_staff, customer_name="Gridded")
    body = client.get("/admin/booking/booking/calendar/", {"day": "2030-06-04"}).content.decode()
    assert "Tuesday 4 June 2030" in body and "Europe/Zurich" in body and "style=" not in body
    column = re.search(
        r'class="g-head g-c(\d+) g-r1 cal-staff cal-staff-(\d+)"',
        body[body.index(A_STYLIST) - 200 :],
    )
    assert column is not None and column.group(2) == str(world.a_staff.pk)
    link = re.search(
        rf'<li class="g-item g-c(\d+) g-r(\d+) g-s(\d+)"><a class="g-booking '
        rf'cal-staff-{world.a_staff.pk}"[^>]*href="/admin/booking/booking/{mine.pk}/change/"',
        body,
    )
    assert link is not None, body
    # The grid starts at 08:00 (the opening hour): 10:30 is the 11th quarter hour, after the
    # names' row; an hour is four rows.
    assert link.groups() == (column.group(1), str(2 + 10), "4")
    assert "10:30–11:30" in body
    # The week links each day to its day view.
    week = client.get("/admin/booking/booking/calendar/", {"week": "2030-06-04"}).content.decode()
    assert 'href="/admin/booking/booking/calendar/?day=2030-06-04"' in week
    assert client.get("/admin/booking/booking/calendar/", {"day": "2030-02-30"}).status_code == 400


def test_bookings_name_their_person_in_the_list_detail_and_export(client, world) -> None:
    listing = client.get("/admin/booking/booking/").content.decode()
    assert A_STYLIST in listing and B_STYLIST not in listing
    filtered = client.get(
        "/admin/booking/booking/", {"staff__id__exact": world.a_staff.pk}
    ).content.decode()
    assert A_OWN_CUSTOMER in filtered and A_CUSTOMER not in filtered
    detail = client.get(f"/admin/booking/booking/{world.a_own_booking.pk}/change/").content.decode()
    assert A_STYLIST in detail
    export = client.get("/admin/booking/booking/export/").content.decode()
    assert f'"{A_STYLIST}"' in export


def test_the_hours_heading_names_the_zone(client, world) -> None:
    page = client.get(f"/admin/booking/staffmember/{world.a_staff.pk}/change/").content.decode()
    assert "times in Europe/Zurich" in page


def test_the_same_service_twice_for_one_person_is_a_form_error(client, world) -> None:
    """Two rows linking the same service: the formset says so (the database would refuse the
    second row, which must never surface as a server error)."""
    twice = [
        {"service": world.a_service.pk, "duration_minutes": 45},
        {"service": world.a_service.pk, "duration_minutes": 30},
    ]
    data = _staff_form(world, **_inline("service_links", twice))
    response = client.post("/admin/booking/staffmember/add/", data)
    assert response.status_code == 200 and "errorlist" in response.content.decode()
    assert not StaffMember.objects.filter(name="Nora Newhire").exists()


def test_adding_a_service_the_person_already_performs_is_a_form_error(client, world) -> None:
    from booking.models import ServiceStaff

    staff = world.a_staff
    link = ServiceStaff.objects.get_or_create(service=world.a_service, staff=staff)[0]
    rows = [
        {"id": link.pk, "staff": staff.pk, "service": world.a_service.pk, "duration_minutes": ""},
        {"staff": staff.pk, "service": world.a_service.pk, "duration_minutes": 30},
    ]
    data = _staff_form(world, **_inline("service_links", rows, initial=1))
    data |= {"name": staff.name, "user": staff.user_id or "", "display_order": staff.display_order}
    response = client.post(f"/admin/booking/staffmember/{staff.pk}/change/", data)
    assert response.status_code == 200 and "errorlist" in response.content.decode()
    assert ServiceStaff.objects.filter(staff=staff).count() == 1
