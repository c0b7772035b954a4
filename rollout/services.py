"""What the model may use on one ticket: the plan, decided without a request."""

from __future__ import annotations

from dataclasses import asdict, dataclass, field
from typing import Any

from waffle import get_waffle_flag_model
from waffle.models import Switch

from copilot.models import Ticket
from rollout.assignment import bucket_for
from rollout.flags import KILL_SWITCH, TOOL_FLAGS


@dataclass(frozen=True)
class Plan:
    available_tools: tuple[str, ...]
    stage: str  # off | on (shadow and percent come with the rollout page)
    arm: str  # control | treatment
    bucket: int | None
    flags: dict[str, bool] = field(default_factory=dict)
    kill_switch: bool = False
    reasons: tuple[str, ...] = ()

    def as_dict(self) -> dict[str, Any]:
        data = asdict(self)
        data["available_tools"] = list(self.available_tools)
        data["reasons"] = list(self.reasons)
        return data


def plan_for(ticket: Ticket) -> Plan:
    """Decide, from waffle state alone, which tools this ticket's run may offer."""
    flag_model = get_waffle_flag_model()
    subject = ticket.customer.external_id if ticket.customer else f"ticket:{ticket.pk}"
    bucket = bucket_for(flag=TOOL_FLAGS["fetch_orders"], brand_id=ticket.brand_id, subject=subject)
    if Switch.get(KILL_SWITCH).is_active():
        return Plan((), "off", "control", bucket, kill_switch=True, reasons=("kill switch on",))
    flags = {
        name: flag_model.get(name).is_active_for_brand(ticket.brand) for name in TOOL_FLAGS.values()
    }
    tools = tuple(tool for tool, flag in TOOL_FLAGS.items() if flags[flag])
    reasons = tuple(
        f"{tool}: flag {'on' if flags[flag] else 'off'} for this brand"
        for tool, flag in TOOL_FLAGS.items()
    )
    return Plan(
        available_tools=tools,
        stage="on" if tools else "off",
        arm="treatment" if tools else "control",
        bucket=bucket,
        flags=flags,
        reasons=reasons,
    )
