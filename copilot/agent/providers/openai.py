"""Chat Completions with tools through the official SDK: the only module importing openai.

Any OpenAI-compatible server works (OpenAI, Azure, vLLM, Ollama, llama.cpp server): the
base URL, model, timeout and retries come from settings.
"""

from __future__ import annotations

import functools
import json
import logging
from typing import Any

import openai

from copilot.agent.providers.base import (
    ModelTurn,
    ProviderBadResponse,
    ProviderError,
    ProviderRateLimited,
    ProviderRefused,
    ProviderTimeout,
    ProviderUnavailable,
    ToolCall,
    Usage,
)
from copilot.conf import conf
from copilot.outbound import parse_retry_after

logger = logging.getLogger(__name__)


@functools.cache
def _client(api_key: str, base_url: str | None, timeout: float) -> openai.OpenAI:
    """One client per configuration and process: it is thread-safe and pools connections, and
    building one costs tens of milliseconds of CPU that hundreds of drafts in flight can't pay.
    The SDK does not retry: its retries would hide 429s from the engine, which retries within
    the run's deadline (OPENAI_MAX_RETRIES)."""
    return openai.OpenAI(api_key=api_key, base_url=base_url, timeout=timeout, max_retries=0)


class OpenAIProvider:
    name = "openai"
    metered = True

    def __init__(
        self,
        *,
        api_key: str,
        base_url: str | None,
        model: str,
        timeout: float,
        max_tokens: int,
    ) -> None:
        self.model = model
        self.max_tokens = max_tokens
        self.timeout = timeout
        self._client = _client(api_key or "not-needed", base_url, timeout)

    @classmethod
    def from_settings(cls, *, model: str = "") -> OpenAIProvider:
        """A provider configured from settings; `model` (a brand's choice) wins if set."""
        return cls(
            api_key=conf.OPENAI_API_KEY,
            base_url=conf.OPENAI_BASE_URL or None,
            model=model or conf.OPENAI_MODEL,
            timeout=conf.OPENAI_TIMEOUT_SECONDS,
            max_tokens=conf.OPENAI_MAX_TOKENS,
        )

    def complete(
        self,
        messages: list[dict[str, Any]],
        tools: list[dict[str, Any]],
        *,
        timeout: float | None = None,
    ) -> ModelTurn:
        """One Chat Completions call; SDK and HTTP failures become `ProviderError`s."""
        kwargs: dict[str, Any] = {
            "model": self.model,
            "messages": messages,
            "max_tokens": self.max_tokens,
        }
        if tools:
            kwargs["tools"] = tools
            kwargs["tool_choice"] = "auto"
        if timeout is not None:
            kwargs["timeout"] = min(self.timeout, timeout)  # never past the run's deadline
        try:
            response = self._client.chat.completions.create(**kwargs)
        except openai.APITimeoutError as error:
            raise ProviderTimeout() from error
        except openai.RateLimitError as error:
            raise ProviderRateLimited(
                retry_after=parse_retry_after(error.response.headers.get("retry-after"))
            ) from error
        except openai.APIStatusError as error:
            if error.status_code >= 500:
                raise ProviderUnavailable(f"HTTP {error.status_code}") from error
            raise ProviderError(f"HTTP {error.status_code}") from error
        except openai.APIConnectionError as error:
            raise ProviderUnavailable() from error

        if not response.choices:
            raise ProviderBadResponse("The model returned no choices.")
        message = response.choices[0].message
        if getattr(message, "refusal", None):
            raise ProviderRefused()
        usage = Usage(
            tokens_in=response.usage.prompt_tokens if response.usage else 0,
            tokens_out=response.usage.completion_tokens if response.usage else 0,
        )
        calls = []
        for call in message.tool_calls or []:
            raw = call.function.arguments or "{}"
            try:
                arguments = json.loads(raw)
            except json.JSONDecodeError:
                arguments = None
            if not isinstance(arguments, dict):
                arguments = None
            calls.append(
                ToolCall(
                    id=call.id, name=call.function.name, arguments=arguments, raw_arguments=raw
                )
            )
        return ModelTurn(
            text=message.content,
            tool_calls=tuple(calls),
            usage=usage,
            model=response.model or self.model,
        )
