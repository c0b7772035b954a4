"""Errors of the replay app, each with a stable code shown in the UI, the command and logs."""

from __future__ import annotations


class ReplayError(Exception):
    code = "replay_error"

    def __init__(self, message: str) -> None:
        super().__init__(message)
        self.message = message


class NoTicketsToReplay(ReplayError):
    code = "replay_no_tickets"
