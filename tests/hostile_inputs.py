"""Values an attacker (or a confused client) types where the product expects a date, a time, a
zone or a number: the ends of the calendar, huge and non-finite numbers, digits of other
scripts, whitespace and over-long text. Every entry point is thrown all of them and must answer
with a 4xx, a form error or a CommandError: never a 500."""

from __future__ import annotations

# Dates (YYYY-MM-DD is what the product asks for).
DATES = [
    "9999-12-31",
    "0001-01-01",
    "0000-00-00",
    "1899-12-31",
    "3000-01-01",
    "2026-02-30",
    "-2026-01-01",
    "+2026-01-01",
    "٢٠٢٦-٠١-٠١",  # Arabic-Indic digits
    "２０２６-０１-０１",  # full-width digits
    " 2026-01-01",
    "2026-01-01 ",
    "\t",
    "2026-01-01" * 100,
    "NaN",
    "Infinity",
    "-1",
    "١٢",
    "9" * 5000,
    "\x00",
]

# Date-times (the customer pages and the API want RFC 3339 with an offset).
DATETIMES = [
    "9999-12-31T23:59:59Z",
    "0001-01-01T00:00:00Z",
    "9999-12-31T23:59:59-12:00",
    "0001-01-01T00:00:00+14:00",
    "1899-12-31T23:00:00Z",
    "3000-01-01T00:00:00Z",
    "2026-02-30T10:00:00Z",
    "2026-01-01T25:00:00Z",
    "2026-01-01T10:00:00+99:00",
    "٢٠٢٦-٠١-٠١T١٠:٠٠:٠٠Z",
    " 2026-01-05T09:00:00Z",
    "2026-01-05T09:00:00Z\n",
    "2026-01-05T09:00:00Z" * 50,
    "NaN",
    "Infinity",
    "-1",
    "١٢",
    "9" * 5000,
    "\x00",
]

# Wall-clock date-times as a datetime-local input sends them (the admin's forms).
LOCAL_DATETIMES = [
    "9999-12-31T23:59",
    "0001-01-01T00:00",
    "1899-12-31T23:00",
    "3000-01-01T00:00",
    "2026-02-30T10:00",
    "2026-01-01T24:00",
    "٢٠٢٦-٠١-٠١T١٠:٠٠",
    "2026-01-01T10:00" * 50,
    "NaN",
    "Infinity",
    "-1",
    "١٢",
    "9" * 5000,
    "\x00",
    " ",
]

# Ids and counts.
NUMBERS = [
    "-1",
    "0",
    "-0",
    "1.5",
    "1e3",
    "0x10",
    "NaN",
    "Infinity",
    "-Infinity",
    "١٢",
    "１２",
    " 1 2 ",
    "99999999999999999999",
    "9223372036854775808",
    "9" * 5000,
    "1" * 400,
    "\x00",
    " ",
    "",
]

# Time zones.
ZONES = [
    "Mars/Olympus_Mons",
    "../../../etc/passwd",
    "Europe/Zurich\x00",
    " Europe/Zurich",
    "٢",
    "x" * 5000,
    "NaN",
]
