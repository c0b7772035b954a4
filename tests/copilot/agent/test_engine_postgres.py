"""The tool thread on PostgreSQL with psycopg's pool: it reads committed rows and gives its
connection back, so many drafts in a row never exhaust the pool."""

from __future__ import annotations

import time

import pytest
from django.db import connection

from tests.copilot.agent.runs import run

pytestmark = [pytest.mark.postgres, pytest.mark.django_db(transaction=True)]


def test_tool_threads_return_their_pooled_connections(world):
    pool_size = connection.settings_dict["OPTIONS"]["pool"]["max_size"]
    started = time.monotonic()

    results = [
        run(world.ticket(f"Where is order NW-2001? ({i})"), "rules") for i in range(pool_size * 2)
    ]

    assert all(r.ok and "JD0042" in r.text for r in results)
    assert all(r.trace.grounding == "grounded" for r in results)
    # A leaked connection per tool call would block on the pool's timeout well before this.
    assert time.monotonic() - started < 10
