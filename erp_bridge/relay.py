"""The relay: claims a due outbox message, sends it outside any transaction, records the outcome.

Per destination and aggregate it sends in sequence order and never overtakes an earlier message
that is not delivered yet. A claim is a lease: a worker killed mid-send delays the message until
the lease expires, then any worker takes it again, so nothing is lost (the ERP dedupes by id).
A destination in batch mode (erp_bridge/batches.py) is left alone: the batch writer takes its messages.
"""
from __future__ import annotations

import logging
import random
import time
import uuid
from dataclasses import dataclass
from datetime import datetime, timedelta

from django.conf import settings
from django.db import transaction
from django.db.models import Exists, F, OuterRef, QuerySet
from django.utils import timezone

from collaboration import services
from erp_bridge import batches
from erp_bridge.connectors import DeliveryResult, connector_for
from erp_bridge.models import DeliveryAttempt, OutboxMessage
from portal import correlation

logger = logging.getLogger(__name__)


@dataclass(frozen=True)
class RelayOutcome:
    # Of the last message tried: "delivered", "retry", "dead"; "skipped" if none was due; "batched" if
    # its destination takes batch files now (nothing claimed, no attempt counted).
    status: str
    retry_in: float | None = None
    message_id: uuid.UUID | None = None  # the last message tried
    next_message_id: uuid.UUID | None = None  # the next pending message of the aggregate, after a delivery
    delivered: int = 0


def _claimable() -> QuerySet[OutboxMessage]:
    now = timezone.now()
    earlier_undelivered = OutboxMessage.objects.filter(
        destination=OuterRef("destination"),
        aggregate=OuterRef("aggregate"),
        sequence__lt=OuterRef("sequence"),
    ).exclude(status=OutboxMessage.Status.DELIVERED)
    return (
        OutboxMessage.objects.filter(status=OutboxMessage.Status.PENDING, next_attempt_at__lte=now)
        .filter(OutboxMessage.lease_free(now))
        .exclude(Exists(earlier_undelivered))
    )


def due_message_ids(*, limit: int = 500, overdue_for: float = 0) -> list[uuid.UUID]:
    """Heads of their aggregates that are due now, or that have been due for `overdue_for` seconds:
    what the sweeper hands to workers (a message due a moment ago still has its nudge coming)."""
    cutoff = timezone.now() - timedelta(seconds=overdue_for)
    due = _claimable().filter(next_attempt_at__lte=cutoff).exclude(destination__in=batches.batch_destinations())
    return list(due.order_by("next_attempt_at").values_list("id", flat=True)[:limit])


def backoff_seconds(attempt: int, *, retry_after: float | None = None) -> float:
    """Exponential backoff with equal jitter, never sooner than the receiver's Retry-After."""
    ceiling = min(settings.ERP_RETRY_MAX_SECONDS, settings.ERP_RETRY_BASE_SECONDS * (2 ** max(attempt - 1, 0)))
    delay = ceiling / 2 + random.uniform(0, ceiling / 2)
    if retry_after is not None:
        delay = max(delay, min(retry_after, settings.ERP_RETRY_MAX_SECONDS))
    return delay


def _claim(message_id: uuid.UUID | str, *, run: int) -> list[OutboxMessage] | None:
    """Lease the message, if it is due and the head of its aggregate, and up to `run - 1` due messages
    that directly follow it, in one transaction. None if its destination takes batch files now."""
    with transaction.atomic():
        _relaxed_commit()
        head = _claimable().select_for_update(skip_locked=True, of=("self",)).filter(id=message_id).first()
        if head is None:
            return []
        if batches.in_batch_mode(head.destination):
            return None
        claimed = [head]
        if run > 1:
            now = timezone.now()
            following = (
                OutboxMessage.objects.select_for_update(skip_locked=True)
                .filter(
                    destination=head.destination,
                    aggregate=head.aggregate,
                    status=OutboxMessage.Status.PENDING,
                    sequence__gt=head.sequence,
                    sequence__lt=head.sequence + run,
                    next_attempt_at__lte=now,
                )
                .filter(OutboxMessage.lease_free(now))
                .order_by("sequence")
            )
            for message in following:
                if message.sequence != claimed[-1].sequence + 1:
                    break  # a gap: that one is leased elsewhere or not due; stop before it
                claimed.append(message)
        lease_until = timezone.now() + timedelta(seconds=settings.ERP_CLAIM_LEASE_SECONDS)
        OutboxMessage.objects.filter(id__in=[m.id for m in claimed]).update(
            lease_until=lease_until, attempt_count=F("attempt_count") + 1
        )
        for message in claimed:
            message.attempt_count += 1
        return claimed


@dataclass(frozen=True)
class _Sent:
    message: OutboxMessage
    result: DeliveryResult
    started_at: datetime
    finished_at: datetime
    latency_ms: int


def deliver(message_id: uuid.UUID | str, *, run: int = 1) -> RelayOutcome:
    """Claim the message and up to `run - 1` messages that follow it, send them in order until one
    fails, and record every outcome in one transaction."""
    claimed = _claim(message_id, run=run)
    if claimed is None:
        return RelayOutcome(status="batched")
    if not claimed:
        return RelayOutcome(status="skipped")
    connector = connector_for(claimed[0].destination)
    # Stop sending well before the lease ends, so no other worker can take a message we still send.
    stop_after = time.monotonic() + settings.ERP_CLAIM_LEASE_SECONDS / 2
    sent: list[_Sent] = []
    for message in claimed:
        if sent and time.monotonic() > stop_after:
            break
        started_at, clock = timezone.now(), time.monotonic()
        # The ERP call runs (and logs) under the id of the request or interchange that caused the event.
        with correlation.bound(message.correlation_id or None):
            result = connector.send(message.envelope())
            latency_ms = int((time.monotonic() - clock) * 1000)
            logger.info("%s %s#%s to %s: %s", message.type, message.aggregate, message.sequence, message.destination,
                        "delivered" if result.delivered else ("failed" if result.permanent else "will retry"),
                        extra={"event": str(message.id), "attempt": message.attempt_count, "status_code": result.status_code,
                               "latency_ms": latency_ms})
        sent.append(_Sent(message, result, started_at, timezone.now(), latency_ms))
        if not result.delivered:
            break
    return _record(claimed, sent)


def _record(claimed: list[OutboxMessage], sent: list[_Sent]) -> RelayOutcome:
    now = timezone.now()
    delivered = [s for s in sent if s.result.delivered]
    failed = None if sent[-1].result.delivered else sent[-1]
    unsent = [m.id for m in claimed[len(sent):]]
    status, retry_in = OutboxMessage.Status.DELIVERED, None
    if failed is not None:
        message, result = failed.message, failed.result
        if result.permanent or message.attempt_count >= settings.ERP_MAX_ATTEMPTS:
            status = OutboxMessage.Status.DEAD
        else:
            status = OutboxMessage.Status.PENDING
            retry_in = backoff_seconds(message.attempt_count, retry_after=result.retry_after)
    outcomes = {
        OutboxMessage.Status.DELIVERED: DeliveryAttempt.Outcome.DELIVERED,
        OutboxMessage.Status.PENDING: DeliveryAttempt.Outcome.RETRY,
        OutboxMessage.Status.DEAD: DeliveryAttempt.Outcome.FAILED,
    }
    with transaction.atomic():
        _relaxed_commit()
        DeliveryAttempt.objects.bulk_create([
            DeliveryAttempt(
                message=s.message,
                attempted_at=s.started_at,
                outcome=outcomes[OutboxMessage.Status.DELIVERED if s.result.delivered else status],
                status_code=s.result.status_code,
                latency_ms=s.latency_ms,
                error=s.result.error,
            )
            for s in sent
        ])
        if delivered:
            services.delivery_failure_close_cases(messages=[s.message for s in delivered])
            for s in delivered:
                s.message.status, s.message.delivered_at = OutboxMessage.Status.DELIVERED, s.finished_at
                s.message.lease_until, s.message.last_error = None, ""
            OutboxMessage.objects.bulk_update(
                [s.message for s in delivered], ["status", "delivered_at", "lease_until", "last_error"]
            )
        if failed is not None:
            updates = {"status": status, "lease_until": None, "last_error": failed.result.error}
            if retry_in is not None:
                updates["next_attempt_at"] = now + timedelta(seconds=retry_in)
            else:
                services.delivery_failure_open_case(
                    message_id=str(failed.message.id), event_type=failed.message.type,
                    destination=failed.message.destination, aggregate=failed.message.aggregate,
                    attempts=failed.message.attempt_count, error=failed.result.error,
                )
            OutboxMessage.objects.filter(id=failed.message.id).update(**updates)
        if unsent:
            # Claimed but not tried (an earlier one failed): back to the queue, the attempt not counted.
            OutboxMessage.objects.filter(id__in=unsent).update(lease_until=None, attempt_count=F("attempt_count") - 1)
        # Down from the first message the destination could not take; up again once it answers
        # (a refusal answers too). Writes only when that changes.
        if failed is not None and not failed.result.permanent:
            batches.delivery_failed(failed.message.destination, at=failed.started_at)
        else:
            batches.delivery_succeeded(claimed[0].destination)
    if failed is not None:
        message = failed.message
        if status == OutboxMessage.Status.DEAD:
            logger.warning("outbox message %s dead after %s attempts: %s", message.id, message.attempt_count,
                           failed.result.error)
        return RelayOutcome(status="dead" if status == OutboxMessage.Status.DEAD else "retry", retry_in=retry_in,
                            message_id=message.id, delivered=len(delivered))
    last = delivered[-1].message
    following = (
        OutboxMessage.objects.filter(
            destination=last.destination,
            aggregate=last.aggregate,
            sequence__gt=last.sequence,
            status=OutboxMessage.Status.PENDING,
        )
        .order_by("sequence")
        .values_list("id", flat=True)
        .first()
    )
    return RelayOutcome(status="delivered", message_id=last.id, next_message_id=following, delivered=len(delivered))


def _relaxed_commit() -> None:
    """The relay's own bookkeeping may commit without waiting for the WAL flush (PostgreSQL). A
    database crash can then forget the last moments of claims and outcomes: a lease is taken again
    or a delivered message is sent once more, which the receiver dedupes by its idempotency key.
    Business rows and outbox rows are never written this way."""
    connection = transaction.get_connection()
    if connection.vendor == "postgresql":
        with connection.cursor() as cursor:
            cursor.execute("SET LOCAL synchronous_commit TO OFF")


def retry_now(messages: QuerySet[OutboxMessage]) -> list[uuid.UUID]:
    """Make pending or dead messages due at once (buyer replay); returns the ids reset. Earlier
    attempts stay on record; the attempt budget starts again."""
    with transaction.atomic():
        ids = list(messages.exclude(status=OutboxMessage.Status.DELIVERED).select_for_update().values_list("id", flat=True))
        OutboxMessage.objects.filter(id__in=ids).update(
            status=OutboxMessage.Status.PENDING, next_attempt_at=timezone.now(), lease_until=None, attempt_count=0
        )
    return ids
