"""Errors of the audit app, each with a stable code (the same in the UI, the logs and tests)."""

from __future__ import annotations


class AuditError(Exception):
    code = "audit_error"

    def __init__(self, message: str) -> None:
        super().__init__(message)
        self.message = message


class TraceImmutable(AuditError):
    """A trace or span was about to be changed or deleted outside the retention purge."""

    code = "trace_immutable"
