"""Model providers, chosen by name from settings."""

from __future__ import annotations

from copilot.agent.providers.base import Provider
from copilot.conf import conf
from copilot.models import Brand


def provider_for(brand: Brand, name: str | None = None) -> Provider:
    """The provider named `name` (default: the COPILOT_PROVIDER setting) set up for `brand`:
    the OpenAI provider uses the brand's `ai_model` when it has one."""
    name = name or conf.COPILOT_PROVIDER
    if name == "rules":
        from copilot.agent.providers.rules import RulesProvider

        return RulesProvider(brand)
    if name == "openai":
        from copilot.agent.providers.openai import OpenAIProvider

        return OpenAIProvider.from_settings(model=brand.ai_model)
    raise ValueError(f"Unknown provider {name!r}; use 'rules' or 'openai'.")
