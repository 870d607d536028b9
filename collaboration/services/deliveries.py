"""Buyer cases for deliveries to the ERP that failed for good (dead letters), and their closing."""
from __future__ import annotations

from django.utils import timezone

from collaboration.models import ExceptionCase, PurchaseOrder


def delivery_failure_open_case(
    *, message_id: str, event_type: str, destination: str, aggregate: str, attempts: int, error: str
) -> ExceptionCase:
    """Open (once per message) a case telling buyers that an update did not reach the ERP.

    Runs inside the relay's transaction that marks the message dead. Later messages of the same
    purchase order wait behind it until a buyer replays it."""
    existing = ExceptionCase.objects.filter(
        kind=ExceptionCase.Kind.DELIVERY_FAILED, status=ExceptionCase.Status.OPEN, details__message=message_id
    ).first()
    if existing is not None:
        return existing
    po = PurchaseOrder.objects.filter(number=aggregate).select_related("supplier").first()
    return ExceptionCase.objects.create(
        kind=ExceptionCase.Kind.DELIVERY_FAILED,
        supplier=po.supplier if po else None,
        purchase_order=po,
        summary=f"{event_type} for {aggregate} not delivered to {destination} after {attempts} attempt(s)"[:300],
        details={"message": message_id, "type": event_type, "destination": destination, "aggregate": aggregate,
                 "attempts": attempts, "error": error[:500]},
    )


def delivery_failure_close_cases(*, messages) -> int:
    """Delivered outbox messages (replayed ones among them): their open cases are closed. Runs in
    the transaction that marks them delivered, before their last error is cleared; messages that
    never failed cost no query."""
    message_ids = [str(message.id) for message in messages if message.may_have_failure_case]
    if not message_ids:
        return 0
    return ExceptionCase.objects.filter(
        kind=ExceptionCase.Kind.DELIVERY_FAILED, status=ExceptionCase.Status.OPEN, details__message__in=message_ids
    ).update(status=ExceptionCase.Status.CLOSED, decided_at=timezone.now(), decision_comment="Delivered after replay.")
