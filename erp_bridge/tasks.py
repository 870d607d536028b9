"""Celery tasks of the relay: thin wrappers that take ids and call `erp_bridge.relay`."""
from __future__ import annotations

from celery import shared_task

from erp_bridge import relay


# A task that delivered a message goes on with the next ones of the same PO itself, up to this
# many, instead of a broker round trip per message; every one is still claimed with a lease.
FOLLOW_ON = 20


@shared_task(acks_late=True, reject_on_worker_lost=True, ignore_result=True)
def deliver_message(message_id: str) -> str:
    outcome = relay.deliver(message_id)
    for _ in range(FOLLOW_ON):
        if outcome.status != "delivered" or outcome.next_message_id is None:
            break
        message_id = str(outcome.next_message_id)
        outcome = relay.deliver(message_id)
    if outcome.status == "retry":
        deliver_message.apply_async((message_id,), countdown=outcome.retry_in)
    elif outcome.next_message_id is not None:
        deliver_message.delay(str(outcome.next_message_id))
    return outcome.status


@shared_task(acks_late=True, reject_on_worker_lost=True, ignore_result=True)
def sweep_outbox() -> int:
    """Hand every due head-of-aggregate message to a worker: catches nudges that never arrived."""
    ids = relay.due_message_ids()
    for message_id in ids:
        deliver_message.delay(str(message_id))
    return len(ids)


def replay(messages) -> list:
    """Reset undelivered messages (e.g. dead letters) and hand them to workers now."""
    ids = relay.retry_now(messages)
    for message_id in ids:
        deliver_message.delay(str(message_id))
    return ids
