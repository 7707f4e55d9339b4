"""The owner's account deletion page (C25): shown first what goes, then password, a current MFA
code and the business's name; owner only, their own partner only."""

from __future__ import annotations

from datetime import datetime, timedelta
from zoneinfo import ZoneInfo

import pytest
from django.contrib.auth import get_user_model
from django.contrib.auth.models import Group
from django.test import Client

from booking.models import Booking, Partner, PartnerMembership, Service
from booking.roles import PARTNER_MEMBER, PARTNER_OWNER, roles_ensure
from security.models import SecurityEvent
from tests.booking.conftest import zurich
from tests.otp_login import login_verified, totp_code

ZURICH = ZoneInfo("Europe/Zurich")
PASSWORD = "a long owner passphrase"


def _user(partner: Partner, email: str, role: str = PartnerMembership.Role.OWNER):
    user = get_user_model().objects.create_user(email, password=PASSWORD, is_staff=True)
    PartnerMembership.objects.create(partner=partner, user=user, role=role)
    roles_ensure()
    name = PARTNER_OWNER if role == PartnerMembership.Role.OWNER else PARTNER_MEMBER
    user.groups.add(Group.objects.get(name=name))
    return user


@pytest.fixture
def owner_client(partner: Partner, service: Service, book):
    day = datetime.now(ZURICH).date() + timedelta(days=2)
    while day.weekday() > 4:  # open Monday to Friday
        day += timedelta(days=1)
    book(service, zurich(day.year, day.month, day.day, 10), customer_email="future@example.com")
    owner = _user(partner, "owner@salon-alpha.example")
    client = Client()
    device = login_verified(client, owner)
    return client, owner, device


def _url(partner: Partner) -> str:
    return f"/admin/booking/partner/{partner.pk}/delete-account/"


def test_the_owner_sees_what_will_be_deleted_first(owner_client, partner: Partner) -> None:
    client, _owner, _device = owner_client
    page = client.get(_url(partner))
    assert page.status_code == 200
    text = page.content.decode()
    assert "1 booking" in text and "1 future booking will be cancelled" in text
    assert "owner@salon-alpha.example" in text
    assert "(Europe/Zurich)" in text
    profile = client.get(f"/admin/booking/partner/{partner.pk}/change/").content.decode()
    assert _url(partner) in profile


def test_the_right_password_code_and_name_delete_the_account(
    owner_client, partner: Partner
) -> None:
    client, owner, device = owner_client
    response = client.post(
        _url(partner),
        {"password": PASSWORD, "code": totp_code(device, steps=1), "name": " salon alpha "},
    )
    assert response.status_code == 200
    assert "have been deleted" in response.content.decode()
    assert not Partner.objects.filter(pk=partner.pk).exists()
    assert not get_user_model().objects.filter(pk=owner.pk).exists()
    assert client.get("/admin/").status_code == 302  # logged out
    assert SecurityEvent.objects.filter(event_type="partner_deleted").count() == 1


@pytest.mark.parametrize(
    ("field", "values"),
    [
        ("password", {"password": "wrong passphrase"}),
        ("code", {"code": "000000"}),
        ("name", {"name": "Salon Beta"}),
    ],
)
def test_a_wrong_password_code_or_name_deletes_nothing(
    owner_client, partner: Partner, field: str, values: dict[str, str]
) -> None:
    client, _owner, device = owner_client
    data = {"password": PASSWORD, "code": totp_code(device, steps=1), "name": "Salon Alpha"}
    response = client.post(_url(partner), {**data, **values})
    assert response.status_code == 200
    assert response.context["form"].errors[field]
    assert Partner.objects.filter(pk=partner.pk).exists()
    assert Booking.objects.filter(partner=partner).count() == 1


def test_a_member_and_another_partners_owner_get_404(
    partner: Partner, other_partner: Partner
) -> None:
    member = _user(partner, "member@salon-alpha.example", PartnerMembership.Role.MEMBER)
    stranger = _user(other_partner, "owner@clinic-beta.example")
    for user in (member, stranger):
        client = Client()
        login_verified(client, user)
        assert client.get(_url(partner)).status_code == 404
        assert client.post(_url(partner), {"password": PASSWORD}).status_code == 404
    assert Partner.objects.filter(pk=partner.pk).exists()


def test_anonymous_is_sent_to_the_login(partner: Partner) -> None:
    response = Client().get(_url(partner))
    assert response.status_code == 302 and "/admin/login/" in response["Location"]


def test_another_method_is_refused(owner_client, partner: Partner) -> None:
    client, _owner, _device = owner_client
    assert client.put(_url(partner)).status_code == 405
    assert Partner.objects.filter(pk=partner.pk).exists()
