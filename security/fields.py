"""Model fields whose values are encrypted in the database (C26), and the blind index beside an
encrypted email.

A small field of our own rather than a library: the maintained Django field libraries either
derive every key from SECRET_KEY (rotating SECRET_KEY would make the data unreadable) or lack
a rotation path and a blind index; what we need is ~100 lines over `cryptography`'s MultiFernet.

The column is a TEXT holding `enc1:<Fernet token>` (an empty value stays empty, so "no phone"
costs nothing). Python code sees plain strings. The database cannot compare or search the
ciphertexts, so every lookup except `isnull` raises at query-building time: code that tries to
filter or search an encrypted column fails in tests instead of silently finding nothing. Email
lookups go through the `BlindIndexField` next to the email.
"""

from __future__ import annotations

from typing import Any

from django import forms
from django.core import validators
from django.core.exceptions import FieldError
from django.db import models

from security import fieldcrypto


class EncryptedTextField(models.TextField):
    """Text stored encrypted. `max_length` bounds the plaintext (validation and forms only: the
    ciphertext is longer)."""

    form_class: type[forms.CharField] = forms.CharField
    single_line = True

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        if self.max_length is not None:
            self.validators.append(validators.MaxLengthValidator(self.max_length))

    def from_db_value(self, value: str | None, expression: object, connection: object) -> Any:
        if value is None or value == "":
            return value
        return fieldcrypto.decrypt(value)

    def get_prep_value(self, value: Any) -> Any:
        value = super().get_prep_value(value)
        if value is None or value == "":
            return value
        return fieldcrypto.encrypt(value)

    def get_lookup(self, lookup_name: str) -> Any:
        if lookup_name != "isnull":
            raise FieldError(
                f"{self.model.__name__}.{self.name} is encrypted: the database cannot compare it "
                f"({lookup_name!r}). Look emails up through their blind index."
            )
        return super().get_lookup(lookup_name)

    def formfield(
        self, form_class: Any = None, choices_form_class: Any = None, **kwargs: Any
    ) -> Any:
        defaults: dict[str, Any] = {"max_length": self.max_length}
        if self.single_line:
            defaults["widget"] = self.form_class.widget
        defaults.update(kwargs)
        return super().formfield(
            form_class=form_class or self.form_class,
            choices_form_class=choices_form_class,
            **defaults,
        )


class EncryptedMultilineField(EncryptedTextField):
    single_line = False


class EncryptedEmailField(EncryptedTextField):
    default_validators = [validators.validate_email]
    form_class = forms.EmailField


class BlindIndexField(models.CharField):
    """The keyed HMAC of another field's email (fieldcrypto.blind_index), kept up to date on
    every save. Look up with `Model.objects.filter(<name>=fieldcrypto.blind_index(email))`."""

    def __init__(self, *args: Any, source: str, **kwargs: Any) -> None:
        self.source = source
        kwargs.setdefault("max_length", 64)
        kwargs.setdefault("editable", False)
        kwargs.setdefault("db_index", True)
        kwargs.setdefault("blank", True)
        kwargs.setdefault("default", "")
        super().__init__(*args, **kwargs)

    def deconstruct(self) -> Any:
        name, path, args, kwargs = super().deconstruct()
        kwargs["source"] = self.source
        return name, path, args, kwargs

    def pre_save(self, model_instance: models.Model, add: bool) -> str:
        source = getattr(model_instance, self.source) or ""
        value = fieldcrypto.blind_index(source) if source else ""
        setattr(model_instance, self.attname, value)
        return value
