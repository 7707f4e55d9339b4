"""One mapping from a refused booking to its HTTP answer, used by the pages, the admin and the API:
the same refusal reads the same and has the same status everywhere."""

from __future__ import annotations

import pytest
import time_machine
from django import forms
from django.core.exceptions import ValidationError

from booking import errors, services
from tests.booking.conftest import zurich


@pytest.mark.parametrize(
    ("exc", "status", "code"),
    [
        (services.SlotNotOffered(), 400, "slot_not_offered"),
        (services.SlotTaken(), 409, "slot_taken"),
        (services.ChangeNotAllowed(), 400, "change_not_allowed"),
        (services.PaymentsUnavailable(), 503, "payments_not_configured"),
        (ValidationError({"customer_name": "bad"}), 400, "invalid"),
    ],
)
def test_each_refusal_has_one_answer(exc: Exception, status: int, code: str) -> None:
    answer = errors.answer(exc)  # type: ignore[arg-type]
    assert (answer.status, answer.code) == (status, code)


def test_messages_come_from_the_exception_not_the_view() -> None:
    assert errors.messages(services.SlotTaken()) == [
        "Sorry, this time was just taken. Please choose another one."
    ]
    assert errors.messages(services.SlotTaken("Custom")) == ["Custom"]


class _Form(forms.Form):
    start = forms.CharField(required=False)
    customer_name = forms.CharField(required=False)


def test_refusals_land_on_the_field_the_person_can_fix() -> None:
    form = _Form({})
    form.is_valid()
    errors.add_to_form(form, services.SlotTaken(), field="start")
    errors.add_to_form(form, ValidationError({"customer_name": "Bad name", "status": "internal"}))
    assert form.errors["start"] == ["Sorry, this time was just taken. Please choose another one."]
    assert form.errors["customer_name"] == ["Bad name"]
    assert form.non_field_errors() == ["internal"]  # not a field of this form


def test_the_api_and_the_page_say_the_same_for_a_taken_time(client, service, book) -> None:
    start = zurich(2025, 3, 5, 10)
    with time_machine.travel(zurich(2025, 3, 3, 7), tick=False):
        book(service, start, customer_email="first@example.com")
        body = {
            "service": "haircut",
            "start": "2025-03-05T09:00:00Z",
            "customer_name": "Grace",
            "customer_email": "grace@example.com",
        }
        api = client.post(
            "/api/v1/partners/salon-alpha/bookings", body, content_type="application/json"
        )
        page = client.post(
            "/book/salon-alpha/haircut/book/",
            {**body, "tz": "Europe/Zurich"},
        )
    message = str(services.SlotTaken())
    assert api.status_code == page.status_code == 409
    assert api.json()["message"] == message
    assert message in page.text
