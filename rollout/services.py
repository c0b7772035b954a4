"""What the model may use on one ticket (the plan, decided without a request), and the
writes that move a brand's rollout. Every write is logged with its author and reason and
flushes the cached waffle state, so the next run anywhere sees it."""

from __future__ import annotations

import logging
from dataclasses import asdict
from decimal import Decimal, InvalidOperation
from typing import Any

from django.contrib.auth.models import User
from django.db import transaction
from django.utils import timezone
from waffle.models import CACHE_EMPTY, Switch
from waffle.utils import get_cache

from audit.models import CONTROL, TREATMENT
from copilot.models import Brand, Ticket
from rollout.assignment import BUCKETS, bucket_for
from rollout.exceptions import REASON_REQUIRED, InvalidRolloutChange, ReasonRequired, UnknownTool
from rollout.flags import FETCH_ORDERS, KILL_SWITCH, TOOL_FLAGS
from rollout.models import (
    BrandFlag,
    BrandRollout,
    RolloutChange,
    Stage,
    describe_stage,
    effective_stage,
    rollout_cache_key,
)
from rollout.plan import Plan, ToolDecision

logger = logging.getLogger(__name__)

# The scalar fields of a Plan (stage, arm, bucket...) describe this tool's decision.
PRIMARY_TOOL = FETCH_ORDERS


def _rollout_state(flag: BrandFlag, brand_id: int) -> dict[str, Any] | None:
    """The brand's rollout row as plain values, through waffle's cache (flushed on save)."""
    cache = get_cache()
    key = rollout_cache_key(flag.name, brand_id)
    cached = cache.get(key)
    if cached == CACHE_EMPTY:
        return None
    if cached:
        return cached
    row = (
        BrandRollout.objects.filter(flag_id=flag.pk, brand_id=brand_id).first() if flag.pk else None
    )
    state = row.state() if row else None
    cache.add(key, state or CACHE_EMPTY)
    return state


def _decide(
    *, tool: str, flag: BrandFlag, ticket: Ticket, subject: str, kill_switch: bool
) -> ToolDecision:
    bucket = bucket_for(flag=flag.name, brand_id=ticket.brand_id, subject=subject)
    active = flag.is_active_for_brand(ticket.brand)
    state = _rollout_state(flag, ticket.brand_id) if active and not kill_switch else None
    stage: str
    stage, percent, arm = Stage.OFF, None, CONTROL
    if kill_switch:
        reason = "kill switch on"
    elif not active:
        reason = "flag off for this brand"
    else:
        stage = effective_stage(active=True, row_stage=state["stage"] if state else None)
        if stage == Stage.SHADOW:
            reason = "shadow, runs after the draft for measurement only"
        elif stage == Stage.PERCENT:
            # effective_stage() answers percent only from a row; without one, nobody is in.
            share = Decimal(state["percent"]) if state else Decimal(0)
            percent = float(share)
            arm = TREATMENT if bucket < int(share * BUCKETS / 100) else CONTROL
            reason = f"{share.normalize():f}% rollout, bucket {bucket} is {arm}"
        else:
            stage, arm, reason = Stage.ON, TREATMENT, "on for this brand"
    return ToolDecision(
        tool=tool,
        flag=flag.name,
        flag_active=active,
        bucket=bucket,
        stage=stage,
        percent=percent,
        arm=arm,
        experiment=state["experiment"] if state else "",
        reason=f"{tool}: {reason}",
    )


def plan_for(ticket: Ticket) -> Plan:
    """Decide, from waffle state and the brand's rollout alone (no request), which tools this
    ticket's run may offer. The same customer of the same brand always gets the same bucket,
    hence the same arm. Reads go through the shared cache; changes flush it."""
    subject = ticket.customer.external_id if ticket.customer else f"ticket:{ticket.pk}"
    kill_switch = Switch.get(KILL_SWITCH).is_active()
    decisions = [
        _decide(
            tool=tool,
            flag=BrandFlag.get(flag_name),  # WAFFLE_FLAG_MODEL, through waffle's cache
            ticket=ticket,
            subject=subject,
            kill_switch=kill_switch,
        )
        for tool, flag_name in TOOL_FLAGS.items()
    ]
    primary = next(d for d in decisions if d.tool == PRIMARY_TOOL)
    return Plan(
        available_tools=tuple(d.tool for d in decisions if d.offered),
        shadow_tools=tuple(d.tool for d in decisions if d.shadow),
        stage=primary.stage,
        arm=primary.arm,
        bucket=primary.bucket,
        percent=primary.percent,
        experiment=primary.experiment,
        flags={d.flag: d.flag_active for d in decisions},
        kill_switch=kill_switch,
        reasons=tuple(d.reason for d in decisions),
        tools={d.tool: asdict(d) for d in decisions},
    )


# --- writes -------------------------------------------------------------------------------


def _flag_name(tool: str) -> str:
    try:
        return TOOL_FLAGS[tool]
    except KeyError:
        raise UnknownTool(f"No rollout for a tool named {tool!r}.") from None


def _check_reason(reason: str) -> str:
    reason = (reason or "").strip()
    if not reason:
        raise ReasonRequired(REASON_REQUIRED)
    return reason


def _locked_rollout(*, brand: Brand, tool: str) -> tuple[BrandFlag, BrandRollout]:
    """The flag and the brand's rollout row, locked. Call inside `transaction.atomic`."""
    flag, _ = BrandFlag.objects.get_or_create(name=_flag_name(tool))
    rollout, _ = BrandRollout.objects.select_for_update().get_or_create(flag=flag, brand=brand)
    return flag, rollout


def _log(
    *,
    rollout: BrandRollout,
    kind: str,
    before: str,
    after: str,
    user: User,
    reason: str,
) -> RolloutChange:
    change = RolloutChange.objects.create(
        rollout=rollout,
        kind=kind,
        from_value=before,
        to_value=after,
        reason=reason,
        changed_by=user,
    )
    logger.info(
        "rollout.changed",
        extra={
            "brand": rollout.brand_id,
            "flag": rollout.flag.name,
            "kind": kind,
            "from": before,
            "to": after,
            "user": user.pk,
        },
    )
    return change


def rollout_set_stage(
    *,
    brand: Brand,
    tool: str,
    stage: str,
    user: User,
    reason: str,
    percent: Decimal | str | None = None,
) -> BrandRollout:
    """Move `tool` on `brand` to `stage` (and `percent`, for the percent stage).

    Keeps waffle's flag in step (active for the brand in every stage but off), logs the
    change with `user` and `reason`, and flushes the cached state once committed. Raises
    ReasonRequired without a reason, InvalidRolloutChange for a bad or empty change.
    """
    reason = _check_reason(reason)
    if stage not in Stage.values:
        raise InvalidRolloutChange(f"Unknown stage {stage!r}.")
    if stage == Stage.PERCENT:
        try:
            value = Decimal(str(percent)).quantize(Decimal("0.1"))
        except (InvalidOperation, ValueError):
            raise InvalidRolloutChange("Give a percent between 0.1 and 100.") from None
        if not Decimal("0") < value <= Decimal("100"):
            raise InvalidRolloutChange("Give a percent between 0.1 and 100.")
    with transaction.atomic():
        flag, rollout = _locked_rollout(brand=brand, tool=tool)
        active = flag.is_active_for_brand(brand, fresh=True)
        # "From" is what runs got until now, even when waffle's admin set it.
        before = describe_stage(
            effective_stage(active=active, row_stage=rollout.stage), rollout.percent
        )
        rollout.stage = stage
        if stage == Stage.PERCENT:
            rollout.percent = value
        after = rollout.describe()
        if before == after:
            raise InvalidRolloutChange(f"{tool} is already {after} on {brand.name}.")
        rollout.save()
        if stage == Stage.OFF:
            flag.brands.remove(brand)
        else:
            flag.brands.add(brand)
        _log(
            rollout=rollout,
            kind=RolloutChange.Kind.STAGE,
            before=before,
            after=after,
            user=user,
            reason=reason,
        )
    return rollout


def rollout_experiment_start(
    *, brand: Brand, tool: str, name: str, user: User, reason: str
) -> BrandRollout:
    """Start a named experiment: from now on every trace of `tool` on `brand` carries its
    name, so its arms can be counted. One experiment runs at a time."""
    reason = _check_reason(reason)
    name = (name or "").strip()
    if not name:
        raise InvalidRolloutChange("Name the experiment.")
    with transaction.atomic():
        _, rollout = _locked_rollout(brand=brand, tool=tool)
        if rollout.experiment_running:
            raise InvalidRolloutChange(
                f"Experiment '{rollout.experiment}' is running; stop it first."
            )
        before = f"experiment '{rollout.experiment}' stopped" if rollout.experiment else "none"
        rollout.experiment = name
        rollout.started_at, rollout.stopped_at = timezone.now(), None
        rollout.save()
        _log(
            rollout=rollout,
            kind=RolloutChange.Kind.EXPERIMENT,
            before=before,
            after=f"experiment '{name}' running",
            user=user,
            reason=reason,
        )
    return rollout


def rollout_experiment_stop(*, brand: Brand, tool: str, user: User, reason: str) -> BrandRollout:
    """Stop the running experiment; its name and dates stay for the report."""
    reason = _check_reason(reason)
    with transaction.atomic():
        _, rollout = _locked_rollout(brand=brand, tool=tool)
        if not rollout.experiment_running:
            raise InvalidRolloutChange("No experiment is running.")
        rollout.stopped_at = timezone.now()
        rollout.save()
        _log(
            rollout=rollout,
            kind=RolloutChange.Kind.EXPERIMENT,
            before=f"experiment '{rollout.experiment}' running",
            after=f"experiment '{rollout.experiment}' stopped",
            user=user,
            reason=reason,
        )
    return rollout
