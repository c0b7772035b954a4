"""Replays of past tickets under named, versioned configurations, kept apart from live traces.

A replay never writes an audit trace: its results live here, so the metrics of live traffic
stay clean and a replay can be deleted without touching the audit.
"""

from __future__ import annotations

from decimal import Decimal

from django.conf import settings
from django.db import models

from audit.models import Trace
from copilot.models import Brand, Ticket


class ReplayConfiguration(models.Model):
    """One version of a named set of copilot settings for a brand. Rows are never edited:
    saving a change stores the next version, so a result always says exactly what ran."""

    # What a version sets (everything but who, when and which name and version).
    SETTINGS = (
        "provider",
        "model",
        "prompt_version",
        "tools",
        "max_iterations",
        "run_deadline_seconds",
        "tool_timeout_seconds",
        "tone",
        "reply_language",
        "price_in_per_mtok",
        "price_out_per_mtok",
    )

    class Provider(models.TextChoices):
        RULES = "rules", "Rules (offline)"
        OPENAI = "openai", "OpenAI-compatible model"

    brand = models.ForeignKey(Brand, on_delete=models.CASCADE, related_name="replay_configs")
    name = models.SlugField(max_length=60)
    version = models.PositiveIntegerField()
    provider = models.CharField(max_length=20, choices=Provider.choices, default=Provider.RULES)
    model = models.CharField(
        max_length=120, blank=True, help_text="Model name; empty uses the provider's default."
    )
    prompt_version = models.CharField(max_length=20, default="v1")
    tools = models.JSONField(default=list, blank=True, help_text="Tools offered to the model.")
    max_iterations = models.PositiveSmallIntegerField(default=4)
    run_deadline_seconds = models.FloatField(default=60.0)
    tool_timeout_seconds = models.FloatField(default=10.0)
    tone = models.CharField(max_length=120, blank=True, help_text="Empty keeps the brand's.")
    reply_language = models.CharField(
        max_length=8, blank=True, help_text="Empty keeps the brand's."
    )
    price_in_per_mtok = models.DecimalField(
        max_digits=10, decimal_places=4, default=Decimal("0"), help_text="Cost of 1M input tokens."
    )
    price_out_per_mtok = models.DecimalField(
        max_digits=10, decimal_places=4, default=Decimal("0"), help_text="Cost of 1M output tokens."
    )
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, blank=True, related_name="+"
    )
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["name", "-version"]
        constraints = [
            models.UniqueConstraint(
                fields=["brand", "name", "version"], name="replay_config_unique_version"
            )
        ]

    def __str__(self) -> str:
        return self.label

    @property
    def label(self) -> str:
        return f"{self.name} v{self.version}"


class ReplayRun(models.Model):
    """A set of past tickets replayed under one configuration, or two to compare."""

    class Status(models.TextChoices):
        RUNNING = "running", "Running"
        DONE = "done", "Done"

    brand = models.ForeignKey(Brand, on_delete=models.CASCADE, related_name="replay_runs")
    config_a = models.ForeignKey(ReplayConfiguration, on_delete=models.PROTECT, related_name="+")
    config_b = models.ForeignKey(
        ReplayConfiguration, on_delete=models.PROTECT, related_name="+", null=True, blank=True
    )
    filters = models.JSONField(default=dict, help_text="How the tickets were picked.")
    status = models.CharField(max_length=10, choices=Status.choices, default=Status.RUNNING)
    total = models.PositiveIntegerField(default=0)
    done = models.PositiveIntegerField(default=0, help_text="Items replayed so far.")
    chunk_size = models.PositiveIntegerField(default=25)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, blank=True, related_name="+"
    )
    created_at = models.DateTimeField(auto_now_add=True)
    finished_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["-created_at", "-id"]

    def __str__(self) -> str:
        return f"Replay {self.pk} ({self.done}/{self.total})"

    @property
    def percent(self) -> int:
        return round(100 * self.done / self.total) if self.total else 100

    @property
    def configs(self) -> list[ReplayConfiguration]:
        return [c for c in (self.config_a, self.config_b) if c is not None]


class ReplayItem(models.Model):
    """One past ticket in a run: the trace whose recorded tool results it replays, and the
    text the agent finally sent (copied when the run starts, so the comparison is stable)."""

    run = models.ForeignKey(ReplayRun, on_delete=models.CASCADE, related_name="items")
    seq = models.PositiveIntegerField()
    ticket = models.ForeignKey(Ticket, on_delete=models.CASCADE, related_name="+")
    source_trace = models.ForeignKey(Trace, on_delete=models.CASCADE, related_name="+")
    sent_text = models.TextField(blank=True, help_text="What the agent sent; empty if nothing.")
    done = models.BooleanField(default=False)

    class Meta:
        ordering = ["run", "seq"]
        constraints = [models.UniqueConstraint(fields=["run", "seq"], name="replay_item_seq")]

    def __str__(self) -> str:
        return f"Replay item {self.run_id}/{self.seq}"


class ReplayResult(models.Model):
    """What one configuration produced on one item: the draft, its outcome, a summary of its
    spans (tool calls, safeguards), and how close the draft is to what the agent sent."""

    class Side(models.TextChoices):
        A = "a", "A"
        B = "b", "B"

    item = models.ForeignKey(ReplayItem, on_delete=models.CASCADE, related_name="results")
    side = models.CharField(max_length=1, choices=Side.choices)
    config = models.ForeignKey(ReplayConfiguration, on_delete=models.PROTECT, related_name="+")
    text = models.TextField(blank=True)
    outcome = models.CharField(max_length=20, choices=Trace.Outcome.choices)
    reason = models.CharField(max_length=300, blank=True)
    error_code = models.CharField(max_length=60, blank=True)
    grounding = models.CharField(max_length=20, blank=True)
    provider = models.CharField(max_length=40)
    model = models.CharField(max_length=120, blank=True)
    prompt_version = models.CharField(max_length=40, blank=True)
    iterations = models.PositiveSmallIntegerField(default=0)
    tool_calls_count = models.PositiveSmallIntegerField(default=0)
    tools_used = models.JSONField(default=list)
    safeguards = models.JSONField(default=list, help_text="Names of the safeguards that fired.")
    not_recorded = models.PositiveSmallIntegerField(
        default=0, help_text="Tool calls the original run never made, so no data to answer."
    )
    spans = models.JSONField(default=list, help_text="kind, name, status, arguments, error.")
    tokens_in = models.PositiveIntegerField(default=0)
    tokens_out = models.PositiveIntegerField(default=0)
    cost = models.DecimalField(max_digits=12, decimal_places=6, default=Decimal("0"))
    latency_ms = models.PositiveIntegerField(default=0)
    similarity = models.FloatField(
        null=True, blank=True, help_text="Normalized edit similarity to the sent text, 0..1."
    )

    class Meta:
        ordering = ["item", "side"]
        constraints = [models.UniqueConstraint(fields=["item", "side"], name="replay_result_side")]

    def __str__(self) -> str:
        return f"Replay result {self.item_id}{self.side} ({self.outcome})"
