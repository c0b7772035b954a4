"""The one coded error base every app's errors derive from (Zulip's `JsonableError` shape).

A `CodedError` carries a stable `code` (the same string in the trace, the UI, the API and the
logs), a plain-English `message` for people, the HTTP `status` an API answers it with, and
whether trying again later may help (`retryable`). Each app subclasses it once (its own base,
e.g. `CopilotError`) and then once per code.

`OutboundError` is the base of the errors of calls to other systems (order sources,
helpdesks): they add the server's `Retry-After`, when it sent one.

This module is the bottom layer: it imports nothing from the project.
"""

from __future__ import annotations


class CodedError(Exception):
    """An error with a stable `code`; subclasses set `code`, and `status`/`retryable` if
    they differ from a non-retryable 400."""

    code: str = "error"
    status: int = 400
    retryable: bool = False

    def __init__(self, message: str) -> None:
        super().__init__(message)
        self.message = message

    def as_dict(self) -> dict[str, object]:
        """The error as an API answers it (`{"error": <this>}`): its code and message."""
        return {"code": self.code, "message": self.message}


class OutboundError(CodedError):
    """A call to another system failed. `retry_after` is the wait in seconds the server asked
    for (429 or 5xx with a `Retry-After` header), or None."""

    code = "outbound_error"
    status = 502  # the other system failed, not the request made to us

    def __init__(self, message: str, *, retry_after: float | None = None) -> None:
        super().__init__(message)
        self.retry_after = retry_after
