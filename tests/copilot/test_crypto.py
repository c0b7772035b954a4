from __future__ import annotations

from io import StringIO

import pytest
from django.core.management import call_command
from django.db import connection

from copilot import crypto
from copilot.models import HelpdeskConnection
from orders.models import OrderSource
from tests.factories import BrandFactory, OrderSourceFactory


def stored(model, pk: int, field: str) -> str:
    """The value as the database holds it."""
    table, column = model._meta.db_table, model._meta.get_field(field).column
    with connection.cursor() as cursor:
        cursor.execute(f"SELECT {column} FROM {table} WHERE id = %s", [pk])
        return cursor.fetchone()[0]


def test_secrets_survive_key_rotation_with_the_rotate_command(settings, db):
    settings.COPILOT_ENCRYPTION_KEYS = ["old-key"]
    source = OrderSourceFactory(kind="shopify", credentials={"access_token": "shpat_secret"})
    hook = HelpdeskConnection.objects.create(
        brand=source.brand, kind="zendesk", webhook_secret="whsec"
    )
    old_token = stored(OrderSource, source.pk, "credentials")
    assert "shpat_secret" not in old_token

    settings.COPILOT_ENCRYPTION_KEYS = ["new-key", "old-key"]
    out = StringIO()
    call_command("rotate_secrets", stdout=out)

    assert "orders.OrderSource: 1 rows re-encrypted" in out.getvalue()
    settings.COPILOT_ENCRYPTION_KEYS = ["new-key"]
    source.refresh_from_db()
    hook.refresh_from_db()
    assert source.credentials == {"access_token": "shpat_secret"}
    assert hook.webhook_secret == "whsec" and hook.credentials == {}
    with pytest.raises(crypto.SecretUnreadable):
        crypto.decrypt(old_token)


def test_an_empty_secret_reads_back_as_the_fields_empty_value(db):
    hook = HelpdeskConnection.objects.create(brand=BrandFactory(), kind="zendesk")

    hook.refresh_from_db()

    assert hook.webhook_secret == "" and hook.credentials == {}
    assert stored(HelpdeskConnection, hook.pk, "webhook_secret") == ""


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
    field = crypto.EncryptedJSONField(default=dict)

    assert field.get_prep_value({}) == ""
    assert field.from_db_value("", None, connection) == {}
