"""Reads, with tenancy applied once: a supplier user only ever gets their own suppliers' rows."""
from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass
from datetime import date
from decimal import Decimal

from django.urls import reverse

from django.db.models import Case, Count, Exists, F, OuterRef, Prefetch, Q, QuerySet, Subquery, Sum, Value, When
from django.db.models.functions import Coalesce
from django.utils import timezone
from django.utils.formats import date_format
from django.utils.translation import gettext as _

from collaboration.actors import Actor
from collaboration.errors import NotFound
from collaboration.models import (
    Acknowledgement,
    AcknowledgementLine,
    AuditEvent,
    ExceptionCase,
    IncidentAttachment,
    IncidentStep,
    Membership,
    PurchaseOrder,
    PurchaseOrderLine,
    PurchaseOrderRevision,
    Package,
    QualityDocument,
    QualityIncident,
    ReceiptLine,
    ScheduleLine,
    Shipment,
    ShipmentLine,
    Supplier,
    SupplierApiToken,
)
from portal.numbers import money_text, number_text


def visible_to(queryset: QuerySet, *, actor: Actor) -> QuerySet:
    """Tenancy, once: staff (buyers) see every supplier's rows; supplier users and tokens only
    their suppliers' (the queryset's model has a `supplier`)."""
    if actor.is_staff and not actor.memberships:
        return queryset
    return queryset.filter(supplier_id__in=actor.supplier_ids)


def search_term(value: str | None, *, length: int = 100) -> str:
    """A filter or search value as the database may take it: trimmed, bounded, without NUL (which
    PostgreSQL text refuses) whichever channel it came from."""
    return (value or "").replace("\x00", "").strip()[:length]


def _visible_purchase_orders(*, actor: Actor) -> QuerySet[PurchaseOrder]:
    return visible_to(PurchaseOrder.objects.all(), actor=actor)


def purchase_orders_for_actor(*, actor: Actor, status: str | None = None, query: str | None = None) -> QuerySet[PurchaseOrder]:
    """The PO list: newest first, filtered by status and by a PO number or item search."""
    queryset = _visible_purchase_orders(actor=actor).select_related("supplier")
    status, query = search_term(status), search_term(query)
    if status:
        queryset = queryset.filter(status=status)
    if query:
        item_match = PurchaseOrderLine.objects.filter(purchase_order=OuterRef("pk"), item__icontains=query)
        queryset = queryset.filter(Q(number__icontains=query) | Exists(item_match))
    # A correlated subquery, not a JOIN + GROUP BY: PostgreSQL computes it only for the rows of
    # the page, and the paginator's COUNT(*) drops it.
    open_lines = (
        PurchaseOrderLine.objects.filter(purchase_order=OuterRef("pk"), is_cancelled=False)
        .order_by()
        .values("purchase_order")
        .annotate(count=Count("*"))
        .values("count")
    )
    return queryset.annotate(line_count=Coalesce(Subquery(open_lines), 0)).order_by("-order_date", "-id")


def _one(queryset: QuerySet[PurchaseOrder], number: str) -> PurchaseOrder:
    po = queryset.filter(number=number).first()
    if po is None:
        raise NotFound(f"Purchase order {number} not found.")
    return po


def purchase_order_get(*, actor: Actor, number: str, for_update: bool = False) -> PurchaseOrder:
    """One PO by number, or NotFound when it does not exist or the actor may not see it."""
    queryset = _visible_purchase_orders(actor=actor).select_related("supplier")
    if for_update:
        queryset = queryset.select_for_update(of=("self",))
    return _one(queryset, number)


LINES_PER_PAGE = 100


def purchase_order_detail(
    *, actor: Actor, number: str, lines_page: int = 1, line_number: int | None = None
) -> PurchaseOrder:
    """One PO with its lines, their responses and schedules, revisions and acknowledgements, in a
    fixed number of queries. Lines come as `po.detail_lines`, each with `responses_shown` (newest
    first), each response with `schedule_shown`: assembled here rather than with prefetch_related,
    whose per-object queryset copies cost more than the queries on orders with hundreds of lines.
    Lines come a page of LINES_PER_PAGE at a time (or just `line_number`); `po.line_total` and
    `po.draft_count` count the whole order."""
    po = _one(
        _visible_purchase_orders(actor=actor)
        .select_related("supplier")
        .prefetch_related(
            # The documents themselves (hundreds of lines each) are not shown: leave them in the database.
            Prefetch("revisions", queryset=PurchaseOrderRevision.objects.defer("document").order_by("-revision")),
            Prefetch(
                "acknowledgements",
                queryset=Acknowledgement.objects.select_related("submitted_by").order_by("-submitted_at"),
            ),
        ),
        number,
    )
    all_lines = PurchaseOrderLine.objects.filter(purchase_order=po).order_by("line_number")
    counts = all_lines.aggregate(total=Count("id"), late=Count("id", filter=Q(confirmed_date__gt=F("requested_date"))))
    po.line_total, po.late_line_total = counts["total"], counts["late"]
    po.draft_count = AcknowledgementLine.objects.filter(
        acknowledgement__purchase_order=po, acknowledgement__status=Acknowledgement.Status.DRAFT
    ).count()
    # What the supplier's ASNs carry per line (the supplier's delivery view; received_quantity is the
    # line's running total of the ERP's receipts).
    page_lines = all_lines.annotate(
        shipped_quantity=_sum_per_line(ShipmentLine.objects.filter(shipment__status=Shipment.Status.SUBMITTED)),
    )
    if line_number is not None:
        lines = list(page_lines.filter(line_number=line_number))
    else:
        start = (max(lines_page, 1) - 1) * LINES_PER_PAGE
        lines = list(page_lines[start : start + LINES_PER_PAGE])
    line_ids = [line.pk for line in lines]
    responses = list(
        AcknowledgementLine.objects.filter(order_line_id__in=line_ids)
        .select_related("acknowledgement", "reason")
        .only("order_line_id", "action", "quantity", "unit_price", "reason_text", "decision", "decision_comment",
              "acknowledgement__status", "reason__label", "reason__code")
        .order_by("-id")
    )
    schedules: dict[int, list[ScheduleLine]] = defaultdict(list)
    for entry in ScheduleLine.objects.filter(response__order_line_id__in=line_ids).only("response_id", "quantity", "date"):
        schedules[entry.response_id].append(entry)
    by_line: dict[int, list[AcknowledgementLine]] = defaultdict(list)
    for response in responses:
        response.schedule_shown = sorted(schedules[response.pk], key=lambda e: (e.date, e.pk))
        by_line[response.order_line_id].append(response)
    for line in lines:
        line.responses_shown = by_line[line.pk]
    po.detail_lines = lines
    po.receipt_lines = list(
        ReceiptLine.objects.filter(receipt__purchase_order=po)
        .select_related("receipt", "order_line")
        .only("quantity", "sscc", "lot", "receipt__reference", "receipt__received_on", "order_line__line_number",
              "order_line__item", "order_line__uom")
        .order_by("receipt__received_on", "receipt_id", "order_line__line_number")
    )
    return po


def _sum_per_line(queryset: QuerySet) -> Subquery:
    return Subquery(
        queryset.filter(order_line=OuterRef("pk")).values("order_line").annotate(total=Sum("quantity")).values("total")
    )


@dataclass(frozen=True)
class ScheduleView:
    text: str
    differs: bool


@dataclass(frozen=True)
class LineView:
    """An order line and the supplier's answer (draft, or latest submitted), ready to show.

    Values are prepared here as text, once, so that pages of orders with hundreds of lines
    render quickly (template lookups and number localisation dominate otherwise).
    """

    line: PurchaseOrderLine
    draft: AcknowledgementLine | None
    latest: AcknowledgementLine | None
    url: str  # the line's own URL; respond/ and discard/ hang below it
    quantity: str
    unit_price: str
    requested: str
    changed: bool  # changed by the current revision and waiting for a new answer
    answer: str  # "", "accept", "change" or "reject"
    quantity_change: str
    price_change: str
    schedule: tuple[ScheduleView, ...]
    reason: str
    decision: str
    css: str
    status: str
    days_late: int  # the confirmed (last) delivery date after the requested date
    can_respond: bool

    @property
    def shown(self) -> AcknowledgementLine | None:
        return self.draft or self.latest


SHOWN_DECISIONS = {
    AcknowledgementLine.Decision.APPROVED, AcknowledgementLine.Decision.DECLINED, AcknowledgementLine.Decision.AUTO_ACCEPTED,
}


def _line_view(po: PurchaseOrder, line: PurchaseOrderLine, base: str, *, can_acknowledge: bool) -> LineView:
    responses = line.responses_shown
    draft = next((r for r in responses if r.acknowledgement.status == Acknowledgement.Status.DRAFT), None)
    latest = next((r for r in responses if r.acknowledgement.status != Acknowledgement.Status.DRAFT), None)
    shown = draft or latest
    quantity, price = number_text(line.quantity), money_text(line.unit_price, po.currency)
    answer = shown.action if shown else ""
    schedule: tuple[ScheduleView, ...] = ()
    quantity_change = price_change = reason = ""
    if answer == AcknowledgementLine.Action.CHANGE:
        if shown.quantity != line.quantity:
            quantity_change = _("qty %(old)s → %(new)s") % {"old": quantity, "new": number_text(shown.quantity)}
        if shown.unit_price != line.unit_price:
            price_change = _("price %(old)s → %(new)s") % {"old": price, "new": money_text(shown.unit_price, po.currency)}
        schedule = tuple(
            ScheduleView(_("%(quantity)s on %(date)s") % {"quantity": number_text(e.quantity),
                                                           "date": date_format(e.date, "SHORT_DATE_FORMAT")},
                         e.date != line.requested_date)
            for e in shown.schedule_shown
        )
    if answer in (AcknowledgementLine.Action.CHANGE, AcknowledgementLine.Action.REJECT):
        # Why: a rejection always says it; a proposal may.
        reason = shown.reason.label + (f" — {shown.reason_text}" if shown.reason_text else "") if shown.reason else shown.reason_text
    decision = ""
    if latest is not None and latest.decision in SHOWN_DECISIONS:
        decision = (_("%(decision)s: “%(comment)s”") % {"decision": latest.get_decision_display(),
                                                         "comment": latest.decision_comment}
                    if latest.decision_comment else str(latest.get_decision_display()))
    is_open = line.response_status == PurchaseOrderLine.ResponseStatus.OPEN and not line.is_cancelled
    changed = is_open and po.revision > 1 and line.changed_in_revision == po.revision
    css = " ".join(filter(None, ["cancelled" if line.is_cancelled else "changed" if changed else "", "drafted" if draft else ""]))
    return LineView(
        line=line, draft=draft, latest=latest, url=f"{base}{line.line_number}/", quantity=quantity, unit_price=price,
        requested=date_format(line.requested_date, "SHORT_DATE_FORMAT"), changed=changed, answer=answer,
        quantity_change=quantity_change,
        price_change=price_change, schedule=schedule, reason=reason, decision=decision, css=css,
        status=(_("Cancelled in revision %(revision)s") % {"revision": line.changed_in_revision} if line.is_cancelled
                else str(line.get_response_status_display())),
        days_late=(line.confirmed_date - line.requested_date).days if line.confirmed_date else 0,
        can_respond=can_acknowledge and is_open,
    )


def line_views(po: PurchaseOrder, *, actor: Actor) -> list[LineView]:
    """Needs a PO from `purchase_order_detail`."""
    # One reverse() for the page, not three per line: large orders have hundreds of lines.
    base = reverse("collaboration:line-row", args=[po.number, 0]).removesuffix("0/")
    can_acknowledge = actor.can_acknowledge(po.supplier_id)
    return [_line_view(po, line, base, can_acknowledge=can_acknowledge) for line in po.detail_lines]


def purchase_order_timeline(*, po: PurchaseOrder) -> QuerySet[AuditEvent]:
    """Everything recorded about a PO, oldest first: revisions, drafts, submissions, decisions."""
    return (
        AuditEvent.objects.filter(purchase_order=po.number)
        .only("occurred_at", "action", "actor_label", "channel")
        .order_by("occurred_at", "id")
    )


def suppliers_administered(*, actor: Actor) -> list[Supplier]:
    return list(Supplier.objects.filter(pk__in=[s for s, role in actor.memberships.items() if role == Membership.Role.ADMIN]))


def supplier_users_for_actor(*, actor: Actor) -> QuerySet[Membership]:
    """The users of the suppliers the actor administers, active ones first."""
    return (
        Membership.objects.filter(supplier__in=suppliers_administered(actor=actor))
        .select_related("user", "supplier").order_by("-is_active", "supplier__code", "user__username")
    )


def api_tokens_for_actor(*, actor: Actor) -> QuerySet[SupplierApiToken]:
    """The tokens of the suppliers the actor administers."""
    return SupplierApiToken.objects.filter(supplier__in=suppliers_administered(actor=actor)).select_related("supplier", "created_by")


def shipments_for_actor(*, actor: Actor) -> QuerySet[Shipment]:
    """The shipments of the actor's suppliers (every supplier's for staff), newest first."""
    return visible_to(Shipment.objects.select_related("supplier").order_by("-created_at", "-id"), actor=actor)


def shipment_detail(*, actor: Actor, number: str) -> Shipment:
    """One shipment with its lines, packages and contents, or NotFound."""
    shipment = (
        shipments_for_actor(actor=actor)
        .prefetch_related(
            Prefetch("lines", queryset=ShipmentLine.objects.select_related("order_line__purchase_order")),
            Prefetch("packages", queryset=Package.objects.select_related("parent").prefetch_related("contents__shipment_line")),
        )
        .filter(number=number)
        .first()
    )
    if shipment is None:
        raise NotFound(f"Shipment {number} not found.")
    return shipment


def shipped_quantities(order_line_ids, *, exclude: Shipment | None = None) -> dict[int, Decimal]:
    """What submitted shipments carry per order line (a shipment being edited left out): announced
    quantities, or for shipments the ERP has received, what arrived (so a short delivery leaves the
    rest open for another shipment)."""
    if not order_line_ids:
        return {}
    # Two index lookups (the lines of these order lines, then their shipments) summed here: a join
    # lets the planner scan every submitted shipment of the portal, which grows with each ASN.
    lines = ShipmentLine.objects.filter(order_line_id__in=order_line_ids)
    if exclude is not None:
        lines = lines.exclude(shipment=exclude)
    rows = list(lines.values_list("order_line_id", "shipment_id", "quantity", "received_quantity"))
    shipments = dict(Shipment.objects.filter(pk__in={row[1] for row in rows}, status=Shipment.Status.SUBMITTED)
                     .values_list("pk", "receipt_status"))
    arrived = {Shipment.ReceiptStatus.RECEIVED, Shipment.ReceiptStatus.DIFFERENCES}
    totals: dict[int, Decimal] = {}
    for order_line_id, shipment_id, quantity, received in rows:
        if shipment_id in shipments:
            counted = received if shipments[shipment_id] in arrived else quantity
            totals[order_line_id] = totals.get(order_line_id, Decimal(0)) + counted
    return totals


@dataclass(frozen=True)
class ShippableLine:
    line: PurchaseOrderLine
    open_quantity: Decimal


def shippable_lines(*, actor: Actor, ship_to: str = "", exclude: Shipment | None = None) -> list[ShippableLine]:
    """Acknowledged lines of the actor's orders with quantity left to ship, by ship-to and order."""
    lines = (
        PurchaseOrderLine.objects.filter(
            purchase_order__in=_visible_purchase_orders(actor=actor),
            response_status=PurchaseOrderLine.ResponseStatus.CONFIRMED, is_cancelled=False,
        )
        .select_related("purchase_order__supplier")
        .order_by("purchase_order__ship_to", "purchase_order__number", "line_number")
    )
    if ship_to:
        lines = lines.filter(purchase_order__ship_to=ship_to)
    lines = list(lines)
    shipped = shipped_quantities([line.pk for line in lines], exclude=exclude)
    return [
        ShippableLine(line, line.confirmed_quantity - shipped.get(line.pk, 0))
        for line in lines
        if line.confirmed_quantity - shipped.get(line.pk, 0) > 0
    ]


def shipment_receipt_cases(*, shipment: Shipment) -> QuerySet[ExceptionCase]:
    """The receipt differences found on a shipment (the supplier sees what the buyer sees)."""
    return ExceptionCase.objects.filter(shipment=shipment, kind__startswith="receipt_").order_by("opened_at", "id")


INCIDENT_STEP_OPEN = (IncidentStep.Status.WAITING, IncidentStep.Status.RETURNED)


def quality_incidents_for_actor(*, actor: Actor, status: str = "") -> QuerySet[QualityIncident]:
    """The quality incidents of the actor's suppliers (every supplier's for staff): open ones first,
    then newest; each with `overdue_steps` (steps waiting for the supplier past their due date, open
    incidents only) and `next_due_on` (of the first step waiting for the supplier)."""
    waiting = IncidentStep.objects.filter(incident=OuterRef("pk"), status__in=INCIDENT_STEP_OPEN).order_by()
    overdue = (
        waiting.filter(due_on__lt=timezone.localdate()).values("incident").annotate(count=Count("*")).values("count")
    )
    queryset = visible_to(QualityIncident.objects.select_related("supplier", "purchase_order"), actor=actor)
    status = search_term(status)
    if status:
        queryset = queryset.filter(status=status)
    is_open = Q(status=QualityIncident.Status.OPEN)
    return queryset.annotate(
        overdue_steps=Case(When(is_open, then=Coalesce(Subquery(overdue), 0)), default=Value(0)),
        next_due_on=Case(When(is_open, then=Subquery(waiting.order_by("position").values("due_on")[:1])), default=None),
        open_first=Case(When(is_open, then=Value(0)), default=Value(1)),
    ).order_by("open_first", "-opened_at", "-id")


def quality_incident_detail(*, actor: Actor, reference: str) -> QualityIncident:
    """One incident with its steps (in order, each with `overdue`) and their attachments, or NotFound
    (also for another supplier's)."""
    steps = IncidentStep.objects.select_related("responded_by").prefetch_related(
        Prefetch("attachments", queryset=IncidentAttachment.objects.order_by("uploaded_at", "id"))
    ).order_by("position")
    incident = (
        visible_to(QualityIncident.objects.select_related("supplier", "purchase_order", "hold_decided_by"), actor=actor)
        .prefetch_related(Prefetch("steps", queryset=steps))
        .filter(reference=reference)
        .first()
    )
    if incident is None:
        raise NotFound(f"Quality incident {reference} not found.")
    today = timezone.localdate()
    for step in incident.steps.all():
        step.overdue = (incident.status == QualityIncident.Status.OPEN and step.status in INCIDENT_STEP_OPEN
                        and step.due_on < today)
    return incident


def incident_attachment_get(*, actor: Actor, attachment_id: int) -> IncidentAttachment:
    """An attachment of an incident the actor may see, or NotFound."""
    incidents = visible_to(QualityIncident.objects.all(), actor=actor)
    attachment = IncidentAttachment.objects.filter(pk=attachment_id, step__incident__in=incidents).first()
    if attachment is None:
        raise NotFound(f"Attachment {attachment_id} not found.")
    return attachment


def quality_documents_for_actor(
    *, actor: Actor, document_type: str = "", item: str = "", review_status: str = "", lot: str = "",
    expires_between: tuple[date, date] | None = None, expired_before: date | None = None,
) -> QuerySet[QualityDocument]:
    """The actor's suppliers' quality documents (every supplier's for staff), newest first; `item`
    matches part of the item."""
    queryset = visible_to(QualityDocument.objects.select_related(
        "supplier", "order_line__purchase_order", "shipment").order_by("-uploaded_at", "-id"), actor=actor)
    document_type, item, lot, review_status = map(search_term, (document_type, item, lot, review_status))
    if document_type:
        queryset = queryset.filter(document_type=document_type)
    if item:
        queryset = queryset.filter(item__icontains=item)
    if lot:
        queryset = queryset.filter(lot=lot)
    if review_status:
        queryset = queryset.filter(review_status=review_status)
    if expires_between is not None:
        queryset = queryset.filter(expires_on__range=expires_between)
    if expired_before is not None:
        queryset = queryset.filter(expires_on__lt=expired_before)
    return queryset


def quality_document_get(*, actor: Actor, document_id: int) -> QualityDocument:
    """One document the actor may see (and download), or NotFound: another supplier's is not found either."""
    document = quality_documents_for_actor(actor=actor).filter(pk=document_id).first()
    if document is None:
        raise NotFound(f"Quality document {document_id} not found.")
    return document


def items_supplied(*, actor: Actor, limit: int = 500) -> list[str]:
    """The items the actor's suppliers are ordered, for choosing one on a form."""
    return list(
        PurchaseOrderLine.objects.filter(purchase_order__in=_visible_purchase_orders(actor=actor))
        .order_by("item").values_list("item", flat=True).distinct()[:limit]
    )
