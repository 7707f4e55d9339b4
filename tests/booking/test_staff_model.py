"""The staff and resource model and its guarantees in the database: each person and each
resource is booked once at a time (not the partner as a whole any more), and a booking's person
and resource are its partner's."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest
from django.contrib.auth import get_user_model
from django.core.exceptions import ValidationError
from django.db import DatabaseError, IntegrityError, transaction

from booking.models import (
    Booking,
    Partner,
    PartnerMembership,
    Resource,
    Service,
    StaffAbsence,
    StaffMember,
)
from tests.staffing import person, resource

START = datetime(2030, 3, 6, 9, tzinfo=UTC)


def _row(
    service: Service,
    staff: StaffMember,
    start: datetime = START,
    *,
    n: int,
    res: Resource | None = None,
) -> Booking:
    end = start + timedelta(minutes=service.duration_minutes)
    return Booking(
        partner_id=service.partner_id,
        service=service,
        staff=staff,
        resource=res,
        start=start,
        end=end,
        busy_start=start,
        busy_end=end,
        customer_name="Direct",
        customer_email="d@example.com",
        manage_token_hash=f"{n:064x}",
    )


def test_two_people_of_one_partner_may_be_booked_at_the_same_time(
    partner: Partner, service: Service
) -> None:
    anna, ben = person(partner, "Anna"), person(partner, "Ben")
    _row(service, anna, n=1).save()
    _row(service, ben, n=2).save()
    assert Booking.objects.filter(start=START).count() == 2


@pytest.mark.postgres
def test_the_database_refuses_one_person_twice_at_once(partner: Partner, service: Service) -> None:
    anna = person(partner, "Anna")
    _row(service, anna, n=1).save()
    with pytest.raises(IntegrityError, match="booking_staff_no_overlap"), transaction.atomic():
        _row(service, anna, START + timedelta(minutes=30), n=2).save()


@pytest.mark.postgres
def test_the_database_refuses_one_resource_twice_at_once(
    partner: Partner, service: Service
) -> None:
    anna, ben = person(partner, "Anna"), person(partner, "Ben")
    basin = resource(partner, "Basin 1", "wash-basin")
    _row(service, anna, n=1, res=basin).save()
    with pytest.raises(IntegrityError, match="booking_resource_no_overlap"), transaction.atomic():
        _row(service, ben, n=2, res=basin).save()
    _row(service, ben, n=3).save()  # without the basin, Ben is free
    assert Booking.objects.count() == 2


@pytest.mark.postgres
def test_the_database_refuses_another_partners_person_or_resource(
    partner: Partner, service: Service, other_partner: Partner
) -> None:
    stranger = person(other_partner, "Stranger")
    their_basin = resource(other_partner, "Their basin", "wash-basin")
    with pytest.raises(IntegrityError, match="booking_staff_of_partner"), transaction.atomic():
        _row(service, stranger, n=1).save()
    anna = person(partner, "Anna")
    with pytest.raises(IntegrityError, match="booking_resource_of_partner"), transaction.atomic():
        _row(service, anna, n=2, res=their_basin).save()
    assert Booking.objects.count() == 0


def _member(partner: Partner, email: str):
    user = get_user_model().objects.create_user(email=email, password="x" * 16)
    PartnerMembership.objects.create(user=user, partner=partner)
    return user


def test_a_staff_login_must_belong_to_the_business(
    partner: Partner, other_partner: Partner
) -> None:
    theirs = _member(other_partner, "them@example.com")
    ours = _member(partner, "us@example.com")
    anna = StaffMember(partner=partner, name="Anna", user=theirs)
    with pytest.raises(ValidationError, match="does not belong"):
        anna.full_clean()
    anna.user = ours
    anna.full_clean()


@pytest.mark.postgres
def test_the_database_refuses_a_foreign_login_and_unlinks_a_leaver(
    partner: Partner, other_partner: Partner
) -> None:
    theirs = _member(other_partner, "them@example.com")
    with pytest.raises(IntegrityError, match="staff_user_is_member"), transaction.atomic():
        StaffMember.objects.create(partner=partner, name="Anna", user=theirs)
    ours = _member(partner, "us@example.com")
    anna = StaffMember.objects.create(partner=partner, name="Anna", user=ours)
    PartnerMembership.objects.filter(user=ours).delete()
    anna.refresh_from_db()
    assert anna.user is None


@pytest.mark.parametrize("colour", ["red", "#12345", "#1234567", "#GGGGGG", "123456", "#ABCDEF"])
def test_a_colour_is_hash_and_six_lower_case_hex_digits(partner: Partner, colour: str) -> None:
    with pytest.raises(ValidationError):
        StaffMember(partner=partner, name="Anna", colour=colour).full_clean()
    with pytest.raises(DatabaseError), transaction.atomic():  # too long: a DataError
        StaffMember.objects.create(partner=partner, name="Anna", colour=colour)


def test_an_absence_ends_after_it_starts(partner: Partner) -> None:
    anna = person(partner, "Anna")
    with pytest.raises(ValidationError):
        StaffAbsence(staff=anna, starts_at=START, ends_at=START).full_clean()
    with pytest.raises(IntegrityError), transaction.atomic():
        StaffAbsence.objects.create(staff=anna, starts_at=START, ends_at=START)


def test_names_are_unique_within_a_business(partner: Partner, other_partner: Partner) -> None:
    person(partner, "Anna")
    person(other_partner, "Anna")
    with pytest.raises(IntegrityError), transaction.atomic():
        person(partner, "Anna")


def test_a_forged_person_or_resource_fails_the_bookings_validation(
    partner: Partner, service: Service, other_partner: Partner
) -> None:
    """What a form over Booking (the admin's) gets: no booking with someone who does not perform
    the service, another business's person or resource, or a resource of the wrong kind."""
    service.required_resource_kind = "wash-basin"
    service.save()
    anna = person(partner, "Anna")
    trainee = person(partner, "Trainee", services=[])
    stranger = person(other_partner, "Stranger")
    basin = resource(partner, "Basin", "wash-basin")
    room = resource(partner, "Room", "treatment-room")
    theirs = resource(other_partner, "Their basin", "wash-basin")
    cases = [
        (trainee, basin, "staff", "does not perform"),
        (stranger, basin, "staff", "another business"),
        (anna, room, "resource", "kind wash-basin"),
        (anna, theirs, "resource", "another business"),
    ]
    for n, (who, what, field, message) in enumerate(cases):
        with pytest.raises(ValidationError) as refused:
            _row(service, who, n=n, res=what).full_clean()
        assert message in " ".join(refused.value.message_dict[field])
    _row(service, anna, n=9, res=basin).full_clean()
    service.required_resource_kind = ""
    with pytest.raises(ValidationError, match="needs no resource"):
        _row(service, anna, n=10, res=basin).full_clean()
