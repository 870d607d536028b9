"""Receipts and invoice statuses from the ERP (API, batch file, Tryton pull): each stored once.

A receipt is identified for good by its ERP reference: the same document again is a no-op, the
same reference with other content is refused. An invoice status carries a version: a repeat is a
no-op, a higher version replaces it, an older one is refused.
"""
from __future__ import annotations

from dataclasses import dataclass
from decimal import Decimal

from django.db import transaction
from django.db.models import F
from django.utils.translation import gettext as _

from collaboration.actors import Actor
from collaboration.audit import audit_record
from collaboration.documents import InvoiceStatusDocument, ReceiptDocument
from collaboration.errors import (
    DocumentContentConflict,
    InvalidDocument,
    StaleRevision,
    SupplierMismatch,
    UnknownPurchaseOrder,
    UnknownSupplier,
)
from collaboration.models import InventoryPosition, InvoiceStatus, PurchaseOrder, PurchaseOrderLine, Receipt, ReceiptLine, Supplier
from collaboration.services.receipt_matching import receipt_match


@dataclass(frozen=True)
class RecordResult:
    obj: Receipt | InvoiceStatus | InventoryPosition
    outcome: str  # "created", "updated" or "unchanged"


def receipt_record(*, document: ReceiptDocument, actor: Actor) -> RecordResult:
    with transaction.atomic():
        stored = Receipt.objects.select_for_update().filter(reference=document.reference).first()
        if stored is not None:
            if stored.content_hash != document.content_hash:
                raise DocumentContentConflict(
                    _("Receipt %(reference)s is already recorded with other content; send a new receipt to correct it.")
                    % {"reference": document.reference}
                )
            return RecordResult(stored, "unchanged")
        po = PurchaseOrder.objects.filter(number=document.purchase_order).select_related("supplier").first()
        if po is None:
            raise UnknownPurchaseOrder.for_number(document.purchase_order)
        lines = {line.line_number: line for line in po.lines.all()}
        unknown = {
            str(position): {"line": [_("%(number)s has no line %(line)s.") % {"number": po.number, "line": entry.line}]}
            for position, entry in enumerate(document.lines)
            if entry.line not in lines
        }
        if unknown:
            raise InvalidDocument(_("The receipt names lines the order does not have."), details={"lines": unknown})
        receipt = Receipt.objects.create(
            reference=document.reference,
            purchase_order=po,
            received_on=document.received_on,
            content_hash=document.content_hash,
            document=document.canonical,
        )
        receipt_lines = ReceiptLine.objects.bulk_create([
            ReceiptLine(receipt=receipt, order_line=lines[entry.line], quantity=entry.quantity, sscc=entry.sscc, lot=entry.lot,
                        item=entry.item)
            for entry in document.lines
        ])
        received: dict[int, Decimal] = {}
        for line in receipt_lines:
            received[line.order_line_id] = received.get(line.order_line_id, Decimal(0)) + line.quantity
        for order_line_id, quantity in received.items():
            PurchaseOrderLine.objects.filter(pk=order_line_id).update(received_quantity=F("received_quantity") + quantity)
        receipt_match(receipt=receipt, lines=receipt_lines)
        audit_record(actor=actor, action="receipt.recorded", obj=receipt, supplier=po.supplier, after=document.canonical,
                     purchase_order=po.number)
        return RecordResult(receipt, "created")


def supplier_and_order(*, supplier_code: str, order_number: str) -> tuple[Supplier, PurchaseOrder | None]:
    """The supplier an ERP document names and its purchase order, if it names one, which must be
    that supplier's."""
    supplier = Supplier.objects.filter(code=supplier_code).first()
    if supplier is None:
        raise UnknownSupplier.for_code(supplier_code)
    if not order_number:
        return supplier, None
    po = PurchaseOrder.objects.filter(number=order_number).first()
    if po is None:
        raise UnknownPurchaseOrder.for_number(order_number)
    if po.supplier_id != supplier.pk:
        raise SupplierMismatch(
            _("Purchase order %(number)s belongs to another supplier.") % {"number": po.number},
            details={"purchase_order": [_("The order belongs to another supplier.")]},
        )
    return supplier, po


def invoice_status_record(*, document: InvoiceStatusDocument, actor: Actor) -> RecordResult:
    with transaction.atomic():
        supplier, po = supplier_and_order(supplier_code=document.supplier, order_number=document.purchase_order)
        stored = (
            InvoiceStatus.objects.select_for_update()
            .filter(supplier=supplier, invoice_number=document.invoice_number)
            .first()
        )
        if stored is not None:
            if document.version < stored.version:
                raise StaleRevision(
                    _("Invoice %(invoice)s is at version %(stored)s; version %(version)s is older.")
                    % {"invoice": document.invoice_number, "stored": stored.version, "version": document.version}
                )
            if document.version == stored.version:
                if stored.content_hash != document.content_hash:
                    raise DocumentContentConflict(
                        _("Version %(version)s of invoice %(invoice)s came before with other content.")
                        % {"version": document.version, "invoice": document.invoice_number}
                    )
                return RecordResult(stored, "unchanged")
        before = _invoice_status_values(stored) if stored else None
        status = stored or InvoiceStatus(supplier=supplier, invoice_number=document.invoice_number)
        status.version = document.version
        status.purchase_order = po
        status.status = document.status
        status.reason = document.reason
        status.paid_on = document.paid_on
        status.payment_reference = document.payment_reference
        status.content_hash = document.content_hash
        status.save()
        audit_record(actor=actor, action="invoice.status", obj=status, supplier=supplier, before=before,
                     after=_invoice_status_values(status), purchase_order=po.number if po else "")
        return RecordResult(status, "updated" if stored else "created")


def _invoice_status_values(status: InvoiceStatus) -> dict:
    return {
        "version": status.version,
        "status": status.status,
        "reason": status.reason,
        "paid_on": status.paid_on.isoformat() if status.paid_on else None,
        "payment_reference": status.payment_reference,
    }
