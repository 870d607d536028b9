"""Reconciliation: compare the portal's orders with the ERP's and list the differences as Drift.

Nothing is overwritten on either side: a person reads the drift in the admin, fixes whichever side
is wrong, and the next run marks the drift resolved. Orders with events still on their way to the
ERP, or with a newer ERP revision not pulled yet, are skipped: they differ for a moment by design.

Only connectors that can read take part; Tryton is the first (`erp_bridge.tryton.sync`).
"""
from __future__ import annotations

import logging
from dataclasses import dataclass, field
from datetime import timedelta
from decimal import Decimal

from django.conf import settings
from django.db import transaction
from django.db.models import Sum
from django.utils import timezone

from collaboration.documents import decimal_text
from collaboration.models import PurchaseOrder, PurchaseOrderLine, ReceiptLine
from erp_bridge.models import Drift, OutboxMessage
from erp_bridge.tryton import sync as tryton_sync
from erp_bridge.tryton.client import TrytonRefused

logger = logging.getLogger(__name__)

TRYTON = "tryton"


@dataclass(frozen=True)
class Difference:
    purchase_order: str
    line: int
    field: str
    portal_value: str
    erp_value: str


@dataclass
class ReconcileReport:
    checked: int = 0
    skipped: list[str] = field(default_factory=list)
    differences: list[Difference] = field(default_factory=list)
    resolved: int = 0

    def __str__(self) -> str:
        return (f"{self.checked} order(s) compared, {len(self.skipped)} skipped (in flight), "
                f"{len(self.differences)} difference(s), {self.resolved} earlier drift(s) resolved")


def reconcile(*, numbers: list[str] | None = None) -> ReconcileReport:
    """Compare the orders of the last RECONCILE_DAYS (or the given ones) with Tryton; record what differs."""
    if not tryton_sync.is_configured():
        raise RuntimeError("Reconciliation needs a connector that can read the ERP; set TRYTON_URL.")
    report = ReconcileReport()
    orders = PurchaseOrder.objects.select_related("supplier").order_by("number")
    if numbers:
        orders = orders.filter(number__in=numbers)
    else:
        orders = orders.filter(order_date__gte=timezone.localdate() - timedelta(days=settings.RECONCILE_DAYS))
    in_flight = set(
        OutboxMessage.objects.filter(destination="erp").exclude(status=OutboxMessage.Status.DELIVERED)
        .values_list("aggregate", flat=True)
    )
    client = tryton_sync.client()
    compared: list[str] = []
    for po in orders:
        if po.number in in_flight:
            report.skipped.append(po.number)
            continue
        try:
            snapshot = client.purchase_snapshot(po.number)
        except TrytonRefused:
            snapshot = None
        if snapshot is not None and (snapshot.get("revision") or 0) + 1 > po.revision:
            report.skipped.append(po.number)  # a newer revision the next pull brings in
            continue
        report.checked += 1
        compared.append(po.number)
        report.differences += _compare(po, snapshot)
    report.resolved = _record(TRYTON, compared, report.differences)
    logger.info("reconciliation with %s: %s", TRYTON, report)
    return report


def _compare(po: PurchaseOrder, snapshot: dict | None) -> list[Difference]:
    if snapshot is None:
        return [Difference(po.number, 0, "purchase_order", po.number, "not found")]
    differences = []
    erp_lines = {line["id"]: line for line in snapshot["lines"]}
    received = dict(
        ReceiptLine.objects.filter(receipt__purchase_order=po).values("order_line__line_number")
        .annotate(total=Sum("quantity")).values_list("order_line__line_number", "total")
    )
    portal_lines = {line.line_number: line for line in po.lines.filter(is_cancelled=False)}
    for number in sorted(set(portal_lines) | set(erp_lines)):
        line, erp = portal_lines.get(number), erp_lines.get(number)
        if line is None or erp is None:
            differences.append(Difference(po.number, number, "line", "present" if line else "absent",
                                          "present" if erp else "absent"))
            continue
        pairs = [
            ("quantity", line.quantity, erp["quantity"]),
            ("unit_price", line.unit_price, erp["unit_price"]),
            ("received_quantity", received.get(number) or Decimal(0), erp["received_quantity"]),
        ]
        for name, ours, theirs in pairs:
            if Decimal(ours) != Decimal(theirs):
                differences.append(Difference(po.number, number, name, decimal_text(Decimal(ours)),
                                              decimal_text(Decimal(theirs))))
        confirmed = line.response_status == PurchaseOrderLine.ResponseStatus.CONFIRMED and line.confirmed_date
        if confirmed and erp["planned_dates"] and erp["planned_dates"] != [line.confirmed_date]:
            differences.append(Difference(po.number, number, "committed_date", line.confirmed_date.isoformat(),
                                          ", ".join(d.isoformat() for d in erp["planned_dates"])))
    return differences


def _record(source: str, compared: list[str], differences: list[Difference]) -> int:
    """Open or refresh a Drift per difference; resolve open drift of compared orders not seen again."""
    now = timezone.now()
    with transaction.atomic():
        open_drift = {
            (d.purchase_order, d.line, d.field): d
            for d in Drift.objects.select_for_update().filter(source=source, status=Drift.Status.OPEN,
                                                              purchase_order__in=compared)
        }
        for difference in differences:
            key = (difference.purchase_order, difference.line, difference.field)
            drift = open_drift.pop(key, None) or Drift(
                source=source, purchase_order=difference.purchase_order, line=difference.line, field=difference.field
            )
            drift.portal_value, drift.erp_value = difference.portal_value[:200], difference.erp_value[:200]
            drift.last_seen_at = now
            drift.save()
        Drift.objects.filter(pk__in=[d.pk for d in open_drift.values()]).update(
            status=Drift.Status.RESOLVED, resolved_at=now
        )
    return len(open_drift)
