"""Supplier invoices: the match preview against the order and the receipts, and the submission.

Rules:
- An invoice belongs to one supplier; its number is unique per supplier (a second one is refused).
- Every line names one of the supplier's order lines (another supplier's order is not named back:
  it is "not one of your orders"), in the orders' currency, at most once per invoice.
- The match compares each line with the order (the agreed price: the confirmed one, else the
  ordered one) and with what the ERP received, less what earlier invoices already billed. A price
  outside the price tolerance, or a quantity above the received quantity (beyond the quantity
  tolerance), is a difference: the supplier may still submit, with a reason per line, and the
  buyer gets an exception case to review it.
- An invoice for a shipment names a submitted shipment of the supplier and only lines it carried.
- The submitted invoice goes to the ERP once, as `invoice.submitted`, through the outbox; the
  ERP's answer (received, approved, blocked, paid) comes back as an InvoiceStatus.
"""
from __future__ import annotations

from dataclasses import dataclass, field
from decimal import ROUND_HALF_UP, Decimal

from django.db import IntegrityError, transaction
from django.db.models import Sum
from django.utils.translation import gettext as _, ngettext

from collaboration.actors import Actor
from collaboration.audit import audit_record
from collaboration.documents import InvoiceDocument, decimal_text
from collaboration.errors import DomainError, InvalidDocument, PermissionDenied
from collaboration.models import ExceptionCase, Invoice, InvoiceLine, PurchaseOrder, PurchaseOrderLine, Shipment
from collaboration.money import minor_units
from collaboration.tolerance import Policies, price_breach
from erp_bridge import outbox

HUNDRED = Decimal(100)


class DuplicateInvoice(DomainError):
    code = "duplicate_invoice"
    status = 409


@dataclass
class LineMatch:
    """One invoice line against its order line and receipts."""

    position: int
    purchase_order: str
    line: int
    quantity: Decimal
    unit_price: Decimal
    reason: str
    order_line: PurchaseOrderLine | None = None
    ordered_price: Decimal | None = None
    received: Decimal = Decimal(0)
    invoiced_before: Decimal = Decimal(0)
    amount: Decimal = Decimal(0)
    differences: list[dict] = field(default_factory=list)
    problems: list[str] = field(default_factory=list)

    @property
    def open_to_invoice(self) -> Decimal:
        return max(self.received - self.invoiced_before, Decimal(0))

    @property
    def needs_reason(self) -> bool:
        return bool(self.differences) and not self.reason.strip()


@dataclass
class MatchPreview:
    lines: list[LineMatch]
    currency: str
    net_amount: Decimal
    tax_amount: Decimal
    problems: dict = field(default_factory=dict)  # about the invoice as a whole, by field

    @property
    def gross_amount(self) -> Decimal:
        return self.net_amount + self.tax_amount

    @property
    def differences(self) -> int:
        return sum(1 for line in self.lines if line.differences)

    def errors(self) -> dict:
        """What stops the submission, by field and line position (as the API and forms report it)."""
        errors = {key: list(value) for key, value in self.problems.items()}
        lines = {}
        for line in self.lines:
            found = {}
            if line.problems:
                found["line"] = line.problems
            if line.needs_reason:
                found["reason"] = [_("Say why this line differs from the order or the receipt.")]
            if found:
                lines[str(line.position)] = found
        if lines:
            errors["lines"] = lines
        return errors


def _money(value: Decimal, currency: str) -> Decimal:
    return value.quantize(Decimal(1).scaleb(-minor_units(currency)), rounding=ROUND_HALF_UP)


def invoice_match(*, supplier_id: int, document: InvoiceDocument, for_update: bool = False) -> MatchPreview:
    """The match preview: each line against the order and the receipts, the totals, and what is wrong."""
    numbers = {line.purchase_order for line in document.lines}
    orders = {po.number: po for po in PurchaseOrder.objects.filter(number__in=numbers, supplier_id=supplier_id)}
    order_lines = PurchaseOrderLine.objects.filter(purchase_order__in=orders.values()).select_related("purchase_order")
    if for_update:
        order_lines = order_lines.select_for_update(of=("self",))
    by_key = {(line.purchase_order.number, line.line_number): line for line in order_lines}
    invoiced = dict(InvoiceLine.objects.filter(order_line__in=by_key.values()).values("order_line_id")
                    .annotate(total=Sum("quantity")).values_list("order_line_id", "total"))
    policies = Policies(supplier_id=supplier_id)
    problems: dict[str, list[str]] = {}
    matches = []
    for position, entry in enumerate(document.lines):
        match = LineMatch(position=position, purchase_order=entry.purchase_order, line=entry.line, quantity=entry.quantity,
                          unit_price=entry.unit_price, reason=entry.reason)
        matches.append(match)
        match.amount = _money(entry.quantity * entry.unit_price, document.currency)
        po = orders.get(entry.purchase_order)
        if po is None:
            match.problems.append(_("%(number)s is not one of your purchase orders.") % {"number": entry.purchase_order})
            continue
        order_line = by_key.get((po.number, entry.line))
        if order_line is None or order_line.is_cancelled:
            match.problems.append(_("%(number)s has no line %(line)s to invoice.") % {"number": po.number, "line": entry.line})
            continue
        match.order_line = order_line
        if po.currency != document.currency:
            match.problems.append(_("%(number)s is in %(po_currency)s, not %(currency)s.")
                                  % {"number": po.number, "po_currency": po.currency, "currency": document.currency})
        match.ordered_price = order_line.confirmed_price if order_line.confirmed_price is not None else order_line.unit_price
        match.received = order_line.received_quantity
        match.invoiced_before = invoiced.get(order_line.pk, Decimal(0))
        policy = policies.for_item(order_line.item)
        breach = price_breach(policy=policy, ordered=match.ordered_price, proposed=entry.unit_price)
        if breach is not None:
            match.differences.append(breach.as_json())
        allowed = match.open_to_invoice * (1 + policy.quantity_over_pct / HUNDRED)
        if entry.quantity > allowed:
            match.differences.append({
                "field": "quantity", "ordered": decimal_text(match.open_to_invoice), "proposed": decimal_text(entry.quantity),
                "difference": decimal_text(entry.quantity - match.open_to_invoice),
                "allowed": f"+{policy.quantity_over_pct} % of received {decimal_text(match.received)}"
                           f" less invoiced {decimal_text(match.invoiced_before)}",
            })
    if document.shipment:
        _check_shipment(supplier_id, document, matches, problems)
    net = sum((match.amount for match in matches), Decimal(0))
    return MatchPreview(lines=matches, currency=document.currency, net_amount=net,
                        tax_amount=_money(net * document.tax_rate / HUNDRED, document.currency), problems=problems)


def _check_shipment(supplier_id: int, document: InvoiceDocument, matches: list[LineMatch], problems: dict) -> None:
    shipment = Shipment.objects.filter(supplier_id=supplier_id, number=document.shipment).first()
    if shipment is None or shipment.status != Shipment.Status.SUBMITTED:
        problems["shipment"] = [_("%(number)s is not a submitted shipment of yours.") % {"number": document.shipment}]
        return
    carried = set(shipment.lines.values_list("order_line_id", flat=True))
    for match in matches:
        if match.order_line is not None and match.order_line.pk not in carried:
            match.problems.append(_("Shipment %(shipment)s did not carry %(number)s line %(line)s.")
                                  % {"shipment": shipment.number, "number": match.purchase_order, "line": match.line})


def invoice_submit(*, supplier_id: int, document: InvoiceDocument, actor: Actor) -> Invoice:
    if not actor.can_invoice(supplier_id):
        raise PermissionDenied(_("Your company's sales or admin users (or an API token with the invoice scope) submit invoices."))
    try:
        with transaction.atomic():
            if Invoice.objects.filter(supplier_id=supplier_id, number=document.number).exists():
                raise _duplicate(document.number)
            preview = invoice_match(supplier_id=supplier_id, document=document, for_update=True)
            errors = preview.errors()
            if errors:
                count = len(errors.get("lines", {})) + len([key for key in errors if key != "lines"])
                raise InvalidDocument(
                    ngettext("The invoice was not submitted: %(count)s problem.",
                             "The invoice was not submitted: %(count)s problems.", count) % {"count": count},
                    details=errors)
            invoice = _store(supplier_id, document, preview, actor)
    except IntegrityError:  # the same number submitted at the same moment by someone else
        raise _duplicate(document.number) from None
    return invoice


def _duplicate(number: str) -> DuplicateInvoice:
    return DuplicateInvoice(_("You have already submitted invoice %(number)s.") % {"number": number},
                            details={"number": [_("Invoice numbers are unique per supplier.")]})


def _store(supplier_id: int, document: InvoiceDocument, preview: MatchPreview, actor: Actor) -> Invoice:
    shipment = Shipment.objects.filter(supplier_id=supplier_id, number=document.shipment).first() if document.shipment else None
    invoice = Invoice.objects.create(
        supplier_id=supplier_id, number=document.number, invoice_date=document.invoice_date, currency=document.currency,
        tax_rate=document.tax_rate, shipment=shipment, net_amount=preview.net_amount, tax_amount=preview.tax_amount,
        channel=actor.channel, submitted_by=actor.label, content_hash=document.content_hash)
    InvoiceLine.objects.bulk_create([
        InvoiceLine(invoice=invoice, line_number=match.position + 1, order_line=match.order_line, quantity=match.quantity,
                    unit_price=match.unit_price, amount=match.amount, reason=match.reason.strip(), differences=match.differences)
        for match in preview.lines
    ])
    orders = sorted({match.purchase_order for match in preview.lines})
    supplier = invoice.supplier
    audit_record(actor=actor, action="invoice.submitted", obj=invoice, supplier=supplier, purchase_order=orders[0],
                 after={"number": invoice.number, "net_amount": decimal_text(invoice.net_amount), "currency": invoice.currency,
                        "purchase_orders": orders, "differences": preview.differences})
    # In order with the first order's other events (a shipment notice before its invoice).
    outbox.publish(type="invoice.submitted", aggregate=orders[0], payload=_payload(invoice, document, preview))
    differing = [match for match in preview.lines if match.differences]
    if differing:
        case = ExceptionCase.objects.create(
            kind=ExceptionCase.Kind.INVOICE_DIFFERENCE, supplier=supplier, invoice=invoice,
            purchase_order=differing[0].order_line.purchase_order,
            summary=(f"Invoice {invoice.number} of {supplier.code}: {len(differing)} line(s) outside price or quantity "
                     f"tolerance")[:300],
            details={"invoice": invoice.number, "lines": [
                {"purchase_order": m.purchase_order, "line": m.line, "differences": m.differences, "reason": m.reason.strip()}
                for m in differing]})
        audit_record(actor=actor, action="exception.opened", obj=case, supplier=supplier, purchase_order=orders[0],
                     after={"kind": case.kind, "invoice": invoice.number})
    return invoice


def _payload(invoice: Invoice, document: InvoiceDocument, preview: MatchPreview) -> dict:
    return {
        "supplier": invoice.supplier.code, "number": invoice.number, "invoice_date": document.invoice_date.isoformat(),
        "currency": invoice.currency, "tax_rate": decimal_text(invoice.tax_rate), "shipment": document.shipment,
        "net_amount": decimal_text(invoice.net_amount), "tax_amount": decimal_text(invoice.tax_amount),
        "gross_amount": decimal_text(invoice.gross_amount), "channel": invoice.channel,
        "lines": [
            {"line": match.position + 1, "purchase_order": match.purchase_order, "order_line": match.line,
             "item": match.order_line.item, "quantity": decimal_text(match.quantity), "uom": match.order_line.uom,
             "unit_price": decimal_text(match.unit_price), "amount": decimal_text(match.amount),
             "reason": match.reason.strip(), "differences": match.differences}
            for match in preview.lines
        ],
    }

