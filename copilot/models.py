"""The core domain: brands and who works for them, customers, tickets and drafts."""

from __future__ import annotations

import hashlib
import secrets

from django.conf import settings
from django.db import models
from django.db.models import Q

from copilot.crypto import EncryptedJSONField


class Brand(models.Model):
    """A storefront whose support team uses the copilot; every other row hangs off one."""

    name = models.CharField(max_length=120)
    slug = models.SlugField(max_length=60, unique=True)
    api_token_digest = models.CharField(
        max_length=64,
        unique=True,
        null=True,
        blank=True,
        help_text="SHA-256 of the intake API token; the token itself is shown once.",
    )
    # How the copilot writes for this brand; every trace records the values it ran with.
    reply_language = models.CharField(max_length=8, default="en")
    tone = models.CharField(max_length=120, default="warm and concise")
    signature = models.CharField(max_length=200, blank=True)
    ai_model = models.CharField(
        max_length=120, blank=True, help_text="Model name; empty uses the OPENAI_MODEL setting."
    )
    prompt_version = models.CharField(max_length=20, default="v1")
    daily_token_budget = models.PositiveIntegerField(
        default=0, help_text="Model tokens per day for this brand; 0 means no limit."
    )
    knowledge = models.JSONField(
        default=dict,
        blank=True,
        help_text='Short answers the copilot may quote: {"hours": ..., "returns": ..., "shipping": ...}.',
    )
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["name"]

    def __str__(self) -> str:
        return self.name

    @staticmethod
    def token_digest(token: str) -> str:
        return hashlib.sha256(token.encode()).hexdigest()

    def rotate_api_token(self) -> str:
        """Set a new intake token and return it; only its digest is stored."""
        token = f"cpt_{secrets.token_urlsafe(32)}"
        self.api_token_digest = self.token_digest(token)
        self.save(update_fields=["api_token_digest"])
        return token


class Role(models.TextChoices):
    AGENT = "agent", "Agent"
    LEAD = "lead", "Lead"
    ADMIN = "admin", "Admin"


ROLE_RANK = {Role.AGENT: 1, Role.LEAD: 2, Role.ADMIN: 3}


def roles_at_least(role: str) -> tuple[str, ...]:
    """The roles that include `role`'s rights: `roles_at_least("lead")` is lead and admin."""
    return tuple(r for r, rank in ROLE_RANK.items() if rank >= ROLE_RANK[Role(role)])


class Membership(models.Model):
    """A user's role in one brand. Access to anything brand-scoped goes through this."""

    user = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="memberships"
    )
    brand = models.ForeignKey(Brand, on_delete=models.CASCADE, related_name="memberships")
    role = models.CharField(max_length=10, choices=Role.choices, default=Role.AGENT)

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["user", "brand"], name="membership_unique_user_brand")
        ]

    def __str__(self) -> str:
        return f"{self.user} @ {self.brand} ({self.role})"

    def has_role(self, role: str) -> bool:
        return ROLE_RANK[Role(self.role)] >= ROLE_RANK[Role(role)]


class Customer(models.Model):
    """The person who wrote in, as the helpdesk identifies them."""

    brand = models.ForeignKey(Brand, on_delete=models.CASCADE, related_name="customers")
    external_id = models.CharField(max_length=120)
    email = models.EmailField(blank=True)
    email_verified = models.BooleanField(
        default=False,
        help_text="The helpdesk vouches for this address (logged-in or replied from it).",
    )
    name = models.CharField(max_length=200, blank=True)

    class Meta:
        constraints = [
            models.UniqueConstraint(
                fields=["brand", "external_id"], name="customer_unique_brand_external_id"
            )
        ]

    def __str__(self) -> str:
        return self.name or self.email or self.external_id

    @property
    def is_identified(self) -> bool:
        """Whether order data may be read for this customer without an order number."""
        return bool(self.email and self.email_verified)


class Ticket(models.Model):
    class Status(models.TextChoices):
        OPEN = "open", "Open"
        SOLVED = "solved", "Solved"

    brand = models.ForeignKey(Brand, on_delete=models.CASCADE, related_name="tickets")
    customer = models.ForeignKey(
        Customer, on_delete=models.PROTECT, related_name="tickets", null=True, blank=True
    )
    external_id = models.CharField(max_length=120)
    subject = models.CharField(max_length=300, blank=True)
    status = models.CharField(max_length=10, choices=Status.choices, default=Status.OPEN)
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        constraints = [
            models.UniqueConstraint(
                fields=["brand", "external_id"], name="ticket_unique_brand_external_id"
            )
        ]
        indexes = [models.Index(fields=["brand", "-id"], name="ticket_inbox_idx")]

    def __str__(self) -> str:
        return f"#{self.pk} {self.subject}"

    def customer_text(self) -> str:
        """What the customer wrote, oldest message first, a blank line between messages
        (reuses prefetched messages)."""
        return "\n\n".join(
            m.body for m in self.messages.all() if m.author == Message.Author.CUSTOMER
        )


class Message(models.Model):
    class Author(models.TextChoices):
        CUSTOMER = "customer", "Customer"
        AGENT = "agent", "Agent"

    ticket = models.ForeignKey(Ticket, on_delete=models.CASCADE, related_name="messages")
    author = models.CharField(max_length=10, choices=Author.choices, default=Author.CUSTOMER)
    body = models.TextField()
    sent_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, blank=True
    )
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["created_at", "id"]

    def __str__(self) -> str:
        return f"{self.author} message on ticket {self.ticket_id}"


class Draft(models.Model):
    """One AI draft reply for a ticket, and what the agent decided about it."""

    class Status(models.TextChoices):
        PENDING = "pending", "Pending"
        GENERATING = "generating", "Generating"
        READY = "ready", "Ready"
        FAILED = "failed", "Failed"
        BLOCKED = "blocked", "Blocked"

    class Decision(models.TextChoices):
        ACCEPTED = "accepted", "Accepted as is"
        EDITED = "edited", "Edited and accepted"
        REJECTED = "rejected", "Rejected"

    OPEN_STATUSES = (Status.PENDING, Status.GENERATING)

    ticket = models.ForeignKey(Ticket, on_delete=models.CASCADE, related_name="drafts")
    status = models.CharField(max_length=12, choices=Status.choices, default=Status.PENDING)
    status_reason = models.CharField(
        max_length=300, blank=True, help_text="Why the draft failed or was blocked, in plain words."
    )
    body = models.TextField(blank=True, help_text="The text the copilot proposed.")
    decision = models.CharField(max_length=10, choices=Decision.choices, blank=True)
    final_text = models.TextField(blank=True, help_text="The text the agent sent.")
    reject_reason = models.CharField(max_length=300, blank=True)
    decided_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="+",
    )
    decided_at = models.DateTimeField(null=True, blank=True)
    version = models.PositiveIntegerField(default=1, help_text="Optimistic-locking counter.")
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        ordering = ["-created_at", "-id"]
        constraints = [
            models.CheckConstraint(
                condition=Q(decision="") | Q(status="ready"),
                name="draft_decision_only_when_ready",
            )
        ]

    def __str__(self) -> str:
        return f"Draft {self.pk} ({self.status})"

    @property
    def is_open(self) -> bool:
        return self.status in self.OPEN_STATUSES

    @property
    def is_decided(self) -> bool:
        return bool(self.decision)


# --- Helpdesk integrations -----------------------------------------------------------------


class HelpdeskConnection(models.Model):
    """How one brand's helpdesk sends tickets in (signed webhooks) and takes replies back."""

    class Kind(models.TextChoices):
        ZENDESK = "zendesk", "Zendesk"
        GORGIAS = "gorgias", "Gorgias"
        FRESHDESK = "freshdesk", "Freshdesk"
        GENERIC = "generic", "Generic JSON"

    class ReplyMode(models.TextChoices):
        INTERNAL = "internal", "Internal note (agents only)"
        PUBLIC = "public", "Public reply (sent to the customer)"

    brand = models.OneToOneField(Brand, on_delete=models.CASCADE, related_name="helpdesk")
    kind = models.CharField(max_length=12, choices=Kind.choices)
    base_url = models.URLField(blank=True, help_text="The helpdesk account's API root.")
    reply_mode = models.CharField(
        max_length=10, choices=ReplyMode.choices, default=ReplyMode.INTERNAL
    )
    enabled = models.BooleanField(default=True)
    # Encrypted at rest; no page ever renders them back.
    credentials = EncryptedJSONField(default=dict, blank=True, help_text="API credentials.")
    webhook_secret = EncryptedJSONField(default=str, blank=True, help_text="Signing secret.")
    timeout_seconds = models.FloatField(default=10.0)
    last_check_at = models.DateTimeField(null=True, blank=True)
    last_check_ok = models.BooleanField(null=True, blank=True)
    last_check_message = models.CharField(max_length=300, blank=True)
    updated_at = models.DateTimeField(auto_now=True)

    def __str__(self) -> str:
        return f"{self.brand}: {self.get_kind_display()}"

    def ticket_external_id(self, remote_id: str) -> str:
        """Our Ticket.external_id for a helpdesk ticket id: namespaced by the helpdesk."""
        return f"{self.kind}:{remote_id}"

    def remote_ticket_id(self, ticket: Ticket) -> str | None:
        """The helpdesk's id of `ticket`, or None when the ticket did not come from it."""
        prefix = f"{self.kind}:"
        return ticket.external_id[len(prefix) :] if ticket.external_id.startswith(prefix) else None


class WebhookEvent(models.Model):
    """One accepted helpdesk event; the unique key makes a replayed event a no-op."""

    connection = models.ForeignKey(
        HelpdeskConnection, on_delete=models.CASCADE, related_name="events"
    )
    remote_ticket_id = models.CharField(max_length=60)
    event_id = models.CharField(max_length=120)
    ticket = models.ForeignKey(
        Ticket, on_delete=models.SET_NULL, null=True, blank=True, related_name="webhook_events"
    )
    body = models.TextField(help_text="The raw signed body, as received.")
    sent_at = models.DateTimeField(null=True, blank=True)
    created_ticket = models.BooleanField(default=False)
    received_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        constraints = [
            models.UniqueConstraint(
                fields=["connection", "remote_ticket_id", "event_id"],
                name="webhook_event_unique_per_ticket",
            )
        ]

    def __str__(self) -> str:
        return f"{self.connection.kind} event {self.event_id} on {self.remote_ticket_id}"


class ReplyDelivery(models.Model):
    """The outbox row for one accepted draft: posted to the helpdesk at most once."""

    class Status(models.TextChoices):
        PENDING = "pending", "Queued"
        SENDING = "sending", "Sending"
        RETRYING = "retrying", "Retrying"
        SENT = "sent", "Posted"
        FAILED = "failed", "Failed"

    OPEN_STATUSES = (Status.PENDING, Status.SENDING, Status.RETRYING)

    draft = models.OneToOneField(Draft, on_delete=models.CASCADE, related_name="reply_delivery")
    connection = models.ForeignKey(
        HelpdeskConnection, on_delete=models.CASCADE, related_name="deliveries"
    )
    key = models.CharField(max_length=80, unique=True, help_text="Idempotency key of the post.")
    remote_ticket_id = models.CharField(max_length=60)
    public = models.BooleanField(default=False)
    text = models.TextField()
    status = models.CharField(max_length=10, choices=Status.choices, default=Status.PENDING)
    attempts = models.PositiveIntegerField(default=0)
    lease_until = models.DateTimeField(null=True, blank=True)
    next_attempt_at = models.DateTimeField(null=True, blank=True)
    last_error_code = models.CharField(max_length=60, blank=True)
    last_error = models.CharField(max_length=300, blank=True)
    remote_id = models.CharField(max_length=60, blank=True)
    reconciled = models.BooleanField(
        default=False, help_text="Found already posted after an uncertain attempt."
    )
    sent_at = models.DateTimeField(null=True, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        indexes = [models.Index(fields=["status", "next_attempt_at"], name="reply_delivery_due")]

    def __str__(self) -> str:
        return f"Delivery of draft {self.draft_id} ({self.status})"

    @property
    def is_open(self) -> bool:
        return self.status in self.OPEN_STATUSES
