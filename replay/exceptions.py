"""Errors of the replay app, each with a stable code shown in the UI, the command and logs."""

from __future__ import annotations

from copilot.errors import CodedError


class ReplayError(CodedError):
    """The base of the replay app's errors."""

    code = "replay_error"


class NoTicketsToReplay(ReplayError):
    code = "replay_no_tickets"
