"""The plan of one run: which tools the model is offered, in which stage and arm, and why.

Plain frozen data, decided by `rollout.services.plan_for` and recorded on the trace.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass, field
from typing import Any

from audit.models import TREATMENT
from rollout.models import Stage


@dataclass(frozen=True)
class ToolDecision:
    """The rollout decision for one gated tool on one ticket."""

    tool: str
    flag: str
    flag_active: bool
    stage: str
    percent: float | None
    bucket: int
    arm: str
    experiment: str
    reason: str

    @property
    def offered(self) -> bool:
        return self.arm == TREATMENT

    @property
    def shadow(self) -> bool:
        return self.stage == Stage.SHADOW


@dataclass(frozen=True)
class Plan:
    """What one run may offer the model, and why. `shadow_tools` run after the draft only."""

    available_tools: tuple[str, ...]
    stage: str  # off | shadow | percent | on
    arm: str  # control | treatment
    bucket: int | None
    flags: dict[str, bool] = field(default_factory=dict)
    kill_switch: bool = False
    reasons: tuple[str, ...] = ()
    shadow_tools: tuple[str, ...] = ()
    percent: float | None = None
    experiment: str = ""
    tools: dict[str, dict[str, Any]] = field(default_factory=dict)

    def as_dict(self) -> dict[str, Any]:
        data = asdict(self)
        data["available_tools"] = list(self.available_tools)
        data["shadow_tools"] = list(self.shadow_tools)
        data["reasons"] = list(self.reasons)
        return data
