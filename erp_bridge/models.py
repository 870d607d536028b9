"""The outbox (events owed to the ERP), their delivery attempts, and ERP API tokens."""
import uuid

from django.db import models
from django.db.models import Q


class OutboxMessage(models.Model):
    """One business event owed to a destination. The row is the truth; task messages only nudge."""

    class Status(models.TextChoices):
        PENDING = "pending", "Pending"
        DELIVERED = "delivered", "Delivered"
        DEAD = "dead", "Dead letter"

    id = models.UUIDField(primary_key=True, default=uuid.uuid4, editable=False, help_text="Also the idempotency key.")
    destination = models.CharField(max_length=30, default="erp")
    type = models.CharField(max_length=60)
    aggregate = models.CharField(max_length=60, help_text="The purchase order number the event belongs to.")
    sequence = models.PositiveIntegerField(help_text="Gap-free per destination and aggregate.")
    occurred_at = models.DateTimeField()
    schema_version = models.PositiveSmallIntegerField(default=1)
    payload = models.JSONField()
    status = models.CharField(max_length=10, choices=Status.choices, default=Status.PENDING)
    attempt_count = models.PositiveIntegerField(default=0)
    next_attempt_at = models.DateTimeField()
    lease_until = models.DateTimeField(null=True, blank=True)
    delivered_at = models.DateTimeField(null=True, blank=True)
    last_error = models.TextField(blank=True)
    correlation_id = models.CharField(max_length=64, blank=True, help_text="Of the request or interchange that caused it.")

    class Meta:
        ordering = ["occurred_at", "aggregate", "sequence"]
        constraints = [
            models.UniqueConstraint(
                fields=["destination", "aggregate", "sequence"], name="outbox_unique_aggregate_sequence"
            ),
        ]
        indexes = [
            models.Index(fields=["status", "next_attempt_at"], name="outbox_due_idx", condition=Q(status="pending")),
            # Undelivered events (pending and dead letters) are few of all: counted without reading the rest.
            models.Index(fields=["destination", "status", "occurred_at"], name="outbox_undelivered_idx",
                         condition=~Q(status="delivered")),
            models.Index(fields=["aggregate"], name="outbox_dead_idx", condition=Q(status="dead")),
            models.Index(fields=["delivered_at"], name="outbox_delivered_idx", condition=Q(status="delivered")),
        ]

    def __str__(self) -> str:
        return f"{self.type} {self.aggregate}#{self.sequence}"

    @staticmethod
    def lease_free(now) -> Q:
        """Not claimed by a worker, or its claim's lease has run out."""
        return Q(lease_until__isnull=True) | Q(lease_until__lte=now)

    @property
    def may_have_failure_case(self) -> bool:
        """A message that failed before keeps its last error until it is delivered; only such a
        message can have an open "delivery failed" case to close."""
        return bool(self.last_error)

    def envelope(self) -> dict:
        """The event as the ERP receives it."""
        return {
            "id": str(self.id),
            "type": self.type,
            "aggregate": self.aggregate,
            "sequence": self.sequence,
            "occurred_at": self.occurred_at.isoformat(),
            "schema_version": self.schema_version,
            "payload": self.payload,
        }


class OutboxSequence(models.Model):
    """The last sequence number handed out per destination and aggregate (locked while publishing)."""

    destination = models.CharField(max_length=30)
    aggregate = models.CharField(max_length=60)
    last = models.PositiveIntegerField(default=0)

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["destination", "aggregate"], name="outbox_sequence_unique"),
        ]


class DeliveryAttempt(models.Model):
    class Outcome(models.TextChoices):
        DELIVERED = "delivered", "Delivered"
        RETRY = "retry", "Will retry"
        FAILED = "failed", "Failed permanently"

    message = models.ForeignKey(OutboxMessage, on_delete=models.CASCADE, related_name="attempts")
    attempted_at = models.DateTimeField()
    outcome = models.CharField(max_length=10, choices=Outcome.choices)
    status_code = models.PositiveSmallIntegerField(null=True, blank=True)
    latency_ms = models.PositiveIntegerField()
    error = models.TextField(blank=True, help_text="An excerpt of the error or the response body.")

    class Meta:
        ordering = ["message", "attempted_at", "id"]
        indexes = [models.Index(fields=["attempted_at"], name="delivery_attempt_time_idx")]


class ErpApiToken(models.Model):
    """A bearer token for the ERP's calls into the portal; only its SHA-256 is stored."""

    name = models.CharField(max_length=100, unique=True)
    prefix = models.CharField(max_length=12, help_text="The first characters, to recognise a token in logs.")
    key_hash = models.CharField(max_length=64, unique=True)
    created_at = models.DateTimeField(auto_now_add=True)
    last_used_at = models.DateTimeField(null=True, blank=True)
    revoked_at = models.DateTimeField(null=True, blank=True)

    def __str__(self) -> str:
        return f"{self.name} ({self.prefix}…)"


class DestinationState(models.Model):
    """How events reach a destination: online (the relay sends each) or in numbered batch files,
    because it is configured batch-only or has been down longer than ERP_BATCH_AFTER_SECONDS."""

    class Mode(models.TextChoices):
        ONLINE = "online", "Online"
        BATCH = "batch", "Batch files"

    destination = models.CharField(max_length=30, unique=True)
    mode = models.CharField(max_length=10, choices=Mode.choices, default=Mode.ONLINE)
    down_since = models.DateTimeField(null=True, blank=True, help_text="First failed delivery since the last success.")
    switched_at = models.DateTimeField(null=True, blank=True)
    switched_by = models.CharField(max_length=200, blank=True, help_text="Who or what changed the mode last.")

    def __str__(self) -> str:
        return f"{self.destination}: {self.mode}"


class DeliveryBatch(models.Model):
    """One numbered batch file of events for a destination; numbers are gap-free per destination."""

    destination = models.CharField(max_length=30)
    number = models.PositiveIntegerField()
    file_name = models.CharField(max_length=200)
    event_count = models.PositiveIntegerField()
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["destination", "-number"]
        constraints = [
            models.UniqueConstraint(fields=["destination", "number"], name="delivery_batch_unique_number"),
        ]
        verbose_name_plural = "delivery batches"

    def __str__(self) -> str:
        return self.file_name


class SyncCursor(models.Model):
    """A high-water mark of a connector that polls the ERP (e.g. the last Tryton write_date seen)."""

    name = models.CharField(max_length=60, unique=True)
    value = models.CharField(max_length=100, blank=True)
    updated_at = models.DateTimeField(auto_now=True)

    def __str__(self) -> str:
        return f"{self.name} = {self.value}"


class Drift(models.Model):
    """A difference reconciliation found between the portal and the ERP. Never applied silently:
    a person looks, fixes the side that is wrong, and the next run closes it."""

    class Status(models.TextChoices):
        OPEN = "open", "Open"
        RESOLVED = "resolved", "Resolved"

    source = models.CharField(max_length=30, help_text="The system compared with, e.g. tryton.")
    purchase_order = models.CharField(max_length=35)
    line = models.PositiveIntegerField(default=0, help_text="0 for the order as a whole.")
    field = models.CharField(max_length=40)
    portal_value = models.CharField(max_length=200, blank=True)
    erp_value = models.CharField(max_length=200, blank=True)
    status = models.CharField(max_length=10, choices=Status.choices, default=Status.OPEN)
    found_at = models.DateTimeField(auto_now_add=True)
    last_seen_at = models.DateTimeField()
    resolved_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["-last_seen_at"]
        constraints = [
            models.UniqueConstraint(
                fields=["source", "purchase_order", "line", "field"],
                condition=Q(status="open"),
                name="drift_unique_open",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.purchase_order}/{self.line or '-'} {self.field}: portal {self.portal_value!r}, ERP {self.erp_value!r}"
