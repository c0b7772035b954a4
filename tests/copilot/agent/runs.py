"""Running the engine in tests: on a ticket with its real plan, with limits of the test's own."""

from __future__ import annotations

from copilot.agent import engine
from copilot.agent.engine import EngineLimits
from copilot.agent.providers import provider_for
from copilot.agent.providers.base import Provider
from copilot.models import Ticket
from rollout.services import plan_for


def run(ticket: Ticket, provider: Provider | str = "openai", **kwargs) -> engine.RunResult:
    """The engine on `ticket` with its real plan and the named (or given) provider."""
    if isinstance(provider, str):
        provider = provider_for(ticket.brand, provider)
    return engine.run(ticket=ticket, plan=plan_for(ticket), provider=provider, **kwargs)


def limits(**overrides) -> EngineLimits:
    """Engine limits roomy enough for a test, with `overrides`."""
    values = {
        "max_iterations": 4,
        "run_deadline_seconds": 20.0,
        "tool_timeout_seconds": 5.0,
        "max_ticket_chars": 8000,
        "provider_retries": 2,
    }
    return EngineLimits(**{**values, **overrides})
