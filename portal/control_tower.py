"""The buyers' control tower: what needs a buyer today, counted in a fixed handful of aggregate
queries whatever the data, each count leading to the list behind it, and daily trends.

It reads every app (orders, exceptions, shipments, quality, EDI, the outbox), which is why it sits in
the project package like /metrics, and changes nothing.
"""
from __future__ import annotations

from dataclasses import dataclass
from urllib.parse import urlencode
from datetime import date, datetime, timedelta

from django.db.models import Count, DurationField, ExpressionWrapper, F, Max, Q, QuerySet
from django.db.models.functions import TruncDate
from django.urls import reverse
from django.utils import formats, timezone
from django.utils.functional import lazy
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy, ngettext, ngettext_lazy, pgettext

from collaboration.models import (
    Acknowledgement,
    ExceptionCase,
    IncidentStep,
    PurchaseOrder,
    QualityDocument,
    QualityIncident,
    Shipment,
    Supplier,
)
from edi.models import Interchange
from erp_bridge.models import DeliveryAttempt, OutboxMessage
from portal import charts
from portal.metrics import delivery_figures, duration_text

DUE_SOON_DAYS = 2  # "due soon": today, tomorrow or the day after
EXPIRING_DAYS = 30
EDI_DAYS = 7
TREND_DAYS = 30
# (key, label, opened at least this many days ago, and less than this many)
AGE_BUCKETS = (("today", gettext_lazy("under a day"), 0, 1), ("week", gettext_lazy("1–7 days"), 1, 8),
               ("older", gettext_lazy("over a week"), 8, None))
RECEIPT_KINDS = [k for k in ExceptionCase.Kind.values if k.startswith("receipt_")]


@dataclass(frozen=True)
class Filters:
    supplier: Supplier | None = None
    buyer: str = ""

    @property
    def query(self) -> str:
        """The filters as a query string, for links that keep them."""
        return urlencode([(name, value) for name, value in (("supplier", self.supplier.code if self.supplier else ""),
                                                             ("buyer", self.buyer)) if value])

    def orders(self, queryset: QuerySet, path: str = "") -> QuerySet:
        """Rows of (or reached through `path` from) purchase orders of the chosen supplier and buyer."""
        if self.supplier:
            queryset = queryset.filter(**{f"{path}supplier": self.supplier})
        if self.buyer:
            queryset = queryset.filter(**{f"{path}buyer": self.buyer})
        return queryset

    def suppliers(self, queryset: QuerySet, supplier_path: str = "supplier") -> QuerySet:
        """Rows of a supplier rather than an order: a buyer's are those of the suppliers they order from."""
        if self.supplier:
            queryset = queryset.filter(**{supplier_path: self.supplier})
        if self.buyer:
            queryset = queryset.filter(**{f"{supplier_path}__in": buyer_suppliers(self.buyer)})
        return queryset


def buyer_suppliers(buyer: str) -> QuerySet:
    return PurchaseOrder.objects.filter(buyer=buyer).values("supplier_id").distinct()


def buyers() -> list[str]:
    return list(PurchaseOrder.objects.exclude(buyer="").order_by("buyer").values_list("buyer", flat=True).distinct())


# --- the lists behind the counts -----------------------------------------------------------------

def _with_days(message, days: int):
    """A list title (`ngettext_lazy` counting "days") for a number of days, translated when shown:
    the titles are made at import."""
    return lazy(lambda: message % {"days": days}, str)()


@dataclass(frozen=True)
class Drilldown:
    key: str
    title: str
    model: type
    queryset: object  # (filters, today, now) -> QuerySet of `model`
    order_by: tuple[str, ...]


def _open_orders(f: Filters, today: date, now: datetime) -> QuerySet:
    return f.orders(PurchaseOrder.objects.filter(status__in=PurchaseOrder.OPEN_STATUSES))


def _cases(f: Filters) -> QuerySet:
    """A buyer's cases are those of their orders; a supplier's, all of the supplier's."""
    cases = ExceptionCase.objects.all()
    return f.orders(cases, "purchase_order__") if f.buyer else f.suppliers(cases)


def _open_cases(f: Filters, today: date, now: datetime) -> QuerySet:
    return _cases(f).filter(status=ExceptionCase.Status.OPEN)


def _unreceived(f: Filters, today: date, now: datetime) -> QuerySet:
    return f.suppliers(Shipment.objects.filter(status=Shipment.Status.SUBMITTED))


def _documents(f: Filters, today: date, now: datetime) -> QuerySet:
    return f.suppliers(QualityDocument.objects.all())


def _incidents(f: Filters, today: date, now: datetime) -> QuerySet:
    return f.suppliers(QualityIncident.objects.filter(status=QualityIncident.Status.OPEN))


def _interchanges(f: Filters, today: date, now: datetime) -> QuerySet:
    failed = (Q(direction=Interchange.Direction.INBOUND, status__in=[Interchange.Status.REJECTED, Interchange.Status.PARTIALLY_ACCEPTED])
              | Q(direction=Interchange.Direction.OUTBOUND, status=Interchange.Status.REFUSED))
    return f.suppliers(Interchange.objects.filter(failed, created_at__gte=now - timedelta(days=EDI_DAYS)), "partner__supplier")


def _events(f: Filters, events: QuerySet) -> QuerySet:
    """Outbox events of the chosen supplier's or buyer's orders (an event's aggregate is its PO number)."""
    if f.supplier or f.buyer:
        events = events.filter(aggregate__in=f.orders(PurchaseOrder.objects.all()).values("number"))
    return events


def _dead_letters(f: Filters, today: date, now: datetime) -> QuerySet:
    return _events(f, OutboxMessage.objects.filter(status=OutboxMessage.Status.DEAD))


DRILLDOWNS = {d.key: d for d in [
    Drilldown("acknowledgement-open", gettext_lazy("Orders awaiting acknowledgement"), PurchaseOrder, _open_orders, ("acknowledgement_due", "number")),
    Drilldown("acknowledgement-due-soon",
              _with_days(ngettext_lazy("Acknowledgements due in the next %(days)s day",
                                       "Acknowledgements due in the next %(days)s days", "days"), DUE_SOON_DAYS + 1),
              PurchaseOrder,
              lambda f, today, now: _open_orders(f, today, now).filter(
                  acknowledgement_due__gte=today, acknowledgement_due__lte=today + timedelta(days=DUE_SOON_DAYS)),
              ("acknowledgement_due", "number")),
    Drilldown("acknowledgement-overdue", gettext_lazy("Overdue acknowledgements"), PurchaseOrder,
              lambda f, today, now: _open_orders(f, today, now).filter(acknowledgement_due__lt=today),
              ("acknowledgement_due", "number")),
    Drilldown("awaiting-buyer", gettext_lazy("Proposals waiting for a buyer decision"), PurchaseOrder,
              lambda f, today, now: f.orders(PurchaseOrder.objects.filter(status=PurchaseOrder.Status.AWAITING_BUYER)),
              ("updated_at", "number")),
    Drilldown("exceptions", gettext_lazy("Open exceptions"), ExceptionCase, _open_cases, ("opened_at", "id")),
    Drilldown("shipments-unreceived", gettext_lazy("ASNs not matched to a receipt"), Shipment,
              lambda f, today, now: _unreceived(f, today, now).filter(receipt_status=Shipment.ReceiptStatus.NOT_RECEIVED),
              ("expected_arrival", "id")),
    Drilldown("shipments-overdue", gettext_lazy("ASNs past their expected arrival, not received"), Shipment,
              lambda f, today, now: _unreceived(f, today, now).filter(
                  receipt_status=Shipment.ReceiptStatus.NOT_RECEIVED, expected_arrival__lt=today),
              ("expected_arrival", "id")),
    Drilldown("shipments-partial", gettext_lazy("ASNs partly received"), Shipment,
              lambda f, today, now: _unreceived(f, today, now).filter(receipt_status=Shipment.ReceiptStatus.PARTIAL),
              ("expected_arrival", "id")),
    Drilldown("receipt-differences", gettext_lazy("Receipts with differences (open cases)"), ExceptionCase,
              lambda f, today, now: _open_cases(f, today, now).filter(kind__in=RECEIPT_KINDS), ("opened_at", "id")),
    Drilldown("documents-review", gettext_lazy("Quality documents to review"), QualityDocument,
              lambda f, today, now: _documents(f, today, now).filter(review_status=QualityDocument.Review.PENDING),
              ("uploaded_at", "id")),
    Drilldown("documents-expiring",
              _with_days(ngettext_lazy("Approved quality documents expiring within %(days)s day",
                                       "Approved quality documents expiring within %(days)s days", "days"), EXPIRING_DAYS),
              QualityDocument,
              lambda f, today, now: _documents(f, today, now).filter(
                  review_status=QualityDocument.Review.APPROVED, expires_on__gte=today,
                  expires_on__lte=today + timedelta(days=EXPIRING_DAYS)),
              ("expires_on", "id")),
    Drilldown("incidents-open", gettext_lazy("Open quality incidents"), QualityIncident, _incidents, ("opened_at", "id")),
    Drilldown("incidents-hold", gettext_lazy("Goods on hold"), QualityIncident,
              lambda f, today, now: _incidents(f, today, now).filter(hold_status=QualityIncident.Hold.ON_HOLD),
              ("opened_at", "id")),
    Drilldown("incident-answers", gettext_lazy("Incident answers waiting for review"), QualityIncident,
              lambda f, today, now: _incidents(f, today, now).filter(
                  id__in=IncidentStep.objects.filter(status=IncidentStep.Status.ANSWERED).values("incident_id")),
              ("opened_at", "id")),
    Drilldown("edi-failed",
              _with_days(ngettext_lazy("EDI interchanges rejected or refused, last %(days)s day",
                                       "EDI interchanges rejected or refused, last %(days)s days", "days"), EDI_DAYS),
              Interchange, _interchanges, ("-created_at", "-id")),
    Drilldown("dead-letters", gettext_lazy("Deliveries to the ERP that failed for good"), OutboxMessage, _dead_letters,
              ("occurred_at", "aggregate", "sequence")),
]}


@dataclass(frozen=True)
class Row:
    reference: str
    admin_url: str
    supplier: str
    purchase_order: str  # its timeline is linked
    summary: str
    when: date | datetime | None
    when_label: str

    @property
    def relative(self) -> str:
        """How far the date lies from today, in days."""
        if self.when is None:
            return ""
        day = timezone.localdate(self.when) if isinstance(self.when, datetime) else self.when
        days = (day - timezone.localdate()).days
        if days == 0:
            return _("today")
        if days > 0:
            return ngettext("in %(count)s day", "in %(count)s days", days) % {"count": days}
        return ngettext("%(count)s day ago", "%(count)s days ago", -days) % {"count": -days}


def _admin_url(obj) -> str:
    return reverse(f"admin:{obj._meta.app_label}_{obj._meta.model_name}_change", args=[obj.pk])


def drilldown_rows(drilldown: Drilldown, items: list) -> list[Row]:
    """One row per item, whatever it is, from a queryset the view paginates."""
    rows = []
    for item in items:
        if isinstance(item, PurchaseOrder):
            rows.append(Row(item.number, _admin_url(item), item.supplier.code, item.number,
                            (_("%(status)s, revision %(revision)s, buyer %(buyer)s") if item.buyer
                             else _("%(status)s, revision %(revision)s")) % {
                                "status": item.get_status_display(), "revision": item.revision, "buyer": item.buyer},
                            item.acknowledgement_due, pgettext("drilldown date", "answer due")))
        elif isinstance(item, ExceptionCase):
            rows.append(Row(f"#{item.pk}", _admin_url(item), item.supplier.code if item.supplier else "",
                            item.purchase_order.number if item.purchase_order else "",
                            f"{item.get_kind_display()}: {item.summary}", item.opened_at, pgettext("drilldown date", "opened")))
        elif isinstance(item, Shipment):
            rows.append(Row(item.number, _admin_url(item), item.supplier.code, "",
                            _("%(receipt_status)s, to %(ship_to)s, despatched %(despatch_date)s") % {
                                "receipt_status": item.get_receipt_status_display(), "ship_to": item.ship_to,
                                "despatch_date": formats.date_format(item.despatch_date, "SHORT_DATE_FORMAT")},
                            item.expected_arrival, pgettext("drilldown date", "expected")))
        elif isinstance(item, QualityDocument):
            rows.append(Row(str(item.pk), _admin_url(item), item.supplier.code, "",
                            f"{item.get_document_type_display()} {item.item} {item.lot}".strip(),
                            item.expires_on or item.uploaded_at,
                            pgettext("drilldown date", "expires") if item.expires_on else pgettext("drilldown date", "uploaded")))
        elif isinstance(item, QualityIncident):
            rows.append(Row(item.reference, _admin_url(item), item.supplier.code,
                            item.purchase_order.number if item.purchase_order else "",
                            f"{item.item} {item.lot}: {item.get_hold_status_display()}, {item.quantity_on_hold.normalize():f} {item.uom}",
                            item.opened_at, pgettext("drilldown date", "opened")))
        elif isinstance(item, Interchange):
            errors = "; ".join(e.get("text", "") for e in item.errors[:2])
            rows.append(Row(item.control_ref, _admin_url(item), item.partner.supplier.code if item.partner else item.sender, "",
                            f"{item.get_direction_display()} {', '.join(item.message_types)}: {item.get_status_display()}"
                            + (f" — {errors}" if errors else ""), item.created_at,
                            pgettext("drilldown date", "received") if item.direction == "in" else pgettext("drilldown date", "sent")))
        elif isinstance(item, OutboxMessage):
            rows.append(Row(f"{item.type} #{item.sequence}", _admin_url(item), "", item.aggregate,
                            ngettext("to %(destination)s after %(count)s attempt: %(error)s",
                                     "to %(destination)s after %(count)s attempts: %(error)s", item.attempt_count) % {
                                "destination": item.destination, "count": item.attempt_count, "error": item.last_error[:200]},
                            item.occurred_at, pgettext("drilldown date", "occurred")))
    return rows


RELATED = {
    PurchaseOrder: ("supplier",), ExceptionCase: ("supplier", "purchase_order"), Shipment: ("supplier",),
    QualityDocument: ("supplier",), QualityIncident: ("supplier", "purchase_order"), Interchange: ("partner__supplier",),
    OutboxMessage: (),
}


def drilldown_queryset(drilldown: Drilldown, filters: Filters, *, kind: str = "", age: str = "",
                       now: datetime | None = None) -> QuerySet:
    now = now or timezone.now()
    queryset = drilldown.queryset(filters, timezone.localdate(now), now)
    if drilldown.model is ExceptionCase:
        if kind in ExceptionCase.Kind.values:
            queryset = queryset.filter(kind=kind)
        bucket = next((b for b in AGE_BUCKETS if b[0] == age), None)
        if bucket:
            _key, _label, young, old = bucket
            queryset = queryset.filter(opened_at__lte=now - timedelta(days=young))
            if old is not None:
                queryset = queryset.filter(opened_at__gt=now - timedelta(days=old))
    if drilldown.model is Interchange:
        queryset = queryset.defer("raw")
    return queryset.select_related(*RELATED[drilldown.model]).order_by(*drilldown.order_by)


# --- the counts ----------------------------------------------------------------------------------

@dataclass(frozen=True)
class ExceptionRow:
    kind: str
    label: str
    total: int
    by_age: list[tuple[str, str, int]]  # (age key, label, count)


@dataclass(frozen=True)
class Figures:
    counts: dict[str, int]  # by drilldown key, with "_" for "-" (for templates)
    exceptions: list[ExceptionRow]
    exceptions_total: int
    lag_seconds: float
    pending: int
    delivered_last_hour: int
    failed_last_hour: int
    delivery_destinations: list

    @property
    def attempts_last_hour(self) -> int:
        return self.delivered_last_hour + self.failed_last_hour

    @property
    def delivery_rate(self) -> float | None:
        """Share of the last hour's delivery attempts that succeeded."""
        return self.delivered_last_hour / self.attempts_last_hour if self.attempts_last_hour else None

    @property
    def delivery_percent(self) -> str:
        return f"{self.delivery_rate * 100:.1f}" if self.delivery_rate is not None else ""

    @property
    def lag_text(self) -> str:
        return duration_text(self.lag_seconds)


def figures(filters: Filters, *, now: datetime | None = None) -> Figures:
    now = now or timezone.now()
    today = timezone.localdate(now)
    soon = today + timedelta(days=DUE_SOON_DAYS)
    counts: dict[str, int] = {}
    counts.update(filters.orders(PurchaseOrder.objects.filter(
        status__in=[*PurchaseOrder.OPEN_STATUSES, PurchaseOrder.Status.AWAITING_BUYER])).aggregate(
        **{"acknowledgement_open": Count("id", filter=Q(status__in=PurchaseOrder.OPEN_STATUSES)),
           "acknowledgement_due_soon": Count("id", filter=Q(status__in=PurchaseOrder.OPEN_STATUSES,
                                                            acknowledgement_due__gte=today, acknowledgement_due__lte=soon)),
           "acknowledgement_overdue": Count("id", filter=Q(status__in=PurchaseOrder.OPEN_STATUSES, acknowledgement_due__lt=today)),
           "awaiting_buyer": Count("id", filter=Q(status=PurchaseOrder.Status.AWAITING_BUYER))}))
    age_counts = {key: Count("id", filter=Q(opened_at__lte=now - timedelta(days=young),
                                            **({"opened_at__gt": now - timedelta(days=old)} if old else {})))
                  for key, _label, young, old in AGE_BUCKETS}
    by_kind = {row["kind"]: row for row in _open_cases(filters, today, now).values("kind").annotate(total=Count("id"), **age_counts)}
    exceptions = [ExceptionRow(kind, label, by_kind[kind]["total"],
                               [(age, age_label, by_kind[kind][age]) for age, age_label, _young, _old in AGE_BUCKETS])
                  for kind, label in ExceptionCase.Kind.choices if kind in by_kind]
    counts["receipt_differences"] = sum(by_kind[kind]["total"] for kind in RECEIPT_KINDS if kind in by_kind)
    counts.update(_unreceived(filters, today, now).filter(receipt_status__in=[
        Shipment.ReceiptStatus.NOT_RECEIVED, Shipment.ReceiptStatus.PARTIAL]).aggregate(
        **{"shipments_unreceived": Count("id", filter=Q(receipt_status=Shipment.ReceiptStatus.NOT_RECEIVED)),
           "shipments_overdue": Count("id", filter=Q(receipt_status=Shipment.ReceiptStatus.NOT_RECEIVED, expected_arrival__lt=today)),
           "shipments_partial": Count("id", filter=Q(receipt_status=Shipment.ReceiptStatus.PARTIAL))}))
    counts.update(_documents(filters, today, now).filter(
        Q(review_status=QualityDocument.Review.PENDING)
        | Q(review_status=QualityDocument.Review.APPROVED, expires_on__gte=today,
            expires_on__lte=today + timedelta(days=EXPIRING_DAYS))).aggregate(
        **{"documents_review": Count("id", filter=Q(review_status=QualityDocument.Review.PENDING)),
           "documents_expiring": Count("id", filter=Q(review_status=QualityDocument.Review.APPROVED))}))
    answered = IncidentStep.objects.filter(status=IncidentStep.Status.ANSWERED).values("incident_id")
    counts.update(_incidents(filters, today, now).aggregate(
        **{"incidents_open": Count("id"),
           "incidents_hold": Count("id", filter=Q(hold_status=QualityIncident.Hold.ON_HOLD)),
           "incident_answers": Count("id", filter=Q(id__in=answered))}))
    counts["edi_failed"] = _interchanges(filters, today, now).count()
    counts["dead_letters"] = _dead_letters(filters, today, now).count()
    destinations = delivery_figures(now=now, delivered_total=False)
    return Figures(
        counts=counts, exceptions=exceptions, exceptions_total=sum(row.total for row in exceptions),
        lag_seconds=max((d.lag_seconds for d in destinations), default=0.0),
        pending=sum(d.pending for d in destinations),
        delivered_last_hour=sum(d.deliveries_last_hour for d in destinations),
        failed_last_hour=_failed_attempts_last_hour(now),
        delivery_destinations=destinations,
    )


def _failed_attempts_last_hour(now: datetime) -> int:
    return DeliveryAttempt.objects.filter(attempted_at__gte=now - timedelta(hours=1)).exclude(
        outcome=DeliveryAttempt.Outcome.DELIVERED).count()


# --- trends --------------------------------------------------------------------------------------

def trend_charts(filters: Filters, *, now: datetime | None = None, days: int = TREND_DAYS) -> list[charts.Chart]:
    """Acknowledgements on time vs late, exceptions opened vs closed, and sync lag, per day."""
    now = now or timezone.now()
    today = timezone.localdate(now)
    first = today - timedelta(days=days - 1)
    span = [first + timedelta(days=i) for i in range(days)]
    since = now - timedelta(days=days + 1)

    def per_day(rows, *names: str) -> dict[str, list[float]]:
        found = {row["day"]: row for row in rows}
        return {name: [float(found.get(day, {}).get(name) or 0) for day in span] for name in names}

    acks = per_day(
        filters.orders(Acknowledgement.objects.filter(submitted_at__gte=since).exclude(status=Acknowledgement.Status.DRAFT),
                       "purchase_order__")
        .annotate(day=TruncDate("submitted_at")).values("day")
        .annotate(on_time=Count("id", filter=Q(due_on__isnull=True) | Q(day__lte=F("due_on"))),
                  late=Count("id", filter=Q(day__gt=F("due_on")))),
        "on_time", "late")
    cases = _cases(filters)
    opened = per_day(cases.filter(opened_at__gte=since).annotate(day=TruncDate("opened_at")).values("day")
                     .annotate(opened=Count("id")), "opened")
    closed = per_day(cases.filter(decided_at__gte=since).annotate(day=TruncDate("decided_at")).values("day")
                     .annotate(closed=Count("id")), "closed")
    delay = ExpressionWrapper(F("delivered_at") - F("occurred_at"), output_field=DurationField())
    lag_rows = (_events(filters, OutboxMessage.objects.filter(status=OutboxMessage.Status.DELIVERED, delivered_at__gte=since))
                .annotate(day=TruncDate("delivered_at")).values("day").annotate(worst=Max(delay)))
    worst = {row["day"]: row["worst"] for row in lag_rows}
    lag_minutes = [round(worst[day].total_seconds() / 60, 1) if worst.get(day) else 0.0 for day in span]
    return [
        charts.daily_chart(
            key="acknowledgements", title=_("Acknowledgements per day: on time and late"), days=span,
            stacked=[charts.Series(_("on time"), acks["on_time"], "series-good"), charts.Series(_("late"), acks["late"], "series-bad")],
            summary=_("%(on_time)s on time and %(late)s late in the last %(days)s days.") % {
                "on_time": charts.number_text(sum(acks["on_time"])), "late": charts.number_text(sum(acks["late"])), "days": days}),
        charts.daily_chart(
            key="exceptions", title=_("Exceptions per day: opened and closed"), days=span,
            lines=[charts.Series(pgettext("exceptions", "opened"), opened["opened"], "series-bad"),
                   charts.Series(pgettext("exceptions", "closed"), closed["closed"], "series-good")],
            summary=_("%(opened)s opened and %(closed)s closed in the last %(days)s days.") % {
                "opened": charts.number_text(sum(opened["opened"])), "closed": charts.number_text(sum(closed["closed"])), "days": days}),
        charts.daily_chart(
            key="sync-lag", title=_("Sync lag per day: longest time from event to ERP (minutes)"), days=span,
            stacked=[charts.Series(_("longest delay"), lag_minutes, "series-neutral", " min")],
            summary=_("At most %(minutes)s minutes from an event to its delivery in the last %(days)s days.") % {
                "minutes": charts.number_text(max(lag_minutes)), "days": days}),
    ]
