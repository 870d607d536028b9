"""Reads, with tenancy applied once: a supplier user only ever gets their own suppliers' rows."""
from __future__ import annotations

from dataclasses import dataclass

from django.db.models import Count, Exists, OuterRef, Prefetch, Q, QuerySet, Subquery
from django.db.models.functions import Coalesce

from collaboration.actors import Actor
from collaboration.errors import NotFound
from collaboration.models import (
    Acknowledgement,
    AcknowledgementLine,
    AuditEvent,
    Membership,
    PurchaseOrder,
    PurchaseOrderLine,
    PurchaseOrderRevision,
    Supplier,
    SupplierApiToken,
)


def _visible_purchase_orders(*, actor: Actor) -> QuerySet[PurchaseOrder]:
    # Staff (buyers) see every supplier; supplier users only the suppliers they belong to.
    queryset = PurchaseOrder.objects.all()
    if actor.is_staff and not actor.memberships:
        return queryset
    return queryset.filter(supplier_id__in=actor.supplier_ids)


def purchase_orders_for_actor(*, actor: Actor, status: str | None = None, query: str | None = None) -> QuerySet[PurchaseOrder]:
    """The PO list: newest first, filtered by status and by a PO number or item search."""
    queryset = _visible_purchase_orders(actor=actor).select_related("supplier")
    if status:
        queryset = queryset.filter(status=status)
    if query:
        query = query.strip()
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


def purchase_order_detail(*, actor: Actor, number: str) -> PurchaseOrder:
    """One PO with its lines, revisions and acknowledgements loaded in a fixed number of queries."""
    queryset = (
        _visible_purchase_orders(actor=actor)
        .select_related("supplier")
        .prefetch_related(
            Prefetch("lines", queryset=PurchaseOrderLine.objects.order_by("line_number")),
            Prefetch(
                "lines__responses",
                queryset=AcknowledgementLine.objects.select_related("acknowledgement", "reason", "exception_case")
                .prefetch_related("schedule")
                .order_by("-id"),
            ),
            Prefetch("revisions", queryset=PurchaseOrderRevision.objects.order_by("-revision")),
            Prefetch(
                "acknowledgements",
                queryset=Acknowledgement.objects.select_related("submitted_by").order_by("-submitted_at"),
            ),
        )
    )
    return _one(queryset, number)


@dataclass(frozen=True)
class LineView:
    """An order line with the supplier's draft and latest submitted response, for pages."""

    line: PurchaseOrderLine
    draft: AcknowledgementLine | None
    latest: AcknowledgementLine | None

    @property
    def shown(self) -> AcknowledgementLine | None:
        return self.draft or self.latest


def line_views(po: PurchaseOrder) -> list[LineView]:
    """Needs a PO from `purchase_order_detail` (responses prefetched, newest first)."""
    views = []
    for line in po.lines.all():
        responses = list(line.responses.all())
        draft = next((r for r in responses if r.acknowledgement.status == Acknowledgement.Status.DRAFT), None)
        latest = next((r for r in responses if r.acknowledgement.status != Acknowledgement.Status.DRAFT), None)
        views.append(LineView(line=line, draft=draft, latest=latest))
    return views


def purchase_order_timeline(*, po: PurchaseOrder) -> QuerySet[AuditEvent]:
    """Everything recorded about a PO, oldest first: revisions, drafts, submissions, decisions."""
    return AuditEvent.objects.filter(purchase_order=po.number).select_related("actor").order_by("occurred_at", "id")


def suppliers_administered(*, actor: Actor) -> list[Supplier]:
    return list(Supplier.objects.filter(pk__in=[s for s, role in actor.memberships.items() if role == Membership.Role.ADMIN]))


def api_tokens_for_actor(*, actor: Actor) -> QuerySet[SupplierApiToken]:
    """The tokens of the suppliers the actor administers."""
    return SupplierApiToken.objects.filter(supplier__in=suppliers_administered(actor=actor)).select_related("supplier", "created_by")
