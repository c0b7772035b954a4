"""The per-brand waffle flag (`WAFFLE_FLAG_MODEL`), each brand's rollout of it, and the log
of every change to a rollout."""

from __future__ import annotations

from decimal import Decimal
from typing import Any

from django.conf import settings
from django.core.validators import MaxValueValidator, MinValueValidator
from django.db import models, transaction
from waffle.models import CACHE_EMPTY, AbstractUserFlag
from waffle.utils import get_cache, keyfmt

from copilot.models import Brand

FLAG_BRANDS_CACHE_KEY = "waffle:flag_brands:%s"
ROLLOUT_CACHE_KEY = "rollout:state:%s"


class BrandFlag(AbstractUserFlag):
    """A waffle flag that can also be switched on brand by brand."""

    brands = models.ManyToManyField(
        Brand,
        blank=True,
        related_name="flags",
        help_text="Activate this flag for these brands.",
    )

    class Meta(AbstractUserFlag.Meta):
        # waffle's Meta assigns gettext_lazy() results, so mypy infers `_StrPromise` for these
        # options; Django takes a plain str just as well.
        verbose_name = "Brand flag"  # type: ignore[assignment]
        verbose_name_plural = "Brand flags"  # type: ignore[assignment]

    def get_flush_keys(self, flush_keys: list[str] | None = None) -> list[str]:
        flush_keys = super().get_flush_keys(flush_keys)
        flush_keys.append(keyfmt(FLAG_BRANDS_CACHE_KEY, self.name))
        return flush_keys

    def _brand_ids(self) -> set[int]:
        cache = get_cache()
        key = keyfmt(FLAG_BRANDS_CACHE_KEY, self.name)
        cached = cache.get(key)
        if cached == CACHE_EMPTY:
            return set()
        if cached:
            return cached
        ids = set(self.brands.values_list("pk", flat=True)) if self.pk else set()
        cache.add(key, ids or CACHE_EMPTY)
        return ids

    def is_active_for_brand(self, brand: Brand, *, fresh: bool = False) -> bool:
        """On for everyone, off for everyone, or on for the listed brands (read from the
        database, not the shared cache, when `fresh`: inside a write that locked the flag)."""
        if self.everyone is not None:
            return self.everyone
        if fresh:
            return self.brands.filter(pk=brand.pk).exists()
        return brand.pk in self._brand_ids()


class Stage(models.TextChoices):
    OFF = "off", "Off"
    SHADOW = "shadow", "Shadow (runs after the draft, never shown to the model)"
    PERCENT = "percent", "Percent of customers"
    ON = "on", "On"


def effective_stage(*, active: bool, row_stage: str | None) -> str:
    """The stage a run gets: off unless waffle says the flag is active for the brand; then
    the rollout row's stage, or on when there is no row or it says off (a brand activated
    in waffle's own admin, or a flag on for Everyone)."""
    if not active:
        return Stage.OFF
    return row_stage if row_stage and row_stage != Stage.OFF else Stage.ON


def describe_stage(stage: str, percent: Decimal) -> str:
    """A stage as people read it: "off", "percent 10%", "on"."""
    if stage == Stage.PERCENT:
        return f"percent {percent.normalize():f}%"
    return str(stage)


def rollout_cache_key(flag_name: str, brand_id: int) -> str:
    return keyfmt(ROLLOUT_CACHE_KEY, f"{flag_name}:{brand_id}")


class BrandRollout(models.Model):
    """How far one flag is rolled out on one brand. Waffle's `BrandFlag.brands` stays the
    source of "active for this brand" (every stage but off); this row says how."""

    flag = models.ForeignKey(BrandFlag, on_delete=models.CASCADE, related_name="rollouts")
    brand = models.ForeignKey(Brand, on_delete=models.CASCADE, related_name="rollouts")
    stage = models.CharField(max_length=10, choices=Stage.choices, default=Stage.OFF)
    percent = models.DecimalField(
        max_digits=4,
        decimal_places=1,
        default=Decimal("0"),
        validators=[MinValueValidator(Decimal("0")), MaxValueValidator(Decimal("100"))],
        help_text="Share of the brand's customers in the treatment arm at the percent stage.",
    )
    experiment = models.CharField(max_length=80, blank=True)
    started_at = models.DateTimeField(null=True, blank=True)
    stopped_at = models.DateTimeField(null=True, blank=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["flag", "brand"], name="rollout_unique_flag_brand"),
            models.CheckConstraint(
                condition=models.Q(percent__gte=0) & models.Q(percent__lte=100),
                name="rollout_percent_range",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.flag.name} @ {self.brand}: {self.describe()}"

    def save(self, *args: Any, **kwargs: Any) -> None:
        super().save(*args, **kwargs)
        transaction.on_commit(self.flush)

    def delete(self, *args: Any, **kwargs: Any) -> tuple[int, dict[str, int]]:
        result = super().delete(*args, **kwargs)
        transaction.on_commit(self.flush)
        return result

    @property
    def experiment_running(self) -> bool:
        return bool(self.experiment and self.started_at and not self.stopped_at)

    def describe(self) -> str:
        return describe_stage(self.stage, self.percent)

    def state(self) -> dict[str, Any]:
        """What a plan needs from this row; cached, so it holds plain values only."""
        return {
            "stage": self.stage,
            "percent": str(self.percent),
            "experiment": self.experiment if self.experiment_running else "",
        }

    def flush(self) -> None:
        get_cache().delete(rollout_cache_key(self.flag.name, self.brand_id))


class RolloutChange(models.Model):
    """One change to a rollout: who, when, from what to what, and why. Append-only."""

    class Kind(models.TextChoices):
        STAGE = "stage", "Stage"
        EXPERIMENT = "experiment", "Experiment"

    rollout = models.ForeignKey(BrandRollout, on_delete=models.CASCADE, related_name="changes")
    kind = models.CharField(max_length=12, choices=Kind.choices)
    from_value = models.CharField(max_length=120)
    to_value = models.CharField(max_length=120)
    reason = models.TextField()
    changed_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="rollout_changes"
    )
    changed_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["-changed_at", "-id"]
        constraints = [
            models.CheckConstraint(condition=~models.Q(reason=""), name="rollout_change_reason")
        ]

    def __str__(self) -> str:
        return f"{self.from_value} -> {self.to_value}"

    def save(self, *args: Any, **kwargs: Any) -> None:
        if not self._state.adding:
            raise ValueError("Rollout changes are append-only.")
        super().save(*args, **kwargs)

    def delete(self, *args: Any, **kwargs: Any) -> tuple[int, dict[str, int]]:
        raise ValueError("Rollout changes are append-only.")
