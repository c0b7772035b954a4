from __future__ import annotations

import pytest
from django.db import connection

from copilot import crypto


def test_secrets_round_trip_and_survive_key_rotation(settings):
    settings.COPILOT_ENCRYPTION_KEYS = ["old-key"]
    token = crypto.encrypt({"access_token": "shpat_secret"})
    assert "shpat_secret" not in token

    settings.COPILOT_ENCRYPTION_KEYS = ["new-key", "old-key"]
    assert crypto.decrypt(token) == {"access_token": "shpat_secret"}
    rotated = crypto.rotate(token)

    settings.COPILOT_ENCRYPTION_KEYS = ["new-key"]
    assert crypto.decrypt(rotated) == {"access_token": "shpat_secret"}
    with pytest.raises(crypto.SecretUnreadable):
        crypto.decrypt(token)


def test_no_key_is_a_configuration_error(settings):
    settings.COPILOT_ENCRYPTION_KEYS = []
    with pytest.raises(Exception, match="COPILOT_ENCRYPTION_KEYS"):
        crypto.encrypt("x")


def test_field_prep_value_is_never_plain_text(db):
    field = crypto.EncryptedJSONField()
    stored = field.get_prep_value({"key": "plain-secret"})
    assert "plain-secret" not in stored
    assert field.from_db_value(stored, None, connection) == {"key": "plain-secret"}


def test_an_empty_secret_needs_no_key(settings):
    settings.COPILOT_ENCRYPTION_KEYS = []
    field = crypto.EncryptedJSONField()

    assert field.get_prep_value({}) == ""
    assert field.from_db_value("", None, connection) == {}
