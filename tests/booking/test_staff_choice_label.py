"""The "anyone" choice says the rule booking.slots applies (fewest bookings that local day, then
display order), not "the first free person", in every language."""

from __future__ import annotations

import pytest
from django.utils import translation

from booking.admin.forms import ANYONE
from booking.models import StaffChoice


@pytest.mark.parametrize(
    ("language", "words"),
    [
        ("en", "fewest bookings"),
        ("de", "am wenigsten Buchungen"),
        ("fr", "le moins de"),
        ("it", "meno prenotazioni"),
    ],
)
def test_the_anyone_labels_state_the_assignment_rule(language: str, words: str) -> None:
    with translation.override(language):
        for label in (str(StaffChoice.ANY.label), str(ANYONE)):
            assert words in label
            assert "first free" not in label
