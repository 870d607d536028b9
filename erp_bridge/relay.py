"""The relay: claims a due outbox message, sends it outside any transaction, records the outcome.

Per destination and aggregate it sends in sequence order and never overtakes an earlier message
that is not delivered yet. A claim is a lease: a worker killed mid-send delays the message until
the lease expires, then any worker takes it again, so nothing is lost (the ERP dedupes by id).
"""
from __future__ import annotations

import logging
import random
import time
import uuid
from dataclasses import dataclass
from datetime import timedelta

from django.conf import settings
from django.db import transaction
from django.db.models import Exists, OuterRef, Q, QuerySet
from django.utils import timezone

from collaboration import services
from erp_bridge.connectors import DeliveryResult, connector_for
from erp_bridge.models import DeliveryAttempt, OutboxMessage

logger = logging.getLogger(__name__)


@dataclass(frozen=True)
class RelayOutcome:
    status: str  # "delivered", "retry", "dead", "skipped"
    retry_in: float | None = None
    next_message_id: uuid.UUID | None = None


def _claimable() -> QuerySet[OutboxMessage]:
    now = timezone.now()
    earlier_undelivered = OutboxMessage.objects.filter(
        destination=OuterRef("destination"),
        aggregate=OuterRef("aggregate"),
        sequence__lt=OuterRef("sequence"),
    ).exclude(status=OutboxMessage.Status.DELIVERED)
    return (
        OutboxMessage.objects.filter(status=OutboxMessage.Status.PENDING, next_attempt_at__lte=now)
        .filter(Q(lease_until__isnull=True) | Q(lease_until__lte=now))
        .exclude(Exists(earlier_undelivered))
    )


def due_message_ids(*, limit: int = 500) -> list[uuid.UUID]:
    """Heads of their aggregates that are due now: what the sweeper hands to workers."""
    return list(_claimable().order_by("next_attempt_at").values_list("id", flat=True)[:limit])


def backoff_seconds(attempt: int, *, retry_after: float | None = None) -> float:
    """Exponential backoff with equal jitter, never sooner than the receiver's Retry-After."""
    ceiling = min(settings.ERP_RETRY_MAX_SECONDS, settings.ERP_RETRY_BASE_SECONDS * (2 ** max(attempt - 1, 0)))
    delay = ceiling / 2 + random.uniform(0, ceiling / 2)
    if retry_after is not None:
        delay = max(delay, min(retry_after, settings.ERP_RETRY_MAX_SECONDS))
    return delay


def _claim(message_id: uuid.UUID | str) -> OutboxMessage | None:
    with transaction.atomic():
        message = (
            _claimable().select_for_update(skip_locked=True, of=("self",)).filter(id=message_id).first()
        )
        if message is None:
            return None
        message.lease_until = timezone.now() + timedelta(seconds=settings.ERP_CLAIM_LEASE_SECONDS)
        message.attempt_count += 1
        message.save(update_fields=["lease_until", "attempt_count"])
        return message


def deliver(message_id: uuid.UUID | str) -> RelayOutcome:
    message = _claim(message_id)
    if message is None:
        return RelayOutcome(status="skipped")
    started_at = timezone.now()
    clock = time.monotonic()
    result = connector_for(message.destination).send(message.envelope())
    latency_ms = int((time.monotonic() - clock) * 1000)
    return _record(message, result, started_at=started_at, latency_ms=latency_ms)


def _record(message: OutboxMessage, result: DeliveryResult, *, started_at, latency_ms: int) -> RelayOutcome:
    now = timezone.now()
    exhausted = message.attempt_count >= settings.ERP_MAX_ATTEMPTS
    if result.delivered:
        outcome, status = DeliveryAttempt.Outcome.DELIVERED, OutboxMessage.Status.DELIVERED
    elif result.permanent or exhausted:
        outcome, status = DeliveryAttempt.Outcome.FAILED, OutboxMessage.Status.DEAD
    else:
        outcome, status = DeliveryAttempt.Outcome.RETRY, OutboxMessage.Status.PENDING
    retry_in = backoff_seconds(message.attempt_count, retry_after=result.retry_after) if status == "pending" else None
    with transaction.atomic():
        DeliveryAttempt.objects.create(
            message=message,
            attempted_at=started_at,
            outcome=outcome,
            status_code=result.status_code,
            latency_ms=latency_ms,
            error=result.error,
        )
        updates = {"status": status, "lease_until": None, "last_error": result.error}
        if status == OutboxMessage.Status.DELIVERED:
            updates["delivered_at"] = now
            services.delivery_failure_close_cases(message_id=str(message.id))
        if retry_in is not None:
            updates["next_attempt_at"] = now + timedelta(seconds=retry_in)
        if status == OutboxMessage.Status.DEAD:
            services.delivery_failure_open_case(
                message_id=str(message.id), event_type=message.type, destination=message.destination,
                aggregate=message.aggregate, attempts=message.attempt_count, error=result.error,
            )
        OutboxMessage.objects.filter(id=message.id).update(**updates)
    if status == OutboxMessage.Status.DEAD:
        logger.warning("outbox message %s dead after %s attempts: %s", message.id, message.attempt_count, result.error)
        return RelayOutcome(status="dead")
    if retry_in is not None:
        return RelayOutcome(status="retry", retry_in=retry_in)
    following = (
        OutboxMessage.objects.filter(
            destination=message.destination,
            aggregate=message.aggregate,
            sequence__gt=message.sequence,
            status=OutboxMessage.Status.PENDING,
        )
        .order_by("sequence")
        .values_list("id", flat=True)
        .first()
    )
    return RelayOutcome(status="delivered", next_message_id=following)


def retry_now(messages: QuerySet[OutboxMessage]) -> list[uuid.UUID]:
    """Make pending or dead messages due at once (buyer replay); returns the ids reset. Earlier
    attempts stay on record; the attempt budget starts again."""
    with transaction.atomic():
        ids = list(messages.exclude(status=OutboxMessage.Status.DELIVERED).select_for_update().values_list("id", flat=True))
        OutboxMessage.objects.filter(id__in=ids).update(
            status=OutboxMessage.Status.PENDING, next_attempt_at=timezone.now(), lease_until=None, attempt_count=0
        )
    return ids
