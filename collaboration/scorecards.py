"""Supplier scorecards: how a supplier performed over a period, from what the portal recorded.

Every measure is a share of countable things (so a buyer can check it by hand) and each is computed
for all the suppliers asked for at once, in a fixed number of grouped queries:

- acknowledgement on time: answers submitted in the period by their due date, out of those answers
  plus the orders whose answer fell due in the period and is still missing;
- acknowledgement accuracy: answered lines accepted at once (as ordered or within tolerance), out of
  all answered lines of those answers (lines superseded by a change order left out);
- on-time delivery: receipt lines booked in the period on or before the committed date (the
  confirmed date, else the requested one), out of all receipt lines booked in the period;
- quantity accuracy: order lines with goods booked in the period whose receipts up to the period's
  end add up to exactly the committed quantity (confirmed, else ordered), out of those lines (from
  each line's running total of what it received, less what came after the period);
- ASN accuracy: ASNs despatched in the period and received, that were received as announced;
- quality incidents per 1,000 units: incidents opened in the period per 1,000 units booked in it.
"""
from __future__ import annotations

import csv
import io
from dataclasses import dataclass
from datetime import date, datetime, time, timedelta
from decimal import Decimal

from django.db import connection
from django.db.models import Count, DecimalField, F, OuterRef, Q, Subquery, Sum, Value
from django.db.models.functions import Coalesce, TruncDate
from django.utils import timezone

from collaboration.actors import Actor
from collaboration.errors import NotFound
from collaboration.models import (
    Acknowledgement,
    AcknowledgementLine,
    PurchaseOrder,
    PurchaseOrderLine,
    QualityIncident,
    Receipt,
    ReceiptLine,
    Shipment,
    Supplier,
)

MEASURED_DECISIONS = [AcknowledgementLine.Decision.AUTO_ACCEPTED, AcknowledgementLine.Decision.PENDING,
                      AcknowledgementLine.Decision.APPROVED, AcknowledgementLine.Decision.DECLINED]


@dataclass(frozen=True)
class Rate:
    hits: int
    total: int

    @property
    def percent(self) -> Decimal | None:
        if not self.total:
            return None
        return (Decimal(self.hits) * 100 / self.total).quantize(Decimal("0.1"))


@dataclass(frozen=True)
class Scorecard:
    supplier: Supplier
    start: date
    end: date
    acknowledgement_on_time: Rate
    acknowledgement_accuracy: Rate
    on_time_delivery: Rate
    quantity_accuracy: Rate
    asn_accuracy: Rate
    incidents: int
    units_received: Decimal

    @property
    def rates(self) -> list[Rate]:
        return [self.acknowledgement_on_time, self.acknowledgement_accuracy, self.on_time_delivery, self.quantity_accuracy,
                self.asn_accuracy]

    @property
    def incidents_per_thousand(self) -> Decimal | None:
        if not self.units_received:
            return None
        return (Decimal(self.incidents) * 1000 / self.units_received).quantize(Decimal("0.01"))


def _bounds(start: date, end: date) -> tuple[datetime, datetime]:
    """The period as aware datetimes: from the start of `start` to the start of the day after `end`."""
    zone = timezone.get_current_timezone()
    return (datetime.combine(start, time.min, tzinfo=zone), datetime.combine(end + timedelta(days=1), time.min, tzinfo=zone))


def _grouped(queryset, key: str, **aggregates) -> dict[int, dict]:
    return {row[key]: row for row in queryset.values(key).annotate(**aggregates).order_by()}


def scorecards(*, start: date, end: date, suppliers: list[Supplier], today: date | None = None) -> list[Scorecard]:
    """One scorecard per supplier, in the order given."""
    today = today or timezone.localdate()
    since, until = _bounds(start, end)
    ids = [supplier.pk for supplier in suppliers]
    answers = Acknowledgement.objects.filter(purchase_order__supplier_id__in=ids, submitted_at__gte=since,
                                             submitted_at__lt=until).exclude(status=Acknowledgement.Status.DRAFT)
    answered = _grouped(
        answers.annotate(day=TruncDate("submitted_at")), "purchase_order__supplier_id",
        total=Count("id"), on_time=Count("id", filter=Q(due_on__isnull=True) | Q(day__lte=F("due_on"))))
    # Orders whose answer fell due in the period (before today) and never came count as late.
    missing = _grouped(
        PurchaseOrder.objects.filter(supplier_id__in=ids, status__in=PurchaseOrder.OPEN_STATUSES,
                                     acknowledgement_due__gte=start, acknowledgement_due__lte=min(end, today - timedelta(days=1))),
        "supplier_id", n=Count("id"))
    accuracy = _grouped(
        AcknowledgementLine.objects.filter(acknowledgement__in=answers, decision__in=MEASURED_DECISIONS),
        "acknowledgement__purchase_order__supplier_id",
        total=Count("id"), auto=Count("id", filter=Q(decision=AcknowledgementLine.Decision.AUTO_ACCEPTED)))
    booked = ReceiptLine.objects.filter(receipt__purchase_order__supplier_id__in=ids, receipt__received_on__gte=start,
                                        receipt__received_on__lte=end, quantity__gt=0)
    delivery = _grouped(
        booked.annotate(committed=Coalesce("order_line__confirmed_date", "order_line__requested_date")),
        "receipt__purchase_order__supplier_id",
        total=Count("id"), on_time=Count("id", filter=Q(receipt__received_on__lte=F("committed"))),
        units=Sum("quantity"))
    quantity = _quantity_accuracy(booked, end=end, later_receipts=Receipt.objects.filter(
        purchase_order__supplier_id__in=ids, received_on__gt=end).exists())
    asns = _grouped(
        Shipment.objects.filter(supplier_id__in=ids, status=Shipment.Status.SUBMITTED, despatch_date__gte=start,
                                despatch_date__lte=end,
                                receipt_status__in=[Shipment.ReceiptStatus.RECEIVED, Shipment.ReceiptStatus.DIFFERENCES]),
        "supplier_id", total=Count("id"), exact=Count("id", filter=Q(receipt_status=Shipment.ReceiptStatus.RECEIVED)))
    incidents = _grouped(QualityIncident.objects.filter(supplier_id__in=ids, opened_at__gte=since, opened_at__lt=until),
                         "supplier_id", n=Count("id"))
    cards = []
    for supplier in suppliers:
        pk = supplier.pk
        ack = answered.get(pk, {})
        late_missing = missing.get(pk, {}).get("n", 0)
        cards.append(Scorecard(
            supplier=supplier, start=start, end=end,
            acknowledgement_on_time=Rate(ack.get("on_time", 0), ack.get("total", 0) + late_missing),
            acknowledgement_accuracy=Rate(accuracy.get(pk, {}).get("auto", 0), accuracy.get(pk, {}).get("total", 0)),
            on_time_delivery=Rate(delivery.get(pk, {}).get("on_time", 0), delivery.get(pk, {}).get("total", 0)),
            quantity_accuracy=quantity.get(pk, Rate(0, 0)),
            asn_accuracy=Rate(asns.get(pk, {}).get("exact", 0), asns.get(pk, {}).get("total", 0)),
            incidents=incidents.get(pk, {}).get("n", 0),
            units_received=delivery.get(pk, {}).get("units") or Decimal(0),
        ))
    return cards


def _quantity_accuracy(booked, *, end: date, later_receipts: bool) -> dict[int, Rate]:
    """Order lines with goods booked in the period: whether what they received by the period's end
    (all they received, less what came after it) is their committed quantity; counted per supplier
    in the database, so a year of a large plant's lines never travels."""
    later = (ReceiptLine.objects.filter(order_line_id=OuterRef("pk"), receipt__received_on__gt=end).order_by()
             .values("order_line_id").annotate(total=Sum("quantity")).values("total"))
    # A period up to today has nothing after it: the running total is the answer.
    received_later = Coalesce(Subquery(later), Decimal(0), output_field=DecimalField()) if later_receipts else Value(Decimal(0))
    per_line = (
        PurchaseOrderLine.objects.filter(id__in=booked.values("order_line_id"))
        .annotate(by_end=F("received_quantity") - received_later,
                  committed=Coalesce("confirmed_quantity", "quantity", output_field=DecimalField()))
        .values("purchase_order__supplier_id", "by_end", "committed")
        .order_by()
    )
    sql, params = per_line.query.sql_with_params()
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT purchase_order__supplier_id, COUNT(*), SUM(CASE WHEN by_end = committed THEN 1 ELSE 0 END)"
            f" FROM ({sql}) AS per_line GROUP BY purchase_order__supplier_id", params)
        return {supplier_id: Rate(int(hits), total) for supplier_id, total, hits in cursor.fetchall()}


def suppliers_for_actor(*, actor: Actor, code: str = "") -> list[Supplier]:
    """Staff see every supplier (or the one asked for); a supplier's users see only their own."""
    suppliers = Supplier.objects.all() if actor.is_staff else Supplier.objects.filter(pk__in=actor.supplier_ids)
    if code:
        suppliers = suppliers.filter(code=code)
        if not suppliers.exists():
            raise NotFound(f"Supplier {code} not found.")
    return list(suppliers.order_by("code"))


CSV_COLUMNS = [
    "supplier", "name", "period_start", "period_end",
    "acknowledgement_on_time_pct", "acknowledgements_on_time", "acknowledgements_due",
    "acknowledgement_accuracy_pct", "lines_auto_accepted", "lines_answered",
    "on_time_delivery_pct", "receipt_lines_on_time", "receipt_lines",
    "quantity_accuracy_pct", "order_lines_exact", "order_lines_received",
    "asn_accuracy_pct", "asns_as_announced", "asns_received",
    "incidents", "units_received", "incidents_per_1000_units",
]


def scorecards_csv(cards: list[Scorecard]) -> str:
    def text(value) -> str:
        return "" if value is None else f"{value:f}" if isinstance(value, Decimal) else str(value)

    out = io.StringIO()
    writer = csv.writer(out)
    writer.writerow(CSV_COLUMNS)
    for card in cards:
        row = [card.supplier.code, card.supplier.name, card.start.isoformat(), card.end.isoformat()]
        for rate in card.rates:
            row += [rate.percent, rate.hits, rate.total]
        row += [card.incidents, card.units_received.normalize() if card.units_received else 0, card.incidents_per_thousand]
        writer.writerow([text(value) for value in row])
    return out.getvalue()
