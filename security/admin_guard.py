"""Bad input in the admin gets a 400 page that says what was wrong, in the admin's look, never a
500 (C35): the helper for the admin's own views, and a guard for every changelist's filters."""

from __future__ import annotations

import re
from collections.abc import Iterable
from datetime import date
from typing import Any

from django.contrib.admin import AdminSite, ModelAdmin
from django.contrib.admin.options import IS_POPUP_VAR, TO_FIELD_VAR
from django.contrib.admin.views.main import (  # type: ignore[attr-defined]  # IS_FACETS_VAR: Django 5.0+, not in django-stubs 5.2
    ALL_VAR,
    ERROR_FLAG,
    IS_FACETS_VAR,
    ORDER_VAR,
    PAGE_VAR,
    SEARCH_VAR,
)
from django.core.exceptions import FieldDoesNotExist, ValidationError
from django.db import models
from django.db.models.constants import LOOKUP_SEP
from django.http import HttpRequest, HttpResponse, QueryDict
from django.template.response import TemplateResponse
from django.utils.dateparse import parse_date, parse_datetime
from django.utils.translation import gettext_lazy as _

from security.inputs import MAX_ID, MAX_YEAR, MIN_YEAR, YEAR_RANGE_MESSAGE, validate_year


def admin_bad_request(
    request: HttpRequest,
    admin_site: AdminSite,
    messages: Iterable[Any],
    *,
    back_url: str,
    back_text: Any = None,
) -> TemplateResponse:
    return TemplateResponse(
        request,
        "admin/bad_request.html",
        {
            **admin_site.each_context(request),
            "title": _("That did not work"),
            "error_messages": [str(message) for message in messages],
            "back_url": back_url,
            "back_text": back_text or _("Back"),
        },
        status=400,
    )


# --- changelist filters ------------------------------------------------------------------------

# Query parameters of the changelist that are not filters (Django reads them itself, safely).
_NOT_FILTERS = {
    ALL_VAR,
    ORDER_VAR,
    PAGE_VAR,
    SEARCH_VAR,
    ERROR_FLAG,
    IS_POPUP_VAR,
    TO_FIELD_VAR,
    IS_FACETS_VAR,
    "_changelist_filters",
}
# Transforms of a date or date-time that turn it into a small number.
_DATE_PARTS = {
    "year",
    "iso_year",
    "month",
    "day",
    "week",
    "week_day",
    "iso_week_day",
    "quarter",
    "hour",
    "minute",
    "second",
}
_LISTS = {"in", "range"}
_INTEGER = re.compile(r"-?[0-9]{1,19}")
_DATE_PART = re.compile(r"[0-9]{1,4}")
_DECIMAL = re.compile(r"-?[0-9]{1,30}(\.[0-9]{1,30})?")


def _resolve(model: type[models.Model], key: str) -> tuple[models.Field | None, list[str]]:
    """The model field a filter parameter names (following relations) and the lookups and
    transforms after it; (None, []) when it names no field (Django refuses it itself)."""
    parts = key.split(LOOKUP_SEP)
    opts = model._meta
    field: models.Field | None = None
    for index, part in enumerate(parts):
        try:
            found = opts.get_field(part)
        except FieldDoesNotExist:
            return (field, parts[index:]) if field is not None else (None, [])
        if not isinstance(found, models.Field):  # a reverse relation: not a column of ours
            return None, []
        field = found
        if found.is_relation and isinstance(found.related_model, type):
            opts = found.related_model._meta
    if isinstance(field, models.ForeignKey):
        field = field.target_field
    return field, []


def _value_problem(field: models.Field, lookups: list[str], value: str) -> Any:
    if isinstance(field, models.ForeignKey):
        field = field.target_field
    if any(lookup in _DATE_PARTS for lookup in lookups):
        if not _DATE_PART.fullmatch(value):
            return _("Enter a whole number.")
        if "year" in lookups or "iso_year" in lookups:
            try:
                validate_year(date(int(value), 1, 1))
            except (ValueError, ValidationError):
                return YEAR_RANGE_MESSAGE % {"min": MIN_YEAR, "max": MAX_YEAR}
        return None
    if isinstance(field, models.DateTimeField | models.DateField):
        moment: date | None = None
        if value.isascii():
            try:
                moment = parse_datetime(value) or parse_date(value)
            except ValueError:
                moment = None
        if moment is None:
            return _("Enter a date as YYYY-MM-DD or a date and time in ISO 8601.")
        try:
            validate_year(moment)
        except ValidationError as exc:
            return exc.messages[0]
        return None
    if isinstance(field, models.IntegerField | models.AutoField):
        if not _INTEGER.fullmatch(value) or abs(int(value)) > MAX_ID:
            return _("Enter a whole number.")
        return None
    if isinstance(field, models.DecimalField | models.FloatField):
        if not _DECIMAL.fullmatch(value):
            return _("Enter a number.")
    return None


def changelist_filter_problems(model: type[models.Model], params: QueryDict) -> list[str]:
    """What is wrong with the filter values of a changelist URL, for the fields whose values a
    database could choke on (dates and numbers): the rest Django checks itself."""
    problems = []
    for key, values in params.lists():
        if key in _NOT_FILTERS:
            continue
        field, lookups = _resolve(model, key)
        if field is None or (lookups and lookups[-1] == "isnull"):
            continue
        for value in values:
            parts = value.split(",") if lookups and lookups[-1] in _LISTS else [value]
            for part in parts:
                problem = _value_problem(field, lookups, part)
                if problem:
                    problems.append(f"{key[:60]}: {problem}")
                    break
    return problems


class ChangelistFilterGuard(ModelAdmin):
    """Mixed into every ModelAdmin of the site (MFAAdminSite.register): a filter value that the
    database cannot take (a date at the ends of the calendar, a number too big for a column)
    answers 400 with the reason, instead of an OverflowError deep in the query."""

    def changelist_view(
        self, request: HttpRequest, extra_context: dict[str, Any] | None = None
    ) -> HttpResponse:
        problems = changelist_filter_problems(self.model, request.GET)
        if problems:
            return admin_bad_request(
                request,
                self.admin_site,
                problems,
                back_url=request.path,
                back_text=_("Show the list without filters"),
            )
        return super().changelist_view(request, extra_context)
