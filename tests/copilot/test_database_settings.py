"""PostgreSQL runs a draft's repeated queries as prepared statements, unless told not to
(behind a pooler that cannot keep them)."""

from __future__ import annotations

import json
import os
import subprocess
import sys

import pytest
from django.db import connection

from copilot.models import Brand
from tests.conftest import ROOT


@pytest.mark.postgres
@pytest.mark.django_db
def test_a_query_run_past_the_threshold_becomes_a_prepared_statement():
    threshold = connection.settings_dict["OPTIONS"]["prepare_threshold"]
    for _ in range(threshold + 1):
        list(Brand.objects.filter(slug="prepared-statement-probe"))

    with connection.cursor() as cursor:
        cursor.execute("SELECT statement FROM pg_prepared_statements")
        statements = [row[0] for row in cursor.fetchall()]

    assert any('"copilot_brand"."slug" = $1' in statement for statement in statements)


@pytest.mark.parametrize(
    ("threshold", "expected"),
    [
        (None, {"server_side_binding": True, "prepare_threshold": 5}),
        ("2", {"server_side_binding": True, "prepare_threshold": 2}),
        ("off", {}),
    ],
)
def test_the_prepare_threshold_comes_from_the_environment(threshold, expected):
    env = {
        **os.environ,
        "DATABASE_URL": "postgres://app@db.example:5432/copilot",
        "SECRET_KEY": "settings-test",
    }
    env.pop("DATABASE_PREPARE_THRESHOLD", None)
    if threshold is not None:
        env["DATABASE_PREPARE_THRESHOLD"] = threshold
    script = (
        "import json; from copilot import settings; "
        "options = settings.DATABASES['default']['OPTIONS']; "
        "print(json.dumps({k: options[k] for k in ('server_side_binding', 'prepare_threshold') "
        "if k in options}))"
    )
    done = subprocess.run(
        [sys.executable, "-c", script], cwd=ROOT, env=env, capture_output=True, text=True
    )

    assert done.returncode == 0, done.stderr
    assert json.loads(done.stdout) == expected
