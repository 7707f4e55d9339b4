"""CSV files that a spreadsheet opens as data, never as formulas (CSV injection).

A spreadsheet runs a cell that starts with = + - @ (or a tab or carriage return, and their
full-width forms, which some spreadsheets fold to ASCII) as a formula. Which character splits
cells is not ours to choose: Excel in de-CH opens a .csv with `;` as its list separator, other
tools split on tabs or pipes, and a line break inside a value starts a new row for a naive
reader. So every cell is quoted, and a formula character gets an apostrophe (the usual
neutraliser, shown as text by every spreadsheet) at the start of the value AND after every
character that some reader may take as a separator (spaces between count as nothing). The
values stay readable.
"""

from __future__ import annotations

import csv
import re
from typing import Any

_FORMULA = "=+\\-@\t\r\uff1d\uff0b\uff0d\uff20\ufe66\ufe62\ufe63\ufe6b"
_SEPARATORS = ",;\t\r\n|"
# A formula character that starts the value or follows a separator, spaces between allowed
# (some readers trim them).
_RISKY = re.compile(f"(^|[{_SEPARATORS}])( *)(?=[{_FORMULA}])")


def csv_safe(value: Any) -> str:
    text = "" if value is None else str(value)
    return _RISKY.sub(r"\1\2'", text)


def csv_writer(stream: Any) -> Any:
    """A csv.writer that quotes every cell, so no reader splits a value on its commas."""
    return csv.writer(stream, quoting=csv.QUOTE_ALL)
