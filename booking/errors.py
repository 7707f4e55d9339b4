"""How a refused booking write is answered, in one place for the booking pages, the manage pages,
the admin and the widget API: the HTTP status, the API's error code, and which form field a
message belongs to. The messages themselves come from the exceptions (booking.services), so no
view re-types them.
"""

from __future__ import annotations

from dataclasses import dataclass

from django.core.exceptions import NON_FIELD_ERRORS, ValidationError
from django.forms import BaseForm

from booking.services import (
    BookingError,
    ChangeNotAllowed,
    PaymentsUnavailable,
    SlotNotOffered,
    SlotTaken,
    StaffNotOffered,
)


@dataclass(frozen=True)
class Answer:
    status: int
    code: str  # the widget API's "error" value


_ANSWERS: dict[type[BookingError], Answer] = {
    SlotNotOffered: Answer(400, "slot_not_offered"),
    SlotTaken: Answer(409, "slot_taken"),
    ChangeNotAllowed: Answer(400, "change_not_allowed"),
    PaymentsUnavailable: Answer(503, "payments_not_configured"),
    StaffNotOffered: Answer(400, "staff_not_offered"),
}
INVALID = Answer(400, "invalid")


def answer(exc: BookingError | ValidationError) -> Answer:
    """The status and code of a refusal (the kinds are unrelated classes: one matches)."""
    if isinstance(exc, ValidationError):
        return INVALID
    for kind, known in _ANSWERS.items():
        if isinstance(exc, kind):
            return known
    return Answer(400, "booking_refused")


def field_messages(exc: ValidationError) -> dict[str, list[str]]:
    """A ValidationError as {field: [messages]}; errors of no field under "__all__"."""
    if hasattr(exc, "error_dict"):
        return {
            field: [str(m) for m in ValidationError(errors).messages]
            for field, errors in exc.error_dict.items()
        }
    return {NON_FIELD_ERRORS: [str(m) for m in exc.messages]}


def add_to_form(
    form: BaseForm, exc: BookingError | ValidationError, *, field: str | None = None
) -> None:
    """Put a refusal onto `form`: a BookingError onto `field` (the time the person chose), model
    validation errors onto the fields of the same name, anything else as a non-field error."""
    if isinstance(exc, BookingError):
        form.add_error(field if field in form.fields else None, str(exc))
        return
    for name, messages in field_messages(exc).items():
        form.add_error(name if name in form.fields else None, messages)


def messages(exc: BookingError | ValidationError) -> list[str]:
    """Every message of a refusal, for pages that list them above a form."""
    if isinstance(exc, BookingError):
        return [str(exc)]
    return [m for ms in field_messages(exc).values() for m in ms]
