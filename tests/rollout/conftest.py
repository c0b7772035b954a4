from __future__ import annotations

import pytest

from copilot.models import Draft, Role, Ticket
from copilot.services import draft_generate, draft_request
from tests.factories import MembershipFactory, UserFactory


@pytest.fixture
def admin(brand):
    user = UserFactory()
    MembershipFactory(user=user, brand=brand, role=Role.ADMIN)
    return user


@pytest.fixture
def generate():
    """Run one draft for `ticket` in-process, as the worker would, and return it."""

    def run(ticket: Ticket) -> Draft:
        draft = draft_request(ticket=ticket, enqueue=False)
        draft_generate(draft_id=draft.pk)
        draft.refresh_from_db()
        return draft

    return run
