"""Writes the audit trail; services call `audit_record` (or `audit_event` + bulk_create for batches) inside their transaction."""
from __future__ import annotations

from typing import Any

from collaboration.actors import Actor
from collaboration.models import AuditEvent, Supplier
from portal import correlation


def audit_record(
    *,
    actor: Actor,
    action: str,
    obj: Any,
    supplier: Supplier | None,
    before: dict | None = None,
    after: dict | None = None,
    purchase_order: str = "",
) -> AuditEvent:
    event = audit_event(
        actor=actor, action=action, obj=obj, supplier=supplier, before=before, after=after, purchase_order=purchase_order
    )
    event.save()
    return event


def audit_event(
    *,
    actor: Actor,
    action: str,
    obj: Any,
    supplier: Supplier | None,
    before: dict | None = None,
    after: dict | None = None,
    purchase_order: str = "",
) -> AuditEvent:
    """An unsaved audit row, for services that write many at once."""
    return AuditEvent(
        actor=actor.user,
        actor_label=actor.label,
        channel=actor.channel,
        action=action,
        supplier=supplier,
        object_type=obj._meta.label_lower,
        object_id=str(obj.pk),
        before=before,
        after=after,
        purchase_order=purchase_order or getattr(obj, "number", ""),
        correlation_id=correlation.current(),
    )
