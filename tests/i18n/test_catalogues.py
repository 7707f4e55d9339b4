"""The translation catalogues: every text marked in the code is translated in every language, no
entry is fuzzy, placeholders survive, Swiss German spelling, and the committed .mo files are
what the .po files say (Django reads only the .mo).

The msgids are extracted afresh with Django's makemessages (GNU xgettext), into a temporary
folder, with the same ignore list as `make messages` (bin/messages)."""

from __future__ import annotations

import os
import re
import shutil
from pathlib import Path

import polib
import pytest
from django.conf import settings
from django.core.management import call_command

from booking.i18n import CATALOGUE_IGNORE

ROOT = Path(__file__).resolve().parents[2]
LANGUAGES = [code for code, _name in settings.LANGUAGES if code != settings.LANGUAGE_CODE]
DOMAINS = ("django", "djangojs")
# What makemessages scans: every top-level source folder (the ignore list then takes out the
# operator tooling, tests and benchmarks, as bin/messages does).
SOURCES = ("accounts", "booking", "payments", "security", "settings", "templates")
PLACEHOLDER = re.compile(r"%\(\w+\)[sd]|%[sd]")


def _committed(language: str, domain: str) -> polib.POFile:
    return polib.pofile(str(ROOT / "locale" / language / "LC_MESSAGES" / f"{domain}.po"))


@pytest.fixture(scope="module")
def extracted(tmp_path_factory: pytest.TempPathFactory) -> dict[str, set[tuple[str, str]]]:
    """{domain: {(msgctxt, msgid)}} as makemessages finds them in the code now."""
    if shutil.which("xgettext") is None:
        message = "GNU gettext (xgettext) is not installed: apt-get install gettext"
        if os.environ.get("CI", "").lower() == "true":
            pytest.fail(f"{message}; CI must check the catalogues", pytrace=False)
        pytest.skip(message)
    work = tmp_path_factory.mktemp("messages")
    # makemessages writes beside the sources it scans: the catalogues, and for each template a
    # templatized copy "<name>.html.py" while it reads it. It scans a copy of the sources (and
    # no locale/ folder), so that it writes nothing into the checkout: the committed catalogues
    # stay alone, and no half-written .py file shows up under an app for a test running
    # alongside (tests/test_architecture.py parses every .py file of the apps).
    for name in SOURCES:
        shutil.copytree(ROOT / name, work / name, ignore=shutil.ignore_patterns("__pycache__"))
    (work / "locale").mkdir()
    cwd = Path.cwd()
    found: dict[str, set[tuple[str, str]]] = {}
    try:
        os.chdir(work)
        with pytest.MonkeyPatch.context() as patch:
            patch.setattr(settings, "LOCALE_PATHS", [str(work / "locale")])
            for domain in DOMAINS:
                call_command(
                    "makemessages",
                    locale=[LANGUAGES[0]],
                    domain=domain,
                    ignore_patterns=list(CATALOGUE_IGNORE),
                    verbosity=0,
                )
    finally:
        os.chdir(cwd)
    for domain in DOMAINS:
        po = polib.pofile(str(work / "locale" / LANGUAGES[0] / "LC_MESSAGES" / f"{domain}.po"))
        found[domain] = {(entry.msgctxt or "", entry.msgid) for entry in po}
    assert len(found["django"]) > 200 and len(found["djangojs"]) > 20  # the scan saw the code
    return found


@pytest.mark.parametrize("language", LANGUAGES)
@pytest.mark.parametrize("domain", DOMAINS)
def test_every_marked_text_is_in_the_catalogue(extracted, language: str, domain: str) -> None:
    po = _committed(language, domain)
    present = {(entry.msgctxt or "", entry.msgid) for entry in po if not entry.obsolete}
    missing = sorted(extracted[domain] - present)
    assert not missing, f"run `make messages` and translate: {missing[:10]}"


@pytest.mark.parametrize("language", LANGUAGES)
@pytest.mark.parametrize("domain", DOMAINS)
def test_every_entry_is_translated_and_none_is_fuzzy(language: str, domain: str) -> None:
    po = _committed(language, domain)
    assert not po.metadata_is_fuzzy
    assert [e.msgid for e in po.fuzzy_entries()] == []
    assert [e.msgid for e in po.untranslated_entries()] == []
    assert po.percent_translated() == 100


@pytest.mark.parametrize("language", LANGUAGES)
@pytest.mark.parametrize("domain", DOMAINS)
def test_translations_keep_the_placeholders(language: str, domain: str) -> None:
    for entry in _committed(language, domain):
        wanted = sorted(PLACEHOLDER.findall(entry.msgid))
        if entry.msgid_plural:
            # A singular may name its number in words ("one hour"), but never invent one.
            for text in entry.msgstr_plural.values():
                assert set(PLACEHOLDER.findall(text)) <= set(
                    PLACEHOLDER.findall(entry.msgid_plural)
                ), entry.msgid
        else:
            assert sorted(PLACEHOLDER.findall(entry.msgstr)) == wanted, entry.msgid


def test_swiss_german_writes_ss() -> None:
    for domain in DOMAINS:
        for entry in _committed("de", domain):
            texts = [entry.msgstr, *entry.msgstr_plural.values()]
            assert not any("ß" in text for text in texts), entry.msgid


@pytest.mark.parametrize("language", LANGUAGES)
@pytest.mark.parametrize("domain", DOMAINS)
def test_the_committed_mo_is_the_po_compiled(language: str, domain: str) -> None:
    po = _committed(language, domain)
    mo = polib.mofile(str(ROOT / "locale" / language / "LC_MESSAGES" / f"{domain}.mo"))

    def table(catalogue: polib._BaseFile) -> dict[tuple[str, str], object]:
        return {
            (e.msgctxt or "", e.msgid): (e.msgstr, sorted(e.msgstr_plural.items()))
            for e in catalogue
            if e.msgid and not e.obsolete and "fuzzy" not in e.flags
        }

    assert table(mo) == table(po), "run `make messages` (it compiles the .mo files)"
