"""Secrets at rest: credentials are stored as Fernet tokens, never in plain text.

Keys come from `settings.COPILOT_ENCRYPTION_KEYS` (newest first). Rotation: put the new key
first, keep the old ones until `manage.py rotate_secrets` has re-encrypted every row, then
drop them.
"""

from __future__ import annotations

import base64
import functools
import hashlib
import json
from typing import Any

from cryptography.fernet import Fernet, InvalidToken, MultiFernet
from django.conf import settings
from django.core.exceptions import ImproperlyConfigured
from django.db import models

from copilot.errors import CodedError


class SecretUnreadable(CodedError):
    """A stored secret could not be decrypted with any configured key."""

    code = "secret_unreadable"


def _fernet() -> MultiFernet:
    keys = settings.COPILOT_ENCRYPTION_KEYS
    if not keys:
        raise ImproperlyConfigured("COPILOT_ENCRYPTION_KEYS is empty; secrets cannot be stored.")
    return _fernet_for(tuple(keys))


@functools.lru_cache(maxsize=4)
def _fernet_for(keys: tuple[str, ...]) -> MultiFernet:
    """Built once per key set, not for every secret read."""
    return MultiFernet([Fernet(_as_fernet_key(key)) for key in keys])


def _as_fernet_key(key: str) -> bytes:
    """Accept a real Fernet key, or derive one from any passphrase (development keys)."""
    try:
        if len(base64.urlsafe_b64decode(key.encode())) == 32:
            return key.encode()
    except ValueError:
        pass
    return base64.urlsafe_b64encode(hashlib.sha256(key.encode()).digest())


def encrypt(value: Any) -> str:
    """`value` (anything JSON can hold) as an encrypted token."""
    return _fernet().encrypt(json.dumps(value).encode()).decode()


def decrypt(token: str) -> Any:
    """The value behind a token from `encrypt`; raises SecretUnreadable."""
    try:
        return json.loads(_fernet().decrypt(token.encode()))
    except (InvalidToken, ValueError) as error:
        raise SecretUnreadable("A stored secret could not be decrypted.") from error


class EncryptedJSONField(models.TextField):
    """A JSON value stored encrypted; Python code sees the value, the database a token."""

    def from_db_value(self, value: str | None, expression: Any, connection: Any) -> Any:
        if not value:
            return self.get_default()  # an empty secret reads back as the field's empty value
        return decrypt(value)

    def to_python(self, value: Any) -> Any:
        if isinstance(value, str) and value.startswith("gAAAA"):
            return decrypt(value)
        return value if value not in (None, "") else self.get_default()

    def get_prep_value(self, value: Any) -> str:
        # No secret is stored as an empty string: nothing to hide, and no key is needed,
        # so migrations and rows without credentials work before keys are configured.
        if value in (None, "", {}):
            return ""
        return encrypt(value)
