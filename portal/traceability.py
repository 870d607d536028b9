"""A purchase order's traceability timeline: every revision from the ERP, every supplier action with
its channel (and, for EDI, the interchange), every buyer decision, every event owed to the ERP with
each delivery attempt and the ERP's answer, receipts and quality events, in one order.

The audit trail is the backbone; correlation ids tie an EDI action to its interchange and an ERP
push to the ORDERS it caused. A fixed number of queries, however long the history.
"""
from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime

from django.db.models import Prefetch, Q
from django.urls import reverse
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from collaboration.errors import in_sentence
from collaboration.models import AuditEvent, Channel, ExceptionCase, PurchaseOrder, ShipmentLine
from edi.models import Interchange
from erp_bridge.models import DeliveryAttempt, OutboxMessage

# What an audited action is, in the words of the page, and who it came from.
ACTIONS = {
    "purchase_order.received": (gettext_lazy("Order received from the ERP"), "erp"),
    "purchase_order.revised": (gettext_lazy("New revision from the ERP"), "erp"),
    "acknowledgement.draft_saved": (gettext_lazy("Draft response saved"), "supplier"),
    "acknowledgement.draft_discarded": (gettext_lazy("Draft response discarded"), "supplier"),
    "acknowledgement.submitted": (gettext_lazy("Acknowledgement submitted"), "supplier"),
    "exception.approved": (gettext_lazy("Buyer approved the proposal"), "buyer"),
    "exception.declined": (gettext_lazy("Buyer declined the proposal"), "buyer"),
    "exception.resolved": (gettext_lazy("Buyer resolved the case"), "buyer"),
    "shipment.submitted": (gettext_lazy("Shipment notice submitted"), "supplier"),
    "shipment.corrected": (gettext_lazy("Shipment notice corrected"), "supplier"),
    "shipment.cancelled": (gettext_lazy("Shipment notice cancelled"), "supplier"),
    "receipt.recorded": (gettext_lazy("Goods received (ERP receipt)"), "receipt"),
    "quality_incident.opened": (gettext_lazy("Quality incident opened"), "quality"),
    "quality_incident.step_answered": (gettext_lazy("Supplier answered an incident step"), "quality"),
    "quality_incident.step_accepted": (gettext_lazy("Buyer reviewed an incident step"), "quality"),
    "quality_incident.closed": (gettext_lazy("Quality incident closed"), "quality"),
    "quality_document.uploaded": (gettext_lazy("Quality document uploaded"), "quality"),
    "invoice.status": (gettext_lazy("Invoice status from the ERP"), "erp"),
}


@dataclass
class Entry:
    at: datetime
    source: str  # erp | supplier | buyer | delivery | edi | receipt | quality | exception
    title: str
    channel: str = ""
    actor: str = ""
    details: list[str] = field(default_factory=list)
    links: list[tuple[str, str]] = field(default_factory=list)
    correlation_id: str = ""
    attempts: list[DeliveryAttempt] = field(default_factory=list)
    # What a row caused is written a moment before or after the audit row of the action (an event is
    # published, a case opened inside the service): it is shown right after its cause.
    cause: datetime | None = None

    @property
    def sort_key(self) -> tuple:
        return (self.cause or self.at, self.cause is not None, self.at)


def _admin(obj) -> str:
    return reverse(f"admin:{obj._meta.app_label}_{obj._meta.model_name}_change", args=[obj.pk])


def _details(event: AuditEvent) -> list[str]:
    after = event.after if isinstance(event.after, dict) else {}
    if event.action in ("purchase_order.received", "purchase_order.revised"):
        lines = after.get("lines") or []
        values = {"revision": after.get("revision"), "count": len(lines), "buyer": after.get("buyer")}
        return [(_("Revision %(revision)s: %(count)s line(s), buyer %(buyer)s") if after.get("buyer")
                 else _("Revision %(revision)s: %(count)s line(s)")) % values]
    if event.action == "acknowledgement.submitted":
        return [_("Line %(line)s: %(action)s → %(decision)s") % {
                    "line": line.get("line"), "action": line.get("action"), "decision": line.get("decision")}
                if isinstance(line, dict) else str(line)
                for line in (after.get("lines") or [])][:50]
    facts = [f"{key}: {value}" for key, value in after.items() if key not in ("lines", "purchase_order") and value not in ("", None)]
    return facts[:10]


def timeline(po: PurchaseOrder) -> list[Entry]:
    shipment_ids = {str(pk) for pk in ShipmentLine.objects.filter(order_line__purchase_order=po)
                    .values_list("shipment_id", flat=True).distinct()}
    events = list(AuditEvent.objects.filter(
        Q(purchase_order=po.number) | Q(object_type="collaboration.shipment", object_id__in=shipment_ids))
        .order_by("occurred_at", "id"))
    first_with_id: dict[str, datetime] = {}
    audited: dict[tuple[str, str], datetime] = {}
    for event in events:
        if event.correlation_id:
            first_with_id.setdefault(event.correlation_id, event.occurred_at)
        audited[event.object_type, event.object_id] = event.occurred_at
    interchanges = _interchanges(po, set(first_with_id))
    entries = []
    for event in events:
        title, source = ACTIONS.get(event.action, (event.action.replace("_", " ").replace(".", ": "), "supplier"))
        entry = Entry(at=event.occurred_at, source=source, title=str(title), channel=event.get_channel_display(),
                      actor=event.actor_label, details=_details(event), correlation_id=event.correlation_id)
        if event.object_type == "collaboration.shipment" and event.after:
            entry.title += f" {event.after.get('number', '')}".rstrip()
        if event.channel == Channel.EDI:
            entry.links += [(_("Interchange %(reference)s from %(sender)s") % {"reference": i.control_ref, "sender": i.sender},
                             _admin(i))
                            for i in interchanges if i.direction == Interchange.Direction.INBOUND
                            and i.correlation_id == event.correlation_id]
        entries.append(entry)
    for interchange in interchanges:
        if interchange.direction == Interchange.Direction.OUTBOUND:
            entries.append(Entry(
                at=interchange.created_at, source="edi", channel="EDI", actor=interchange.recipient,
                title=_("%(message_types)s sent to the supplier by EDIFACT") % {"message_types": ", ".join(interchange.message_types)},
                details=[_("Interchange %(reference)s: %(status)s") % {
                    "reference": interchange.control_ref, "status": interchange.get_status_display()}],
                links=[(_("Interchange %(reference)s") % {"reference": interchange.control_ref}, _admin(interchange))],
                correlation_id=interchange.correlation_id, cause=first_with_id.get(interchange.correlation_id)))
    for case in ExceptionCase.objects.filter(purchase_order=po).select_related("response").order_by("opened_at", "id"):
        cause = (audited.get(("collaboration.acknowledgement", str(case.response.acknowledgement_id))) if case.response
                 else audited.get(("collaboration.receipt", str(case.receipt_id))))
        entries.append(Entry(at=case.opened_at, source="exception",
                             title=_("Exception opened: %(kind)s") % {"kind": case.get_kind_display()},
                             details=[case.summary, _("Status: %(status)s") % {"status": case.get_status_display()}],
                             links=[(_("Case #%(number)s") % {"number": case.pk}, _admin(case))], cause=cause))
    attempts = Prefetch("attempts", queryset=DeliveryAttempt.objects.order_by("attempted_at", "id"))
    for message in OutboxMessage.objects.filter(aggregate=po.number).prefetch_related(attempts).order_by("occurred_at", "sequence"):
        entries.append(Entry(
            at=message.occurred_at, source="delivery", channel=message.destination.upper(),
            title=_("Event %(type)s #%(sequence)s to %(destination)s: %(status)s") % {
                "type": message.type, "sequence": message.sequence, "destination": message.destination,
                "status": in_sentence(message.get_status_display())},
            details=[_("Delivered %(at)s") % {"at": f"{message.delivered_at:%Y-%m-%d %H:%M:%S}"}] if message.delivered_at else [],
            links=[(_("Outbox message"), _admin(message))], correlation_id=message.correlation_id,
            attempts=list(message.attempts.all()), cause=first_with_id.get(message.correlation_id)))
    entries.sort(key=lambda entry: entry.sort_key)
    return entries


def _interchanges(po: PurchaseOrder, correlation_ids: set[str]) -> list[Interchange]:
    """Inbound interchanges whose processing touched the order; outbound ones that carried it."""
    if not correlation_ids:
        return []
    found = []
    for interchange in Interchange.objects.filter(correlation_id__in=correlation_ids).exclude(message_types=["CONTRL"]):
        # An ERP push of many orders shares one id; an outbound interchange counts if it names this one.
        if interchange.direction == Interchange.Direction.INBOUND or po.number.encode() in bytes(interchange.raw):
            found.append(interchange)
    return found
