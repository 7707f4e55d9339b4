"""Every text a person reads in a template is marked for translation: what is left of a template
once tags, variables, comments, markup and the translate/blocktranslate blocks are taken out must
be punctuation or a token that is the same in every language (the allow-list below)."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
TEMPLATE_DIRS = [ROOT / "templates", *sorted(ROOT.glob("*/templates"))]
TEMPLATES = sorted(
    path
    for folder in TEMPLATE_DIRS
    for path in folder.rglob("*")
    if path.suffix in {".html", ".txt"} and ".venv" not in path.parts
)

# Words that are not language: units, codes, product and file names, separators.
ALLOWED = {"UTC", "CSV", "ID", "TOTP", "QR", "Stripe", "invite.ics", "cancel.ics", "security.txt"}
# Attributes whose values people read (or hear, from a screen reader).
READ_ATTRIBUTES = re.compile(
    r"""\b(?:alt|title|aria-label|placeholder)\s*=\s*("[^"]*"|'[^']*')""", re.IGNORECASE
)
# A value is read only on a button (a hidden field's value is data).
_BUTTON = re.compile(r"<input\b[^>]*\btype=[\"']?(?:submit|button|reset)\b[^>]*>", re.I | re.S)
_VALUE = re.compile(r"""\bvalue\s*=\s*("[^"]*"|'[^']*')""", re.IGNORECASE)

_BLOCK_TRANSLATE = re.compile(
    r"{%\s*blocktrans(?:late)?\b.*?{%\s*endblocktrans(?:late)?\s*%}", re.S
)
_COMMENT_BLOCK = re.compile(r"{%\s*comment\s*%}.*?{%\s*endcomment\s*%}", re.S)
_COMMENT = re.compile(r"{#.*?#}", re.S)
_TAG = re.compile(r"{%.*?%}", re.S)
_VARIABLE = re.compile(r"{{.*?}}", re.S)
_MARKUP = re.compile(r"<[^>]*>", re.S)
_ENTITY = re.compile(r"&[a-z]+;|&#\d+;")


def _without_template_code(text: str) -> str:
    for pattern in (_COMMENT_BLOCK, _COMMENT, _BLOCK_TRANSLATE, _TAG, _VARIABLE):
        text = pattern.sub(" ", text)
    return text


def unmarked(source: str) -> list[str]:
    """The words of `source` that a reader sees and no translate tag covers."""
    code_free = _without_template_code(source)
    attribute_text = [value[1:-1] for value in READ_ATTRIBUTES.findall(code_free)]
    for button in _BUTTON.findall(code_free):
        attribute_text += [value[1:-1] for value in _VALUE.findall(button)]
    visible = _ENTITY.sub(" ", _MARKUP.sub(" ", code_free))
    words = re.findall(r"[^\W\d_][\w'.’-]*", " ".join([visible, *attribute_text]))
    return [word for word in words if word not in ALLOWED]


def test_the_scan_finds_unmarked_text_and_accepts_marked_text() -> None:
    assert unmarked("<p>Book now</p>") == ["Book", "now"]
    assert unmarked('<img alt="A photo" src="{{ x }}">') == ["A", "photo"]
    assert unmarked('<button aria-label="Close">×</button>') == ["Close"]
    assert unmarked('<input type="submit" value="Send">') == ["Send"]
    assert unmarked('<input type="hidden" name="confirm" value="yes">') == []
    assert unmarked("{% load i18n %}<p>{% translate 'Book now' %}</p>") == []
    assert unmarked("<p>{% blocktranslate %}Hi {{ name }}{% endblocktranslate %}</p>") == []
    assert unmarked("{# a comment #}<p>{{ value }} · 12:00 UTC</p>") == []
    assert unmarked('<a href="{{ url }}" class="button primary">{{ label }}</a>') == []


def test_there_are_templates_to_scan() -> None:
    names = {path.name for path in TEMPLATES}
    assert {"base.html", "manage.html", "404.html", "confirmed_customer.txt"} <= names


@pytest.mark.parametrize("path", TEMPLATES, ids=lambda p: str(p.relative_to(ROOT)))
def test_every_visible_text_is_marked_for_translation(path: Path) -> None:
    words = unmarked(path.read_text(encoding="utf-8"))
    assert not words, f"wrap in {{% translate %}} or {{% blocktranslate %}}: {words}"
