"""Celery tasks of the EDI channel: thin wrappers around the mailbox poller and the outbound writer."""
from __future__ import annotations

from celery import shared_task

from edi import mailbox, outbound


@shared_task(acks_late=True, reject_on_worker_lost=True, ignore_result=True)
def poll_mailboxes() -> int:
    """Take every new file from the partners' inbound mailboxes, then write the answers."""
    results = mailbox.poll_mailboxes()
    outbound.write_pending()
    return len(results)


@shared_task(acks_late=True, reject_on_worker_lost=True, ignore_result=True)
def write_outbound() -> int:
    """Write pending ORDERS, ORDCHG and CONTRL interchanges to the partners' outbound mailboxes."""
    return len(outbound.write_pending())
