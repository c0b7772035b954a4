"""Traces of every draft run, kept as written: one Trace, its Spans in order."""

from __future__ import annotations

from django.db import models

from copilot.models import Brand, Draft, Ticket


class Trace(models.Model):
    class Outcome(models.TextChoices):
        ANSWERED = "answered", "Answered"
        LOOP_LIMIT = "loop_limit", "Stopped at the iteration cap"
        DEADLINE = "deadline", "Stopped at the run deadline"
        FAILED = "failed", "Failed"
        BLOCKED = "blocked", "Blocked"

    brand = models.ForeignKey(Brand, on_delete=models.CASCADE, related_name="traces")
    ticket = models.ForeignKey(Ticket, on_delete=models.CASCADE, related_name="traces")
    draft = models.OneToOneField(Draft, on_delete=models.CASCADE, related_name="trace")
    created_at = models.DateTimeField(auto_now_add=True)
    provider = models.CharField(max_length=40)
    model = models.CharField(max_length=120, blank=True)
    prompt_version = models.CharField(max_length=40, blank=True)
    plan = models.JSONField(default=dict)
    config = models.JSONField(
        default=dict, help_text="The brand's copilot settings the run used (tone, language...)."
    )
    outcome = models.CharField(max_length=20, choices=Outcome.choices)
    iterations = models.PositiveSmallIntegerField(default=0)
    tool_calls_count = models.PositiveSmallIntegerField(default=0)
    tools_used = models.JSONField(default=list)
    tokens_in = models.PositiveIntegerField(default=0)
    tokens_out = models.PositiveIntegerField(default=0)
    cost = models.DecimalField(max_digits=12, decimal_places=6, default=0)
    latency_ms = models.PositiveIntegerField(default=0)
    error_code = models.CharField(max_length=60, blank=True)
    grounding = models.CharField(max_length=20, blank=True)
    sensitive = models.BooleanField(default=False)

    class Meta:
        ordering = ["-created_at", "-id"]
        indexes = [models.Index(fields=["brand", "-created_at", "-id"], name="trace_brand_recent")]

    def __str__(self) -> str:
        return f"Trace {self.pk} ({self.outcome})"


class Span(models.Model):
    class Kind(models.TextChoices):
        LLM = "llm", "Model call"
        TOOL = "tool", "Tool call"
        GUARDRAIL = "guardrail", "Safeguard"

    class Status(models.TextChoices):
        OK = "ok", "OK"
        ERROR = "error", "Error"
        BLOCKED = "blocked", "Blocked"

    trace = models.ForeignKey(Trace, on_delete=models.CASCADE, related_name="spans")
    seq = models.PositiveSmallIntegerField()
    kind = models.CharField(max_length=12, choices=Kind.choices)
    name = models.CharField(max_length=80)
    arguments = models.JSONField(default=dict, blank=True)
    result = models.JSONField(null=True, blank=True)
    status = models.CharField(max_length=10, choices=Status.choices, default=Status.OK)
    error = models.JSONField(null=True, blank=True)
    attributes = models.JSONField(default=dict, blank=True)
    started_at = models.DateTimeField()
    duration_ms = models.PositiveIntegerField(default=0)

    class Meta:
        ordering = ["trace", "seq"]
        constraints = [
            models.UniqueConstraint(fields=["trace", "seq"], name="span_unique_trace_seq")
        ]

    def __str__(self) -> str:
        return f"{self.kind}:{self.name}"
