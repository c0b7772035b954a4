"""Versioned prompts. A trace records the version it ran with, so changes stay comparable."""

from __future__ import annotations

from copilot.agent.prompts.v1 import VERSION, system_prompt, ticket_prompt

__all__ = ["VERSION", "system_prompt", "ticket_prompt"]
