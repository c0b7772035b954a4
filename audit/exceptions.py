"""Errors of the audit app, each with a stable code (the same in the UI, the logs and tests)."""

from __future__ import annotations

from copilot.errors import CodedError


class AuditError(CodedError):
    """The base of the audit app's errors."""

    code = "audit_error"


class TraceImmutable(AuditError):
    """A trace or span was about to be changed or deleted outside the retention purge."""

    code = "trace_immutable"


class DraftHeld(AuditError):
    """A sensitive draft of a brand that holds them waits for a lead's approval (audit's
    approval rule, `audit.services.check_draft_not_held`)."""

    code = "draft_held"
    status = 409
