"""Errors of the copilot app, each with a stable code shown in the UI, the API and the logs."""

from __future__ import annotations

from typing import TYPE_CHECKING

from copilot.errors import CodedError

if TYPE_CHECKING:
    from copilot.models import Draft


class CopilotError(CodedError):
    """The base of the copilot app's errors: a `CodedError`, answered as a 400 by default."""

    code = "copilot_error"
    status = 400


class DraftConflict(CopilotError):
    """Someone else changed the draft since it was loaded.

    `current` is the draft as now stored (their version), so the UI can show it beside the
    text the agent submitted and nothing is lost.
    """

    code = "draft_conflict"
    status = 409

    def __init__(self, message: str, *, current: Draft | None = None) -> None:
        super().__init__(message)
        self.current = current


class DraftNotReady(CopilotError):
    code = "draft_not_ready"
    status = 409


class DraftAlreadyDecided(DraftConflict):
    """Someone decided the draft first: a conflict whose `current` carries their decision."""

    code = "draft_already_decided"
    status = 409


class InvalidIntake(CopilotError):
    code = "invalid_ticket"
    status = 400

    def __init__(self, message: str, fields: dict[str, str] | None = None) -> None:
        super().__init__(message)
        self.fields = fields or {}

    def as_dict(self) -> dict[str, object]:
        return {**super().as_dict(), **({"fields": self.fields} if self.fields else {})}
