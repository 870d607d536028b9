"""The outbox (events owed to the ERP), their delivery attempts, and ERP API tokens."""
import uuid

from django.db import models
from django.db.models import Q
from django.utils.translation import gettext_lazy as _


class OutboxMessage(models.Model):
    """One business event owed to a destination. The row is the truth; task messages only nudge."""

    class Status(models.TextChoices):
        PENDING = "pending", _("Pending")
        DELIVERED = "delivered", _("Delivered")
        DEAD = "dead", _("Dead letter")

    id = models.UUIDField(
        verbose_name=_("ID"), primary_key=True, default=uuid.uuid4, editable=False, help_text=_("Also the idempotency key."),
    )
    destination = models.CharField(verbose_name=_("destination"), max_length=30, default="erp")
    type = models.CharField(verbose_name=_("type"), max_length=60)
    aggregate = models.CharField(
        verbose_name=_("aggregate"), max_length=60, help_text=_("The purchase order number the event belongs to."),
    )
    sequence = models.PositiveIntegerField(verbose_name=_("sequence"), help_text=_("Gap-free per destination and aggregate."))
    occurred_at = models.DateTimeField(verbose_name=_("occurred at"))
    schema_version = models.PositiveSmallIntegerField(verbose_name=_("schema version"), default=1)
    payload = models.JSONField(verbose_name=_("payload"))
    status = models.CharField(verbose_name=_("status"), max_length=10, choices=Status.choices, default=Status.PENDING)
    attempt_count = models.PositiveIntegerField(verbose_name=_("attempt count"), default=0)
    next_attempt_at = models.DateTimeField(verbose_name=_("next attempt at"))
    lease_until = models.DateTimeField(verbose_name=_("lease until"), null=True, blank=True)
    delivered_at = models.DateTimeField(verbose_name=_("delivered at"), null=True, blank=True)
    last_error = models.TextField(verbose_name=_("last error"), blank=True)
    correlation_id = models.CharField(
        verbose_name=_("correlation ID"), max_length=64, blank=True, help_text=_("Of the request or interchange that caused it."),
    )

    class Meta:
        verbose_name = _("outbox message")
        verbose_name_plural = _("outbox messages")
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

    destination = models.CharField(verbose_name=_("destination"), max_length=30)
    aggregate = models.CharField(verbose_name=_("aggregate"), max_length=60)
    last = models.PositiveIntegerField(verbose_name=_("last"), default=0)

    class Meta:
        verbose_name = _("outbox sequence")
        verbose_name_plural = _("outbox sequences")
        constraints = [
            models.UniqueConstraint(fields=["destination", "aggregate"], name="outbox_sequence_unique"),
        ]


class DeliveryAttempt(models.Model):
    class Outcome(models.TextChoices):
        DELIVERED = "delivered", _("Delivered")
        RETRY = "retry", _("Will retry")
        FAILED = "failed", _("Failed permanently")

    message = models.ForeignKey(OutboxMessage, verbose_name=_("message"), on_delete=models.CASCADE, related_name="attempts")
    attempted_at = models.DateTimeField(verbose_name=_("attempted at"))
    outcome = models.CharField(verbose_name=_("outcome"), max_length=10, choices=Outcome.choices)
    status_code = models.PositiveSmallIntegerField(verbose_name=_("status code"), null=True, blank=True)
    latency_ms = models.PositiveIntegerField(verbose_name=_("latency (ms)"))
    error = models.TextField(verbose_name=_("error"), blank=True, help_text=_("An excerpt of the error or the response body."))

    class Meta:
        verbose_name = _("delivery attempt")
        verbose_name_plural = _("delivery attempts")
        ordering = ["message", "attempted_at", "id"]
        indexes = [models.Index(fields=["attempted_at"], name="delivery_attempt_time_idx")]


class ErpApiToken(models.Model):
    """A bearer token for the ERP's calls into the portal; only its SHA-256 is stored."""

    name = models.CharField(verbose_name=_("name"), max_length=100, unique=True)
    prefix = models.CharField(
        verbose_name=_("prefix"), max_length=12, help_text=_("The first characters, to recognise a token in logs."),
    )
    key_hash = models.CharField(verbose_name=_("key hash"), max_length=64, unique=True)
    created_at = models.DateTimeField(verbose_name=_("created at"), auto_now_add=True)
    last_used_at = models.DateTimeField(verbose_name=_("last used at"), null=True, blank=True)
    revoked_at = models.DateTimeField(verbose_name=_("revoked at"), null=True, blank=True)

    class Meta:
        verbose_name = _("ERP API token")
        verbose_name_plural = _("ERP API tokens")

    def __str__(self) -> str:
        return f"{self.name} ({self.prefix}…)"


class DestinationState(models.Model):
    """How events reach a destination: online (the relay sends each) or in numbered batch files,
    because it is configured batch-only or has been down longer than ERP_BATCH_AFTER_SECONDS."""

    class Mode(models.TextChoices):
        ONLINE = "online", _("Online")
        BATCH = "batch", _("Batch files")

    destination = models.CharField(verbose_name=_("destination"), max_length=30, unique=True)
    mode = models.CharField(verbose_name=_("mode"), max_length=10, choices=Mode.choices, default=Mode.ONLINE)
    down_since = models.DateTimeField(
        verbose_name=_("down since"), null=True, blank=True, help_text=_("First failed delivery since the last success."),
    )
    switched_at = models.DateTimeField(verbose_name=_("switched at"), null=True, blank=True)
    switched_by = models.CharField(
        verbose_name=_("switched by"), max_length=200, blank=True, help_text=_("Who or what changed the mode last."),
    )

    class Meta:
        verbose_name = _("destination state")
        verbose_name_plural = _("destination states")

    def __str__(self) -> str:
        return f"{self.destination}: {self.mode}"


class DeliveryBatch(models.Model):
    """One numbered batch file of events for a destination; numbers are gap-free per destination."""

    destination = models.CharField(verbose_name=_("destination"), max_length=30)
    number = models.PositiveIntegerField(verbose_name=_("number"))
    file_name = models.CharField(verbose_name=_("file name"), max_length=200)
    event_count = models.PositiveIntegerField(verbose_name=_("event count"))
    created_at = models.DateTimeField(verbose_name=_("created at"), auto_now_add=True)

    class Meta:
        verbose_name = _("delivery batch")
        ordering = ["destination", "-number"]
        constraints = [
            models.UniqueConstraint(fields=["destination", "number"], name="delivery_batch_unique_number"),
        ]
        verbose_name_plural = _("delivery batches")

    def __str__(self) -> str:
        return self.file_name


class SyncCursor(models.Model):
    """A high-water mark of a connector that polls the ERP (e.g. the last Tryton write_date seen)."""

    name = models.CharField(verbose_name=_("name"), max_length=60, unique=True)
    value = models.CharField(verbose_name=_("value"), max_length=100, blank=True)
    updated_at = models.DateTimeField(verbose_name=_("updated at"), auto_now=True)

    class Meta:
        verbose_name = _("sync cursor")
        verbose_name_plural = _("sync cursors")

    def __str__(self) -> str:
        return f"{self.name} = {self.value}"


class Drift(models.Model):
    """A difference reconciliation found between the portal and the ERP. Never applied silently:
    a person looks, fixes the side that is wrong, and the next run closes it."""

    class Status(models.TextChoices):
        OPEN = "open", _("Open")
        RESOLVED = "resolved", _("Resolved")

    source = models.CharField(verbose_name=_("source"), max_length=30, help_text=_("The system compared with, e.g. tryton."))
    purchase_order = models.CharField(verbose_name=_("purchase order"), max_length=35)
    line = models.PositiveIntegerField(verbose_name=_("line"), default=0, help_text=_("0 for the order as a whole."))
    field = models.CharField(verbose_name=_("field"), max_length=40)
    portal_value = models.CharField(verbose_name=_("portal value"), max_length=200, blank=True)
    erp_value = models.CharField(verbose_name=_("ERP value"), max_length=200, blank=True)
    status = models.CharField(verbose_name=_("status"), max_length=10, choices=Status.choices, default=Status.OPEN)
    found_at = models.DateTimeField(verbose_name=_("found at"), auto_now_add=True)
    last_seen_at = models.DateTimeField(verbose_name=_("last seen at"))
    resolved_at = models.DateTimeField(verbose_name=_("resolved at"), null=True, blank=True)

    class Meta:
        verbose_name = _("drift")
        verbose_name_plural = _("drifts")
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
