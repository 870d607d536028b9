"""Invoices as suppliers and buyers read them: with the ERP's latest status (received, approved,
blocked with its reason, paid with date and payment reference), per invoice and per purchase order;
and the lines a new invoice starts from (an order's, or a shipment's). Reads only."""
from __future__ import annotations

from dataclasses import dataclass
from decimal import Decimal

from django.db.models import Q, QuerySet, Sum
from django.utils.translation import gettext as _

from collaboration.actors import Actor
from collaboration.errors import NotFound
from collaboration.models import Invoice, InvoiceLine, InvoiceStatus, PurchaseOrder, PurchaseOrderLine, Shipment
from collaboration.selectors import search_term, visible_to


def invoices_for_actor(*, actor: Actor, query: str = "") -> QuerySet[Invoice]:
    invoices = visible_to(Invoice.objects.select_related("supplier", "shipment"), actor=actor)
    term = search_term(query)
    if term:
        invoices = invoices.filter(Q(number__icontains=term) | Q(lines__order_line__purchase_order__number__icontains=term)).distinct()
    return invoices.order_by("-submitted_at", "-id")


def invoice_get(*, actor: Actor, pk: int) -> Invoice:
    invoice = invoices_for_actor(actor=actor).filter(pk=pk).first()
    if invoice is None:
        raise NotFound(_("Invoice %(id)s not found.") % {"id": pk})
    return invoice


def statuses_of(invoices) -> dict[tuple[int, str], InvoiceStatus]:
    """The ERP's status of each invoice, by (supplier id, number), in one query."""
    invoices = list(invoices)
    if not invoices:
        return {}
    wanted = Q()
    for invoice in invoices:
        wanted |= Q(supplier_id=invoice.supplier_id, invoice_number=invoice.number)
    return {(status.supplier_id, status.invoice_number): status for status in InvoiceStatus.objects.filter(wanted)}


@dataclass(frozen=True)
class InvoiceRow:
    invoice: Invoice | None  # None: an invoice the ERP knows that was not submitted here (paper, e-mail)
    status: InvoiceStatus | None
    orders: list[str]

    @property
    def number(self) -> str:
        return self.invoice.number if self.invoice else self.status.invoice_number


def invoice_rows(invoices: list[Invoice]) -> list[InvoiceRow]:
    statuses = statuses_of(invoices)
    orders: dict[int, set[str]] = {}
    for invoice_id, number in (InvoiceLine.objects.filter(invoice__in=invoices)
                               .values_list("invoice_id", "order_line__purchase_order__number")):
        orders.setdefault(invoice_id, set()).add(number)
    return [InvoiceRow(invoice, statuses.get((invoice.supplier_id, invoice.number)), sorted(orders.get(invoice.pk, ())))
            for invoice in invoices]


def invoices_of_order(po: PurchaseOrder) -> list[InvoiceRow]:
    """The invoices with a line of this order, newest first, with their ERP status; then invoices the
    ERP reports for the order that were not submitted through the portal."""
    rows = invoice_rows(list(Invoice.objects.filter(lines__order_line__purchase_order=po).distinct()
                             .select_related("supplier").order_by("-submitted_at", "-id")))
    known = {row.number for row in rows}
    return rows + [InvoiceRow(None, status, [po.number])
                   for status in po.invoice_statuses.order_by("invoice_number") if status.invoice_number not in known]


@dataclass(frozen=True)
class Invoiceable:
    """An order line a new invoice may bill, with what it would start from."""

    order_line: PurchaseOrderLine
    quantity: Decimal  # received less invoiced (or the shipment's quantity)
    unit_price: Decimal  # the agreed price


def invoiceable_lines(*, actor: Actor, po_number: str = "", shipment_number: str = "") -> tuple[str, list[Invoiceable]]:
    """(currency, lines) to start an invoice from one of the actor's orders or submitted shipments."""
    if shipment_number:
        shipment = visible_to(Shipment.objects.all(), actor=actor).filter(number=shipment_number,
                                                                           status=Shipment.Status.SUBMITTED).first()
        if shipment is None:
            raise NotFound(_("Shipment %(number)s not found.") % {"number": shipment_number})
        lines = list(shipment.lines.select_related("order_line__purchase_order").order_by("line_number"))
        currency = lines[0].order_line.purchase_order.currency if lines else ""
        return currency, [Invoiceable(line.order_line, line.quantity, _agreed(line.order_line)) for line in lines]
    po = visible_to(PurchaseOrder.objects.all(), actor=actor).filter(number=po_number).first()
    if po is None:
        raise NotFound(_("Purchase order %(number)s not found.") % {"number": po_number})
    order_lines = list(po.lines.filter(is_cancelled=False).order_by("line_number"))
    invoiced = dict(InvoiceLine.objects.filter(order_line__in=order_lines).values("order_line_id")
                    .annotate(total=Sum("quantity")).values_list("order_line_id", "total"))
    return po.currency, [Invoiceable(line, max(line.received_quantity - invoiced.get(line.pk, Decimal(0)), Decimal(0)),
                                     _agreed(line)) for line in order_lines]


def _agreed(line: PurchaseOrderLine) -> Decimal:
    return line.confirmed_price if line.confirmed_price is not None else line.unit_price
