"""Reads for the rollout page: each gated tool's rollout on a brand, its history and the
live split of its experiment."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

from django.db.models import Count
from django.db.models.fields.json import KT
from django.utils import timezone
from waffle.models import Switch

from audit.models import CONTROL, TREATMENT, Trace
from copilot.models import Brand
from rollout.flags import KILL_SWITCH, TOOL_FLAGS
from rollout.models import (
    BrandFlag,
    BrandRollout,
    RolloutChange,
    Stage,
    describe_stage,
    effective_stage,
)

HISTORY_LIMIT = 50
# Without a named experiment the split counts the percent-stage runs of this window.
SPLIT_WINDOW = dt.timedelta(hours=24)


@dataclass(frozen=True)
class ArmSplit:
    control: int
    treatment: int
    experiment: str  # "" when counting the recent percent-stage runs

    @property
    def total(self) -> int:
        return self.control + self.treatment

    @property
    def treatment_share(self) -> float | None:
        return round(100 * self.treatment / self.total, 1) if self.total else None


@dataclass(frozen=True)
class ToolRollout:
    tool: str
    flag_name: str
    rollout: BrandRollout
    stage: str  # what runs get now: effective_stage of waffle's flag and the row
    everyone: bool | None  # waffle's Everyone override, which beats any stage
    history: list[RolloutChange]
    split: ArmSplit

    @property
    def label(self) -> str:
        return describe_stage(self.stage, self.rollout.percent)

    @property
    def set_outside_page(self) -> bool:
        """Active through waffle's admin while this page's row says off (or there is none)."""
        return self.stage != self.rollout.stage


def arm_split(
    brand: Brand, tool: str, *, experiment: str = "", since: dt.datetime | None = None
) -> ArmSplit:
    """Runs per arm of `tool` on `brand`, from the plans the traces recorded: those of the
    named experiment (since it started), else the percent-stage runs of the last 24 hours.
    One query, on the brand's recent traces only."""
    key = f"plan__tools__{tool}"
    traces = Trace.objects.filter(brand=brand)
    if experiment:
        traces = traces.filter(**{f"{key}__experiment": experiment})
        if since is not None:
            traces = traces.filter(created_at__gte=since)
    else:
        traces = traces.filter(
            created_at__gte=timezone.now() - SPLIT_WINDOW, **{f"{key}__stage": Stage.PERCENT}
        )
    rows = traces.annotate(tool_arm=KT(f"{key}__arm")).values("tool_arm").annotate(n=Count("id"))
    counts = {row["tool_arm"]: row["n"] for row in rows.order_by()}
    return ArmSplit(
        control=counts.get(CONTROL, 0),
        treatment=counts.get(TREATMENT, 0),
        experiment=experiment,
    )


def tool_rollout(brand: Brand, tool: str, *, with_history: bool = True) -> ToolRollout:
    """One tool's rollout on `brand` as the page shows it; an unsaved "off" row if none.
    The live split's poll needs no history (`with_history=False`)."""
    flag_name = TOOL_FLAGS[tool]
    flag = BrandFlag.objects.filter(name=flag_name).first()
    rollout = (
        BrandRollout.objects.select_related("flag").filter(flag=flag, brand=brand).first()
        if flag
        else None
    ) or BrandRollout(brand=brand, stage=Stage.OFF)
    history = (
        list(rollout.changes.select_related("changed_by")[:HISTORY_LIMIT])
        if rollout.pk and with_history
        else []
    )
    active = flag is not None and flag.is_active_for_brand(brand)
    return ToolRollout(
        tool=tool,
        flag_name=flag_name,
        rollout=rollout,
        stage=effective_stage(active=active, row_stage=rollout.stage),
        everyone=flag.everyone if flag else None,
        history=history,
        split=arm_split(brand, tool, experiment=rollout.experiment, since=rollout.started_at),
    )


def rollout_overview(brand: Brand) -> list[ToolRollout]:
    """Every gated tool's rollout on `brand`, in a fixed number of queries per tool."""
    return [tool_rollout(brand, tool) for tool in TOOL_FLAGS]


def kill_switch_on() -> bool:
    return Switch.get(KILL_SWITCH).is_active()
