"""The typed environment readers (settings/env.py): good values are parsed, bad ones stop start-up
with ImproperlyConfigured naming the variable."""

from __future__ import annotations

from pathlib import Path

import pytest
from django.core.exceptions import ImproperlyConfigured

from settings.env import env_bool, env_choice, env_int, env_list, env_str, env_url

DB_SCHEMES = {"sqlite", "postgres", "postgresql"}


@pytest.mark.parametrize(
    ("raw", "expected"),
    [
        ("1", True),
        ("true", True),
        ("On", True),
        (" TRUE ", True),
        ("0", False),
        ("false", False),
        ("off", False),
    ],
)
def test_env_bool_reads_the_accepted_spellings(
    monkeypatch: pytest.MonkeyPatch, raw: str, expected: bool
) -> None:
    monkeypatch.setenv("DEBUG", raw)
    assert env_bool("DEBUG", not expected) is expected


def test_env_bool_uses_the_default_when_unset_or_blank(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("DEBUG", raising=False)
    assert env_bool("DEBUG", True) is True
    monkeypatch.setenv("DEBUG", "  ")
    assert env_bool("DEBUG", False) is False


@pytest.mark.parametrize("raw", ["yes please", "yes", "2", "enabled"])
def test_env_bool_rejects_anything_else_naming_the_variable(
    monkeypatch: pytest.MonkeyPatch, raw: str
) -> None:
    monkeypatch.setenv("DEBUG", raw)
    with pytest.raises(ImproperlyConfigured, match=r"DEBUG=.*not a boolean"):
        env_bool("DEBUG", False)


def test_env_int_reads_whole_numbers(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("EMAIL_PORT", " 2525 ")
    assert env_int("EMAIL_PORT", 587, minimum=1, maximum=65535) == 2525


@pytest.mark.parametrize("raw", ["abc", "25.5", "0x19", "1e3"])
def test_env_int_rejects_non_numbers_naming_the_variable(
    monkeypatch: pytest.MonkeyPatch, raw: str
) -> None:
    monkeypatch.setenv("EMAIL_PORT", raw)
    with pytest.raises(ImproperlyConfigured, match=r"EMAIL_PORT=.*not a whole number"):
        env_int("EMAIL_PORT", 587)


@pytest.mark.parametrize(("raw", "word"), [("0", "below"), ("65536", "above")])
def test_env_int_rejects_values_out_of_range(
    monkeypatch: pytest.MonkeyPatch, raw: str, word: str
) -> None:
    monkeypatch.setenv("EMAIL_PORT", raw)
    with pytest.raises(ImproperlyConfigured, match=rf"EMAIL_PORT={raw} is {word}"):
        env_int("EMAIL_PORT", 587, minimum=1, maximum=65535)


def test_env_list_splits_on_commas_and_trims(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("ALLOWED_HOSTS", "a.example, b.example ,c.example")
    assert env_list("ALLOWED_HOSTS") == ["a.example", "b.example", "c.example"]


def test_env_list_uses_the_default_when_unset(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("ALLOWED_HOSTS", raising=False)
    assert env_list("ALLOWED_HOSTS", ["localhost"]) == ["localhost"]


@pytest.mark.parametrize("raw", ["a,,b", "a,", ",a", "a, ,b"])
def test_env_list_rejects_empty_items_naming_the_variable(
    monkeypatch: pytest.MonkeyPatch, raw: str
) -> None:
    monkeypatch.setenv("ALLOWED_HOSTS", raw)
    with pytest.raises(ImproperlyConfigured, match=r"ALLOWED_HOSTS=.*empty item"):
        env_list("ALLOWED_HOSTS")


def test_env_str_requires_a_value_without_default(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("SECRET_KEY", raising=False)
    monkeypatch.delenv("SECRET_KEY_FILE", raising=False)
    with pytest.raises(ImproperlyConfigured, match="SECRET_KEY is required"):
        env_str("SECRET_KEY")


def test_file_variant_reads_the_value_from_the_file(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    secret = tmp_path / "secret_key"
    secret.write_text("from-the-file-value\n", encoding="utf-8")
    monkeypatch.setenv("SECRET_KEY", "from-the-environment")
    monkeypatch.setenv("SECRET_KEY_FILE", str(secret))
    # The file wins (and its trailing newline is not part of the secret).
    assert env_str("SECRET_KEY") == "from-the-file-value"


def test_file_variant_feeds_the_typed_helpers(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    port = tmp_path / "port"
    port.write_text("abc", encoding="utf-8")
    monkeypatch.setenv("EMAIL_PORT_FILE", str(port))
    with pytest.raises(ImproperlyConfigured, match="EMAIL_PORT="):
        env_int("EMAIL_PORT", 587)


def test_file_variant_that_cannot_be_read_is_rejected_naming_the_variable(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    monkeypatch.setenv("SECRET_KEY_FILE", str(tmp_path / "missing"))
    with pytest.raises(ImproperlyConfigured, match="SECRET_KEY_FILE=.*cannot be read"):
        env_str("SECRET_KEY")


def test_env_choice_accepts_a_listed_value_and_rejects_others(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    choices = {"smtp", "console"}
    monkeypatch.setenv("EMAIL_BACKEND", "smtp")
    assert env_choice("EMAIL_BACKEND", "console", choices) == "smtp"
    monkeypatch.setenv("EMAIL_BACKEND", "sendmail")
    with pytest.raises(
        ImproperlyConfigured, match=r"EMAIL_BACKEND='sendmail' must be one of: console, smtp"
    ):
        env_choice("EMAIL_BACKEND", "console", choices)


@pytest.mark.parametrize(
    "raw",
    [
        "postgres://postgres@127.0.0.1:5432/booking",
        "postgresql://u:p@db/booking",
        "sqlite:////tmp/x.sqlite3",
    ],
)
def test_env_url_accepts_the_allowed_schemes(monkeypatch: pytest.MonkeyPatch, raw: str) -> None:
    monkeypatch.setenv("DATABASE_URL", raw)
    assert env_url("DATABASE_URL", schemes=DB_SCHEMES) == raw


@pytest.mark.parametrize(
    "raw", ["mysql://root@db/booking", "127.0.0.1:5432", "postgres://", "postgres:/db"]
)
def test_env_url_rejects_other_schemes_naming_the_variable(
    monkeypatch: pytest.MonkeyPatch, raw: str
) -> None:
    monkeypatch.setenv("DATABASE_URL", raw)
    with pytest.raises(ImproperlyConfigured, match="DATABASE_URL must be a URL") as excinfo:
        env_url("DATABASE_URL", schemes=DB_SCHEMES)
    # The message must not echo the URL: it may carry a password.
    assert raw not in str(excinfo.value)
