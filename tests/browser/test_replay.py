# ruff: noqa: F811 (fixtures imported from tests.replay.conftest are test arguments here)
"""A lead in a real browser: start a replay, watch the bar advance, open the comparison and
one ticket's two results.

Embedded mode (no broker, Celery eager): the start request only stores the run; each
1-second htmx poll of the run page is a POST that replays the next chunk (2 tickets here),
so the bar advances in steps the browser can see.
"""

from __future__ import annotations

import pytest

from copilot.models import Role
from tests.browser.session import log_in
from tests.conftest import artifacts_dir
from tests.factories import MembershipFactory, UserFactory

# The replay tests' fixtures, imported so pytest registers them for this module too.
from tests.replay.conftest import past_ticket, rules_config  # noqa: F401

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


def test_lead_starts_a_replay_watches_progress_and_opens_the_comparison(
    page,
    brand,
    past_ticket,
    rules_config,
    settings,
):
    settings.REPLAY_CHUNK_SIZE = 2
    for i in range(5):
        past_ticket(
            brand,
            body=f"Where is my order NW-70{i}?",
            order=f"NW-70{i}",
            tracking=f"TRK70{i}",
            decision="edit" if i % 2 else "accept",
            append="\nKind regards",
        )
    past_ticket(brand, subject="Opening hours", body="What are your opening hours?")
    rules_config(brand, "with-tools")
    rules_config(brand, "no-tools", tools=[])
    lead = UserFactory()
    MembershipFactory(user=lead, brand=brand, role=Role.LEAD)

    log_in(page, lead)
    page.goto(f"/b/{brand.slug}/replay/")
    page.screenshot(path=artifacts_dir() / "replay-home.png", full_page=True)
    page.get_by_label("Config A").select_option(label="with-tools v1")
    page.get_by_label("Config B").select_option(label="no-tools v1")
    page.get_by_role("button", name="Start replay").click()

    # The bar is seen part-way, then full: progress is visible, not a single jump.
    page.get_by_text("0 of 6 tickets replayed").wait_for()
    page.get_by_text("2 of 6 tickets replayed").wait_for()
    bar = page.locator("progress#replay-progress")
    assert bar.get_attribute("value") == "2"
    page.screenshot(path=artifacts_dir() / "replay-progress.png", full_page=True)
    page.get_by_text("6 of 6 tickets replayed").wait_for()
    comparison = page.get_by_role("heading", name="Comparison")
    comparison.wait_for()
    table = page.locator("table.comparison")
    assert "A: with-tools v1" in table.inner_text()
    assert "B: no-tools v1" in table.inner_text()
    row = table.get_by_role("row", name="Tickets with a tool call")
    assert "5 (83%)" in row.inner_text() and "0 (0%)" in row.inner_text()
    page.screenshot(path=artifacts_dir() / "replay-comparison.png", full_page=True)

    page.get_by_role("link", name="Where is my order?").first.click()
    page.get_by_role("heading", name="A: with-tools v1").wait_for()
    assert "TRK700" in page.locator("body").inner_text()
    page.screenshot(path=artifacts_dir() / "replay-ticket.png", full_page=True)
