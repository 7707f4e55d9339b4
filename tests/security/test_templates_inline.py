"""No inline code anywhere (C06, STYLE.md): every template of the project is scanned for inline
<script> bodies, <style> blocks, style= attributes, on*= handlers and javascript: URLs, and the
project's JavaScript for HTML-string sinks and string evaluation. The strict CSP would block
such code in the browser; this finds it before a customer does. Failures list file:line."""

from __future__ import annotations

import re
from collections.abc import Iterator
from pathlib import Path

import pytest
from django.conf import settings

ROOT = Path(settings.BASE_DIR)
_SKIP_DIRS = {".venv", "venv", "node_modules", ".git", "var", "__pycache__", ".mirror"}

# An opening <script ...> tag and what follows it up to </script>.
_SCRIPT = re.compile(
    r"<script\b(?P<attrs>[^>]*)>(?P<body>.*?)</script\s*>", re.IGNORECASE | re.DOTALL
)
_STYLE_TAG = re.compile(r"<style\b", re.IGNORECASE)
_TAG = re.compile(r"<[a-zA-Z][^<>]*>", re.DOTALL)
_STYLE_ATTR = re.compile(r"\sstyle\s*=", re.IGNORECASE)
_HANDLER_ATTR = re.compile(r"\son[a-z]+\s*=", re.IGNORECASE)
_JS_URL = re.compile(r"""(?:href|src|action|formaction)\s*=\s*["']?\s*javascript:""", re.IGNORECASE)

_JS_SINKS = {
    "innerHTML": re.compile(r"\.innerHTML\b"),
    "outerHTML": re.compile(r"\.outerHTML\b"),
    "insertAdjacentHTML": re.compile(r"\binsertAdjacentHTML\b"),
    "document.write": re.compile(r"\bdocument\.write(ln)?\b"),
    "eval": re.compile(r"(?<![\w$])eval\s*\("),
    "new Function": re.compile(r"\bnew\s+Function\b|(?<![\w$])Function\s*\("),
    "string timer": re.compile(r"\bset(Timeout|Interval)\s*\(\s*[\"'`]"),
    "setAttribute on*/style": re.compile(
        r"""setAttribute\s*\(\s*["'](on[a-z]+|style)["']""", re.IGNORECASE
    ),
    "createContextualFragment": re.compile(r"\bcreateContextualFragment\b"),
}


def _walk(pattern: str) -> Iterator[Path]:
    for path in sorted(ROOT.glob(pattern)):
        if not any(part in _SKIP_DIRS for part in path.relative_to(ROOT).parts):
            yield path


def project_templates() -> list[Path]:
    found = {*_walk("*/templates/**/*.html"), *_walk("templates/**/*.html")}
    return sorted(found)


def project_scripts() -> list[Path]:
    return sorted({*_walk("*/static/**/*.js")})


def _line(text: str, offset: int) -> int:
    return text.count("\n", 0, offset) + 1


def template_offences(text: str) -> list[tuple[int, str]]:
    found: list[tuple[int, str]] = []
    for match in _SCRIPT.finditer(text):
        if match["body"].strip():
            found.append((_line(text, match.start()), "inline <script> body"))
        elif "src" not in match["attrs"].lower():
            found.append((_line(text, match.start()), "<script> without src"))
    for match in _STYLE_TAG.finditer(text):
        found.append((_line(text, match.start()), "<style> block"))
    for tag in _TAG.finditer(text):
        for pattern, what in (
            (_STYLE_ATTR, "style= attribute"),
            (_HANDLER_ATTR, "on*= event handler"),
        ):
            for match in pattern.finditer(tag.group()):
                found.append((_line(text, tag.start() + match.start()), what))
    for match in _JS_URL.finditer(text):
        found.append((_line(text, match.start()), "javascript: URL"))
    return sorted(found)


def _strip_js_comments(source: str) -> str:
    """Blank out comments (keeping line numbers) so a comment that names a sink does not count.
    Naive about comment markers inside strings, which errs towards reporting."""
    source = re.sub(
        r"/\*.*?\*/", lambda m: re.sub(r"[^\n]", " ", m.group()), source, flags=re.DOTALL
    )
    return re.sub(r"(?m)(^|[^:\"'\\])//.*$", r"\1", source)


def script_offences(source: str) -> list[tuple[int, str]]:
    code = _strip_js_comments(source)
    found = []
    for what, pattern in _JS_SINKS.items():
        for match in pattern.finditer(code):
            found.append((_line(code, match.start()), what))
    return sorted(found)


def _report(path: Path, offences: list[tuple[int, str]]) -> list[str]:
    lines = path.read_text(encoding="utf-8").splitlines()
    rel = path.relative_to(ROOT)
    return [f"{rel}:{n}: {what}: {lines[n - 1].strip()[:120]}" for n, what in offences]


# --- the project --------------------------------------------------------------------------------


def test_there_are_templates_to_scan() -> None:
    names = {p.relative_to(ROOT).as_posix() for p in project_templates()}
    assert "templates/429.html" in names
    assert "security/templates/security/policy.html" in names


def test_no_template_has_inline_code() -> None:
    problems = [
        line
        for path in project_templates()
        for line in _report(path, template_offences(path.read_text(encoding="utf-8")))
    ]
    assert not problems, "inline code in templates (the CSP blocks it):\n" + "\n".join(problems)


def test_widget_script_exists() -> None:
    assert (ROOT / "booking/static/widget/booking.js").is_file()


def test_no_script_uses_html_sinks_or_eval() -> None:
    problems = [
        line
        for path in project_scripts()
        for line in _report(path, script_offences(path.read_text(encoding="utf-8")))
    ]
    assert not problems, "dangerous constructs in JavaScript:\n" + "\n".join(problems)


# --- the scanner finds what it is meant to find --------------------------------------------------


@pytest.mark.parametrize(
    ("snippet", "what"),
    [
        ("<script>alert(1)</script>", "inline <script> body"),
        ("<SCRIPT type='text/javascript'>\n  var x = 1;\n</SCRIPT>", "inline <script> body"),
        ("<script nonce='{{ n }}'></script>", "<script> without src"),
        ("<style>body{}</style>", "<style> block"),
        ('<div style="color:red">', "style= attribute"),
        ("<p\n  class='x'\n  STYLE='x'>", "style= attribute"),
        ('<button onclick="go()">', "on*= event handler"),
        ("<img src=x onerror=alert(1)>", "on*= event handler"),
        ('<body onload = "x()">', "on*= event handler"),
        ('<a href="javascript:alert(1)">', "javascript: URL"),
    ],
)
def test_scanner_flags_inline_code(snippet: str, what: str) -> None:
    assert what in [w for _, w in template_offences(snippet)]


def test_scanner_accepts_external_script_and_data_attributes() -> None:
    clean = (
        '{% load static %}<link rel="stylesheet" href="{% static \'x.css\' %}">\n'
        "<script src=\"{% static 'x.js' %}\" defer></script>\n"
        '<div data-style="wide" data-onload="1" class="stylish" id="online">Based on=nothing</div>'
    )
    assert template_offences(clean) == []


def test_scanner_reports_the_line() -> None:
    assert template_offences("<p>\n<p>\n<div style='x'>") == [(3, "style= attribute")]


@pytest.mark.parametrize(
    ("snippet", "what"),
    [
        ("el.innerHTML = data.name;", "innerHTML"),
        ("el.outerHTML = s", "outerHTML"),
        ("el.insertAdjacentHTML('beforeend', s)", "insertAdjacentHTML"),
        ("document.write(s)", "document.write"),
        ("eval(s)", "eval"),
        ("window.eval (s)", "eval"),
        ("var f = new Function('a', 'return a');", "new Function"),
        ("setTimeout('go()', 10)", "string timer"),
        ("el.setAttribute('onclick', 'x()')", "setAttribute on*/style"),
        ("el.setAttribute(\"style\", 'color:red')", "setAttribute on*/style"),
    ],
)
def test_scanner_flags_dangerous_javascript(snippet: str, what: str) -> None:
    assert what in [w for _, w in script_offences(snippet)]


def test_scanner_ignores_comments_and_safe_calls() -> None:
    clean = (
        "// never use innerHTML or eval here\n"
        "/* new Function is banned\n   too */\n"
        "el.textContent = data.name; setTimeout(function () {}, 10); var url = 'https://x';\n"
        "retrieval(x); myeval(y); el.className = 'bw-slot';"
    )
    assert script_offences(clean) == []
