"""C13 and C11 over real HTTP, as the attacker who has a staff password but not the phone: two
gunicorn processes share one database. After the password step, going straight to admin URLs
(pages, change forms, the calendar, autocomplete, actions and other POSTs with a valid CSRF token)
on either process never shows data and never changes anything; the enrolment pages do not let
the attacker add a phone of their own; guessed codes lock the address on both processes, after
which even the right code is refused. A user who has the phone gets in (so the refusals are not
an empty server's)."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any
from urllib.parse import quote

import pytest
from django_otp.oath import totp

from tests.app_servers import (
    Visitor,
    app_environment,
    app_servers,
    run_in_app,
    scratch_database_url,
)

pytestmark = pytest.mark.slow

PASSWORD = "a long operator passphrase 2026"
VERIFY = "/account/mfa/verify/"
SECRETS = (
    "Umberto Alphacust",
    "umberto@alpha-cust.example",
    "alpha-secret-note",
    "Bartholomew Betacust",
)

# Run inside the app's environment: the admin world of the booking tests, with passwords and an
# authenticator for the superuser (the victim) and partner A's owner (the control).
SETUP = f"""
import json
from django_otp.plugins.otp_totp.models import TOTPDevice
from tests.booking.admin_world import build_world
w = build_world()
for user in (w.superuser, w.owner):
    user.set_password({PASSWORD!r}); user.save()
print(json.dumps({{
    "victim": w.superuser.email, "victim_id": w.superuser.pk,
    "victim_key": TOTPDevice.objects.create(user=w.superuser, name="phone", confirmed=True).key,
    "owner": w.owner.email, "owner_id": w.owner.pk,
    "owner_key": TOTPDevice.objects.create(user=w.owner, name="phone", confirmed=True).key,
    "partner": w.a.pk, "partner_slug": w.a.slug, "partner_name": w.a.name,
    "booking": w.a_booking.pk, "week": w.a_booking.start.date().isoformat(), "service": w.a_service.pk,
}}))
"""

STATE = """
import json
from django.contrib.auth import get_user_model
from booking.models import Booking, Partner
User = get_user_model()
print(json.dumps({
    "booking_status": Booking.objects.get(pk=%(booking)d).status,
    "bookings": Booking.objects.count(),
    "partner_name": Partner.objects.get(pk=%(partner)d).name,
    "users": User.objects.count(),
    "password_unchanged": User.objects.get(pk=%(victim_id)d).check_password(%(password)r),
    "owner_password_unchanged": User.objects.get(pk=%(owner_id)d).check_password(%(password)r),
    "victim_devices": list(User.objects.get(pk=%(victim_id)d).totpdevice_set.values_list("key", "confirmed")),
}))
"""


def _state(env: dict[str, str], world: dict[str, Any]) -> dict[str, Any]:
    return json.loads(run_in_app(env, STATE % {**world, "password": PASSWORD}))


def _code(key: str, steps: int = 0) -> str:
    return f"{totp(bytes.fromhex(key), 30, 0, 6, steps):06d}"


def _admin_gets(world: dict[str, Any]) -> list[str]:
    booking, partner = world["booking"], world["partner"]
    return [
        "/admin/",
        "/admin/booking/booking/",
        "/admin/booking/booking/?q=cust",
        f"/admin/booking/booking/{booking}/change/",
        f"/admin/booking/booking/{booking}/history/",
        f"/admin/booking/booking/{booking}/delete/",
        f"/admin/booking/booking/{booking}/cancel/",
        "/admin/booking/booking/export/",
        f"/admin/booking/booking/calendar/?partner={partner}&week={world['week']}",
        "/admin/autocomplete/?app_label=booking&model_name=booking&field_name=service&term=Q",
        f"/admin/booking/partner/{partner}/change/",
        "/admin/accounts/user/",
        f"/admin/accounts/user/{world['owner_id']}/change/",
        "/admin/security/securityevent/",
        "/admin/otp_totp/totpdevice/",
        "/admin/password_change/",
    ]


def _admin_posts(world: dict[str, Any]) -> list[tuple[str, dict[str, Any]]]:
    booking, partner = world["booking"], world["partner"]
    return [
        (
            "/admin/booking/booking/",
            {"action": "delete_selected", "_selected_action": str(booking), "post": "yes"},
        ),
        (f"/admin/booking/booking/{booking}/delete/", {"post": "yes"}),
        (f"/admin/booking/booking/{booking}/cancel/", {"reason": "hijacked"}),
        (
            f"/admin/booking/partner/{partner}/change/",
            {"name": "Hijacked", "slug": world["partner_slug"], "time_zone": "UTC"},
        ),
        (
            "/admin/accounts/user/add/",
            {"email": "evil@example.com", "password1": "x" * 24, "password2": "x" * 24},
        ),
        (
            f"/admin/accounts/user/{world['owner_id']}/password/",
            {"password1": "o" * 24, "password2": "o" * 24, "usable_password": "true"},
        ),
        (
            "/admin/password_change/",
            {"old_password": PASSWORD, "new_password1": "n" * 24, "new_password2": "n" * 24},
        ),
    ]


def _mfa_step(base: str, next_url: str) -> str:
    return f"{base}{VERIFY}?next={quote(next_url, safe='')}"


def test_password_alone_opens_nothing_on_either_process(tmp_path: Path) -> None:
    with scratch_database_url(tmp_path, "mfa") as database_url:
        env = app_environment(tmp_path, database_url, label="mfa-bypass", setup="")
        world = json.loads(run_in_app(env, SETUP))
        with app_servers(env, tmp_path) as (first, second):
            _attack(env, world, first, second)


def _attack(env: dict[str, str], world: dict[str, Any], first: str, second: str) -> None:
    before = _state(env, world)
    attacker = Visitor()
    status, headers, _ = attacker.login(first, world["victim"], PASSWORD)
    assert status == 302 and headers["Location"] == f"{VERIFY}?next=%2Fadmin%2F"

    # 1. Straight to admin pages, alternating between the processes.
    for n, url in enumerate(_admin_gets(world)):
        base = (first, second)[n % 2]
        status, headers, body = attacker.get(f"{base}{url}")
        assert status == 302, url
        assert headers["Location"] == f"{VERIFY}?next={quote(url, safe='')}", url
        assert not [s for s in SECRETS if s in body], url
    status, _, body = attacker.get(
        f"{second}/admin/autocomplete/?app_label=booking&model_name=booking&field_name=service",
        Accept="application/json",
    )
    assert status == 401 and json.loads(body)["error"] == "mfa_required"

    # 2. POSTs with a valid CSRF token: sent to the MFA step, nothing done.
    for n, (url, data) in enumerate(_admin_posts(world)):
        status, headers, _ = attacker.post(f"{(second, first)[n % 2]}{url}", data)
        assert status == 302 and headers["Location"] == _mfa_step("", url), url
    assert _state(env, world) == before

    # 3. The enrolment pages: no phone of the attacker's can be added.
    assert attacker.get(f"{first}/account/mfa/enrol/")[1]["Location"].startswith(VERIFY)
    assert attacker.post(f"{second}/account/mfa/enrol/", {"code": "123456"})[0] == 302
    assert attacker.get(f"{first}/account/mfa/enrol/qr.svg")[0] == 404
    assert attacker.post(f"{second}/account/mfa/backup-codes/", {})[1]["Location"].startswith(
        VERIFY
    )
    assert (
        _state(env, world)["victim_devices"]
        == before["victim_devices"]
        == [[world["victim_key"], True]]
    )

    # 4. The control: the owner, with the phone, gets in and sees partner A's customer.
    owner = Visitor()
    owner.login(second, world["owner"], PASSWORD)
    status, headers, _ = owner.post(
        f"{first}{VERIFY}", {"code": _code(world["owner_key"]), "next": "/admin/"}
    )
    assert status == 302 and headers["Location"] == "/admin/"
    status, _, body = owner.get(f"{second}/admin/booking/booking/{world['booking']}/change/")
    assert status == 200 and SECRETS[0] in body

    # 5. Guessing codes: the third wrong one locks the address on both processes; the right code
    #    is refused after that, and the admin stays closed.
    wrong = next(
        c
        for c in ("000000", "111111", "222222")
        if c not in {_code(world["victim_key"], s) for s in (-1, 0, 1)}
    )
    statuses = [
        attacker.post(f"{(first, second)[n % 2]}{VERIFY}", {"code": wrong})[0] for n in range(3)
    ]
    assert statuses == [200, 200, 429]
    for base in (second, first):
        status, _, body = attacker.post(f"{base}{VERIFY}", {"code": _code(world["victim_key"], 1)})
        assert status == 429 and "locked" in body
        assert attacker.get(f"{base}/admin/")[0] == 302
    assert _state(env, world) == before
