"""Celery tasks of the relay and the batch writer: thin wrappers around `erp_bridge.relay` and `.batches`."""
from __future__ import annotations

from celery import shared_task
from django.conf import settings

from erp_bridge import batches, relay


# A delivery task claims a run of up to RUN consecutive messages of one PO (one transaction to
# claim, one to record), then goes on with the following runs itself, up to FOLLOW_ON of them,
# instead of a broker round trip per message.
RUN = 20
FOLLOW_ON = 10


@shared_task(acks_late=True, reject_on_worker_lost=True, ignore_result=True)
def deliver_message(message_id: str) -> str:
    outcome = relay.deliver(message_id, run=RUN)
    for _ in range(FOLLOW_ON):
        if outcome.status != "delivered" or outcome.next_message_id is None:
            break
        outcome = relay.deliver(outcome.next_message_id, run=RUN)
    if outcome.status == "retry":
        deliver_message.apply_async((str(outcome.message_id),), countdown=outcome.retry_in)
    elif outcome.status == "delivered" and outcome.next_message_id is not None:
        deliver_message.delay(str(outcome.next_message_id))
    return outcome.status


@shared_task(acks_late=True, reject_on_worker_lost=True, ignore_result=True)
def sweep_outbox() -> int:
    """Hand every head-of-aggregate message that has been due for a sweep interval to a worker:
    catches nudges that never arrived, without doubling the ones still on their way."""
    ids = relay.due_message_ids(overdue_for=settings.OUTBOX_SWEEP_SECONDS)
    for message_id in ids:
        deliver_message.delay(str(message_id))
    return len(ids)


@shared_task(acks_late=True, reject_on_worker_lost=True, ignore_result=True)
def write_batches() -> int:
    """Switch destinations that are batch-only or down too long to batch files, and write their files."""
    return len(batches.batches_write_due())


def replay(messages) -> list:
    """Reset undelivered messages (e.g. dead letters) and hand them to workers now."""
    ids = relay.retry_now(messages)
    for message_id in ids:
        deliver_message.delay(str(message_id))
    return ids
