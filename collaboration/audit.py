"""Writes the audit trail; services call `audit_record` inside their transaction."""
from __future__ import annotations

from typing import Any

from collaboration.actors import Actor
from collaboration.models import AuditEvent, Supplier


def audit_record(
    *,
    actor: Actor,
    action: str,
    obj: Any,
    supplier: Supplier | None,
    before: dict | None = None,
    after: dict | None = None,
) -> AuditEvent:
    return AuditEvent.objects.create(
        actor=actor.user,
        actor_label=actor.label,
        channel=actor.channel,
        action=action,
        supplier=supplier,
        object_type=obj._meta.label_lower,
        object_id=str(obj.pk),
        before=before,
        after=after,
    )
