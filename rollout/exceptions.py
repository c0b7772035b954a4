"""Errors of the rollout app, each with a stable code shown in the UI and the logs."""

from __future__ import annotations

from copilot.errors import CodedError


class RolloutError(CodedError):
    """The base of the rollout app's errors."""

    code = "rollout_error"


REASON_REQUIRED = "Say why you make this change: a reason is required."


class ReasonRequired(RolloutError):
    """Every change to a rollout must say why."""

    code = "reason_required"


class InvalidRolloutChange(RolloutError):
    code = "invalid_rollout_change"


class UnknownTool(RolloutError):
    code = "unknown_tool"
