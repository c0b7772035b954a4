"""Traces of every draft run, kept as written: one Trace, its Spans in order.

Traces and spans are append-only. The ORM refuses to update or delete them (including
cascades, through a `pre_delete` guard); on PostgreSQL a trigger (migration 0003) also
refuses raw UPDATE and DELETE. The one way out is the retention purge
(`audit.services.traces_purge`), which opens `purge_allowed()` and, on PostgreSQL, sets the
transaction-local `audit.allow_purge` the trigger checks.

Reviews, approvals, per-brand audit policies and the daily rollup are separate rows.
"""

from __future__ import annotations

import contextvars
from collections.abc import Iterator
from contextlib import contextmanager
from decimal import Decimal
from typing import Any, TypeVar

from django.conf import settings
from django.db import models
from django.db.models.signals import pre_delete
from django.dispatch import receiver

from audit.exceptions import TraceImmutable
from copilot.models import Brand, Draft, Ticket

_PURGING: contextvars.ContextVar[bool] = contextvars.ContextVar("audit_purging", default=False)


@contextmanager
def purge_allowed() -> Iterator[None]:
    """Let the retention purge delete traces and spans inside this block (this thread only)."""
    token = _PURGING.set(True)
    try:
        yield
    finally:
        _PURGING.reset(token)


# The two arms of a rollout a run is recorded in: with the tool offered (treatment) or
# without it (control). Rollout assigns them; the audit compares them.
CONTROL = "control"
TREATMENT = "treatment"


_M = TypeVar("_M", bound=models.Model)


class AppendOnlyQuerySet(models.QuerySet[_M]):
    """Inserts and reads only: bulk updates and deletes raise `TraceImmutable`."""

    def update(self, **kwargs: Any) -> int:
        raise TraceImmutable(f"{self.model.__name__} rows are append-only.")

    def bulk_update(self, objs: Any, fields: Any, batch_size: int | None = None) -> int:
        raise TraceImmutable(f"{self.model.__name__} rows are append-only.")

    def delete(self) -> tuple[int, dict[str, int]]:
        raise TraceImmutable(f"{self.model.__name__} rows are append-only.")


class AppendOnlyModel(models.Model):
    objects = AppendOnlyQuerySet.as_manager()

    class Meta:
        abstract = True

    def save(self, *args: Any, **kwargs: Any) -> None:
        if not self._state.adding:
            raise TraceImmutable(f"{type(self).__name__} {self.pk} is append-only.")
        super().save(*args, **kwargs)

    def delete(self, *args: Any, **kwargs: Any) -> tuple[int, dict[str, int]]:
        raise TraceImmutable(f"{type(self).__name__} {self.pk} is append-only.")


class Trace(AppendOnlyModel):
    class Outcome(models.TextChoices):
        ANSWERED = "answered", "Answered"
        LOOP_LIMIT = "loop_limit", "Stopped at the iteration cap"
        DEADLINE = "deadline", "Stopped at the run deadline"
        FAILED = "failed", "Failed"
        BLOCKED = "blocked", "Blocked"

    class Grounding(models.TextChoices):
        GROUNDED = "grounded", "Grounded"
        GENERATIVE = "generative", "Generative"
        UNVERIFIED = "unverified", "Unverified"

    brand = models.ForeignKey(Brand, on_delete=models.CASCADE, related_name="traces")
    ticket = models.ForeignKey(Ticket, on_delete=models.CASCADE, related_name="traces")
    draft = models.OneToOneField(Draft, on_delete=models.CASCADE, related_name="trace")
    created_at = models.DateTimeField(auto_now_add=True)
    provider = models.CharField(max_length=40)
    model = models.CharField(max_length=120, blank=True)
    prompt_version = models.CharField(max_length=40, blank=True)
    plan = models.JSONField(default=dict)
    arm = models.CharField(
        max_length=20, blank=True, help_text="The experiment arm of the plan, kept for filters."
    )
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
    sensitive_reasons = models.JSONField(
        default=list, blank=True, help_text="Which of the brand's rules marked it sensitive."
    )

    class Meta:
        ordering = ["-created_at", "-id"]
        indexes = [
            models.Index(fields=["brand", "-created_at", "-id"], name="trace_brand_recent"),
            models.Index(fields=["-created_at", "-id"], name="trace_recent"),
            models.Index(
                fields=["brand", "-created_at", "-id"],
                name="trace_sensitive_recent",
                condition=models.Q(sensitive=True),
            ),
        ]

    def __str__(self) -> str:
        return f"Trace {self.pk} ({self.outcome})"


class Span(AppendOnlyModel):
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


@receiver(pre_delete, sender=Trace)
@receiver(pre_delete, sender=Span)
def _refuse_cascade_delete(
    sender: type[models.Model], instance: models.Model, **kwargs: Any
) -> None:
    """Deleting a brand, ticket or draft must not take its traces along silently."""
    if not _PURGING.get():
        raise TraceImmutable(f"{sender.__name__} {instance.pk} is append-only.")


class Verdict(models.TextChoices):
    TOOL_HELPED = "tool_helped", "The tool helped"
    RIGHT_WITHOUT_TOOL = "right_without_tool", "Right without a tool"
    UNNECESSARY_CALL = "unnecessary_call", "Unnecessary call"
    MISSED_CALL = "missed_call", "Missed call"
    WRONG_DATA = "wrong_data", "Wrong data"
    BAD_ANSWER = "bad_answer", "Bad answer"


class Review(models.Model):
    """A lead's verdict on one trace. Several may exist; the latest one counts in metrics."""

    trace = models.ForeignKey(Trace, on_delete=models.CASCADE, related_name="reviews")
    reviewer = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, related_name="+"
    )
    verdict = models.CharField(max_length=24, choices=Verdict.choices)
    note = models.TextField(blank=True, max_length=2000)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["-created_at", "-id"]
        indexes = [models.Index(fields=["trace", "-id"], name="review_trace_latest")]

    def __str__(self) -> str:
        return f"{self.verdict} on trace {self.trace_id}"


class Approval(models.Model):
    """A lead released a held sensitive draft, so an agent may send it."""

    trace = models.OneToOneField(Trace, on_delete=models.CASCADE, related_name="approval")
    approved_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, related_name="+"
    )
    created_at = models.DateTimeField(auto_now_add=True)

    def __str__(self) -> str:
        return f"Approval of trace {self.trace_id}"


DEFAULT_SENSITIVE_KEYWORDS = [
    # English
    "refund",
    "chargeback",
    "charge back",
    "dispute",
    "legal",
    "lawyer",
    "attorney",
    "lawsuit",
    "sue",
    "court",
    "fraud",
    "scam",
    "complaint",
    # French
    "remboursement",
    "rembourser",
    "avocat",
    "juridique",
    "plainte",
    "tribunal",
    "litige",
    "fraude",
    "arnaque",
    "mise en demeure",
    "rétrofacturation",
    "opposition bancaire",
]


def default_sensitive_keywords() -> list[str]:
    return list(DEFAULT_SENSITIVE_KEYWORDS)


class AuditPolicy(models.Model):
    """A brand's rules for sensitive tickets, and whether their drafts wait for a lead."""

    brand = models.OneToOneField(Brand, on_delete=models.CASCADE, related_name="audit_policy")
    keywords = models.JSONField(
        default=default_sensitive_keywords,
        blank=True,
        help_text="Words (any language, accents ignored) that make a ticket sensitive.",
    )
    amount_threshold = models.DecimalField(
        max_digits=12,
        decimal_places=2,
        null=True,
        blank=True,
        default=Decimal("500"),
        help_text="An amount above this in the ticket or an order total; empty turns it off.",
    )
    vip_customers = models.JSONField(
        default=list, blank=True, help_text="Customer external ids or emails treated as VIP."
    )
    flag_tool_errors = models.BooleanField(default=True)
    flag_safeguards = models.BooleanField(default=True)
    flag_unverified = models.BooleanField(default=True)
    hold_sensitive_drafts = models.BooleanField(
        default=False, help_text="An agent cannot send a sensitive draft until a lead approves it."
    )

    class Meta:
        verbose_name_plural = "audit policies"

    def __str__(self) -> str:
        return f"Audit policy of {self.brand}"


class DraftEditDistance(models.Model):
    """The normalized Levenshtein distance between a draft and the text the agent sent,
    computed once per decided draft so the rollup never recomputes it."""

    draft = models.OneToOneField(
        Draft, on_delete=models.CASCADE, primary_key=True, related_name="+"
    )
    distance = models.FloatField()

    def __str__(self) -> str:
        return f"Draft {self.pk}: {self.distance:.3f}"


# The rollup's additive counters and its histogram (JSON counts) fields: the selectors sum
# rows with them, the refresh writes them.
ROLLUP_COUNTERS = (
    "drafts",
    "accepted",
    "edited",
    "rejected",
    "edit_distance_sum",
    "with_tool_calls",
    "tool_calls",
    "tool_errors",
    "safeguard_events",
    "sensitive",
    "reviewed",
    "tokens_in",
    "tokens_out",
    "cost",
)
ROLLUP_HISTOGRAMS = ("verdicts", "grounding", "latency_histogram", "findings")


class DailyRollup(models.Model):
    """The metrics of one brand, UTC day and arm, recomputed from traces by Celery."""

    brand = models.ForeignKey(Brand, on_delete=models.CASCADE, related_name="+")
    day = models.DateField()
    arm = models.CharField(max_length=20)
    drafts = models.PositiveIntegerField(default=0)
    accepted = models.PositiveIntegerField(default=0)
    edited = models.PositiveIntegerField(default=0)
    rejected = models.PositiveIntegerField(default=0)
    edit_distance_sum = models.FloatField(default=0)
    with_tool_calls = models.PositiveIntegerField(default=0)
    tool_calls = models.PositiveIntegerField(default=0)
    tool_errors = models.PositiveIntegerField(default=0)
    safeguard_events = models.PositiveIntegerField(default=0)
    sensitive = models.PositiveIntegerField(default=0)
    reviewed = models.PositiveIntegerField(default=0)
    verdicts = models.JSONField(default=dict)
    grounding = models.JSONField(default=dict)
    latency_histogram = models.JSONField(default=dict)
    findings = models.JSONField(
        default=dict,
        blank=True,
        help_text="Drafts whose order data had each finding, by code (orders.quality).",
    )
    tokens_in = models.PositiveBigIntegerField(default=0)
    tokens_out = models.PositiveBigIntegerField(default=0)
    cost = models.DecimalField(max_digits=16, decimal_places=6, default=0)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["brand", "day", "arm"], name="rollup_unique_day_arm")
        ]

    def __str__(self) -> str:
        return f"{self.brand_id} {self.day} {self.arm}"
