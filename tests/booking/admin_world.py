"""Two partners with distinctive names and customers, and one user per admin role: the world the
admin tests look at. (A helper module, not a conftest: tests/booking/conftest.py is shared.)"""

from __future__ import annotations

import secrets
from dataclasses import dataclass
from datetime import UTC, datetime, time, timedelta
from typing import Any

from django.contrib.auth import get_user_model
from django.contrib.auth.models import Group
from django.utils import timezone

from booking.models import (
    Booking,
    Invitation,
    OpeningHours,
    Partner,
    PartnerMembership,
    Resource,
    Service,
    StaffAbsence,
    StaffMember,
    SupportGrant,
)
from booking.roles import PARTNER_MEMBER, PARTNER_OWNER, SUPPORT, roles_ensure
from security.models import PersonnelRecord
from tests.customers import customer_record
from tests.staffing import person, team

# Strings that must never appear on a page of the other partner's users.
A_PARTNER, A_SERVICE = "Zephyrine Atelier", "Quillcraft Cut"
A_CUSTOMER, A_EMAIL, A_PHONE, A_NOTES = (
    "Umberto Alphacust",
    "umberto@alpha-cust.example",
    "+41 79 555 0101",
    "alpha-secret-note",
)
B_PARTNER, B_SERVICE = "Yodelmark Clinic", "Xylocheck Exam"
B_CUSTOMER, B_EMAIL, B_PHONE, B_NOTES = (
    "Bartholomew Betacust",
    "barty@beta-cust.example",
    "+1 212 555 0199",
    "beta-secret-note",
)
# Partner A's stylist with a login (a member linked to a staff member), her own customer, and
# each partner's resource and the other partner's stylist.
A_STYLIST, A_BASIN = "Quentina Alphastylist", "Alphabasin Left"
A_OWN_CUSTOMER = "Olivia Ownclient"
B_STYLIST, B_BASIN = "Yuri Betastylist", "Betabasin Right"
A_CUSTOMER_DATA = (A_CUSTOMER, A_EMAIL, A_PHONE, A_NOTES)
B_CUSTOMER_DATA = (B_CUSTOMER, B_EMAIL, B_PHONE, B_NOTES)
# The people each partner has invited (booking.Invitation): the partner's data too.
A_INVITEE, B_INVITEE = "ingrid.invitee@zephyrine.example", "yvo.invitee@yodelmark.example"
A_ALL = (A_PARTNER, A_SERVICE, A_STYLIST, A_BASIN, A_OWN_CUSTOMER, A_INVITEE, *A_CUSTOMER_DATA)
B_ALL = (B_PARTNER, B_SERVICE, B_STYLIST, B_BASIN, B_INVITEE, *B_CUSTOMER_DATA)


def make_booking(
    service: Service,
    start: datetime,
    *,
    status: str = Booking.Status.CONFIRMED,
    staff: StaffMember | None = None,
    **customer: str,
) -> Booking:
    """A booking row written directly (any time, past included), for list and calendar tests.
    The services' own rules are tested through booking_create elsewhere."""
    end = start + timedelta(minutes=service.duration_minutes)
    fields = {"customer_name": "Ada Lovelace", "customer_email": "ada@example.com", **customer}
    return Booking.objects.create(
        partner_id=service.partner_id,
        service=service,
        staff=staff or team(service.partner),
        customer=customer_record(
            service.partner_id,
            fields["customer_email"],
            fields["customer_name"],
            fields.get("customer_phone", ""),
        ),
        start=start,
        end=end,
        busy_start=start,
        busy_end=end,
        status=status,
        manage_token_hash=secrets.token_hex(32),
        cancelled_at=timezone.now() if status == Booking.Status.CANCELLED else None,
        cancelled_because=Booking.CancelledBecause.PARTNER
        if status == Booking.Status.CANCELLED
        else "",
        **fields,
    )


def make_user(email: str, *, group: str | None = None, superuser: bool = False) -> Any:
    User = get_user_model()
    user = User.objects.create_user(email, is_staff=True, is_superuser=superuser)
    if group:
        user.groups.add(Group.objects.get(name=group))
    if group == SUPPORT or superuser:
        clear_for_customer_data(user)
    return user


def clear_for_customer_data(user: Any) -> None:
    """A signed confidentiality agreement and this year's security training (C15), as platform
    staff who may see customer data have."""
    today = timezone.localdate()
    for kind in PersonnelRecord.Kind:
        PersonnelRecord.objects.create(user=user, kind=kind, on=today)


@dataclass
class World:
    a: Partner
    b: Partner
    a_service: Service
    b_service: Service
    a_booking: Booking
    b_booking: Booking
    owner: Any  # owner of A
    member_b: Any  # member of B
    stylist_a: Any  # member of A, the login of staff member A_STYLIST
    a_staff: StaffMember  # A_STYLIST
    b_staff: StaffMember
    a_resource: Resource
    b_resource: Resource
    a_own_booking: Booking  # A_STYLIST's booking
    support: Any
    support_granted: Any
    superuser: Any
    grant: SupportGrant
    a_invitation: Invitation
    b_invitation: Invitation

    def user(self, role: str) -> Any:
        return None if role == "anonymous" else getattr(self, role)


def open_every_day(partner: Partner, start: time = time(8), end: time = time(20)) -> None:
    for weekday in range(7):
        OpeningHours.objects.create(partner=partner, weekday=weekday, start=start, end=end)


def build_world() -> World:
    roles_ensure()
    a = Partner.objects.create(
        name=A_PARTNER,
        slug="zephyrine",
        time_zone="Europe/Zurich",
        contact_email="hello@zephyrine.example",
    )
    b = Partner.objects.create(
        name=B_PARTNER,
        slug="yodelmark",
        time_zone="America/New_York",
        contact_email="hi@yodelmark.example",
    )
    open_every_day(a)
    open_every_day(b)
    a_service = Service.objects.create(
        partner=a, name=A_SERVICE, slug="quill", duration_minutes=60, min_notice_minutes=0
    )
    b_service = Service.objects.create(
        partner=b, name=B_SERVICE, slug="xylo", duration_minutes=30, min_notice_minutes=0
    )
    team(a)
    team(b)
    # Two days from today where partner A is (Zurich's today is UTC's tomorrow from 23:00 UTC
    # in winter), at 10:00 UTC as before.
    soon = datetime.combine(
        timezone.localdate(timezone.now(), a.zone) + timedelta(days=2), time(10), tzinfo=UTC
    )
    a_booking = make_booking(
        a_service,
        soon,
        customer_name=A_CUSTOMER,
        customer_email=A_EMAIL,
        customer_phone=A_PHONE,
        notes=A_NOTES,
    )
    b_booking = make_booking(
        b_service,
        soon + timedelta(hours=6),
        customer_name=B_CUSTOMER,
        customer_email=B_EMAIL,
        customer_phone=B_PHONE,
        notes=B_NOTES,
    )
    owner = make_user("owner@zephyrine.example", group=PARTNER_OWNER)
    PartnerMembership.objects.create(partner=a, user=owner, role=PartnerMembership.Role.OWNER)
    member_b = make_user("member@yodelmark.example", group=PARTNER_MEMBER)
    PartnerMembership.objects.create(partner=b, user=member_b, role=PartnerMembership.Role.MEMBER)
    support = make_user("support@platform.example", group=SUPPORT)
    stylist_a = make_user("stylist@zephyrine.example", group=PARTNER_MEMBER)
    PartnerMembership.objects.create(partner=a, user=stylist_a, role=PartnerMembership.Role.MEMBER)
    a_staff = person(a, A_STYLIST, order=1)
    a_staff.user = stylist_a
    a_staff.save()
    b_staff = person(b, B_STYLIST, order=1)
    StaffAbsence.objects.create(
        staff=b_staff, starts_at=soon, ends_at=soon + timedelta(hours=2), note="Dentist"
    )
    a_resource = Resource.objects.create(partner=a, name=A_BASIN, kind="wash-basin")
    b_resource = Resource.objects.create(partner=b, name=B_BASIN, kind="wash-basin")
    a_own_booking = make_booking(
        a_service,
        soon + timedelta(hours=1),
        staff=a_staff,
        customer_name=A_OWN_CUSTOMER,
        customer_email="olivia@own-client.example",
    )
    support_granted = make_user("helper@platform.example", group=SUPPORT)
    superuser = make_user("root@platform.example", superuser=True)
    now = timezone.now()
    grant = SupportGrant.objects.create(
        partner=a,
        granted_to=support_granted,
        granted_by=owner,
        reason="Ticket 4711: wrong booking time",
        created_at=now,
        expires_at=now + timedelta(hours=4),
    )
    a_invitation, b_invitation = (
        Invitation.objects.create(
            partner=partner,
            email=email,
            role="member",
            invited_by=inviter,
            created_at=now,
            expires_at=now + timedelta(hours=72),
        )
        for partner, email, inviter in ((a, A_INVITEE, owner), (b, B_INVITEE, member_b))
    )
    return World(
        a,
        b,
        a_service,
        b_service,
        a_booking,
        b_booking,
        owner,
        member_b,
        stylist_a,
        a_staff,
        b_staff,
        a_resource,
        b_resource,
        a_own_booking,
        support,
        support_granted,
        superuser,
        grant,
        a_invitation,
        b_invitation,
    )


def make_paid(booking: Booking, amount: int, *, currency: str = "CHF") -> Any:
    """A succeeded Stripe payment of the booking, paid now."""
    from payments.models import Payment

    return Payment.objects.create(
        booking=booking,
        stripe_payment_intent_id=f"pi_test_{booking.pk}",
        amount=amount,
        currency=currency,
        status=Payment.Status.SUCCEEDED,
        paid_at=timezone.now(),
    )


def make_hold(booking: Booking, expires_at: datetime) -> Booking:
    """The booking turned into an unpaid hold running until `expires_at`."""
    Booking.objects.filter(pk=booking.pk).update(
        status=Booking.Status.PENDING_PAYMENT, hold_expires_at=expires_at
    )
    booking.refresh_from_db()
    return booking
