"""The one door from the domain to delivery: `publish` writes an event in the caller's transaction.

After the transaction commits, `on_commit` nudges the relay; if that nudge is lost, the beat
sweeper finds the row anyway.
"""
from __future__ import annotations

from datetime import datetime

from django.db import transaction
from django.utils import timezone

from erp_bridge.models import OutboxMessage, OutboxSequence
from portal import correlation
from portal.db import locked_row

ERP = "erp"


def publish(
    *,
    type: str,
    aggregate: str,
    payload: dict,
    destination: str = ERP,
    occurred_at: datetime | None = None,
    schema_version: int = 1,
) -> OutboxMessage:
    if not transaction.get_connection().in_atomic_block:
        raise RuntimeError("outbox.publish must run inside the transaction that writes the business rows")
    sequence = _next_sequence(destination=destination, aggregate=aggregate)
    now = timezone.now()
    message = OutboxMessage.objects.create(
        destination=destination,
        type=type,
        aggregate=aggregate,
        sequence=sequence,
        occurred_at=occurred_at or now,
        schema_version=schema_version,
        payload=payload,
        next_attempt_at=now,
        correlation_id=correlation.current(),
    )
    message_id = str(message.id)

    def nudge() -> None:
        from erp_bridge.tasks import deliver_message

        deliver_message.delay(message_id)

    transaction.on_commit(nudge, robust=True)
    return message


def _next_sequence(*, destination: str, aggregate: str) -> int:
    # Insert-if-missing then lock the counter row: concurrent publishers for one aggregate queue up
    # here, so sequences are gap-free and in commit order.
    counter = locked_row(OutboxSequence, destination=destination, aggregate=aggregate)
    counter.last += 1
    counter.save(update_fields=["last"])
    return counter.last
