"""The one interface every model provider implements, and its errors."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any, Protocol

from copilot.errors import OutboundError


@dataclass(frozen=True)
class ToolCall:
    id: str
    name: str
    arguments: dict[str, Any] | None  # None when the model's JSON could not be parsed
    raw_arguments: str = ""


@dataclass(frozen=True)
class Usage:
    tokens_in: int = 0
    tokens_out: int = 0


@dataclass(frozen=True)
class ModelTurn:
    """One model answer: final text, or tool calls to run before asking again."""

    text: str | None
    tool_calls: tuple[ToolCall, ...] = ()
    usage: Usage = field(default_factory=Usage)
    model: str = ""


class ProviderError(OutboundError):
    """The model could not answer. `code` is stable across trace, UI and logs; `reason` is
    the plain sentence a run records when no more precise message was given."""

    code = "provider_error"
    reason = "The AI model could not be reached."

    def __init__(self, message: str = "", *, retry_after: float | None = None) -> None:
        super().__init__(message or self.reason, retry_after=retry_after)


class ProviderTimeout(ProviderError):
    code = "provider_timeout"
    retryable = True
    reason = "The AI model did not answer in time."


class ProviderRateLimited(ProviderError):
    code = "provider_rate_limited"
    retryable = True
    reason = "The AI model is rate-limiting requests."


class ProviderUnavailable(ProviderError):
    code = "provider_unavailable"
    retryable = True
    reason = "The AI model is unavailable."


class ProviderBadResponse(ProviderError):
    code = "provider_bad_response"
    retryable = True  # a malformed, empty or refused answer may come out right next time
    reason = "The AI model returned an answer that could not be used."


class ProviderRefused(ProviderBadResponse):
    code = "provider_refused"
    reason = "The AI model refused to write this reply."


class Provider(Protocol):
    name: str
    model: str
    metered: bool  # whether its tokens count against the brand's daily budget

    def complete(
        self,
        messages: list[dict[str, Any]],
        tools: list[dict[str, Any]],
        *,
        timeout: float | None = None,
    ) -> ModelTurn:
        """Answer the conversation, optionally by calling some of `tools`, within `timeout`
        seconds (None: the provider's own default)."""
        ...
