"""Purchase orders from the ERP: the canonical document stored with the revision rules of DESIGN.md."""
from __future__ import annotations

from dataclasses import dataclass
from datetime import date, timedelta
from decimal import Decimal

from django.conf import settings
from django.db import IntegrityError, transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from collaboration.actors import Actor
from collaboration.audit import audit_event, audit_record
from collaboration.documents import PurchaseOrderDocument, json_value
from collaboration.errors import (
    DomainError,
    RevisionContentConflict,
    StaleRevision,
    SupplierMismatch,
    UnknownSupplier,
)
from collaboration.models import (
    AuditEvent,
    PurchaseOrder,
    PurchaseOrderLine,
    PurchaseOrderRevision,
    Supplier,
)
from collaboration.notifications import notify_after_commit
from collaboration.signals import purchase_orders_published
from collaboration.services.decisions import refresh_statuses, supersede_changed_lines


def acknowledgement_due_date() -> date:
    """When an answer to a new or changed order is due: ACKNOWLEDGEMENT_LEAD_DAYS from today."""
    return timezone.localdate() + timedelta(days=settings.ACKNOWLEDGEMENT_LEAD_DAYS)


@dataclass(frozen=True)
class UpsertResult:
    purchase_order: PurchaseOrder
    outcome: str  # "created", "updated" or "unchanged"


def purchase_order_upsert(*, document: PurchaseOrderDocument, actor: Actor) -> UpsertResult:
    """Store one PO revision from the ERP: new, a higher revision, or an idempotent repeat."""
    result = purchase_orders_upsert(documents=[document], actor=actor)[0]
    if isinstance(result, DomainError):
        raise result
    return result


def purchase_orders_upsert(
    *, documents: list[PurchaseOrderDocument], actor: Actor, retry_on_conflict: bool = True
) -> list[UpsertResult | DomainError]:
    """Store many PO revisions; each document succeeds or fails on its own (result or error, in order).

    New orders of the batch are written with a handful of bulk statements; revisions of stored
    orders go one by one. Every document is checked before anything of it is written.
    """
    numbers = [document.number for document in documents]
    if len(set(numbers)) != len(numbers):
        raise ValueError("purchase_orders_upsert needs distinct order numbers per batch")
    results: list[UpsertResult | DomainError | None] = [None] * len(documents)
    with transaction.atomic():
        suppliers = {s.code: s for s in Supplier.objects.filter(code__in={d.supplier for d in documents})}
        stored = {po.number: po for po in PurchaseOrder.objects.select_for_update().filter(number__in=numbers)}
        new: list[tuple[int, PurchaseOrderDocument, Supplier]] = []
        for index, document in enumerate(documents):
            supplier = suppliers.get(document.supplier)
            if supplier is None:
                results[index] = UnknownSupplier.for_code(document.supplier)
            elif document.number in stored:
                try:
                    with transaction.atomic():
                        results[index] = _purchase_order_apply(
                            po=stored[document.number], document=document, supplier=supplier, actor=actor
                        )
                except DomainError as error:
                    results[index] = error
            else:
                new.append((index, document, supplier))
        if new:
            try:
                with transaction.atomic():
                    created = _purchase_orders_create(new=[(d, s) for _, d, s in new], actor=actor)
            except IntegrityError:
                if not retry_on_conflict:
                    raise
                # Another writer stored some of these numbers since we looked: take them one by one,
                # now finding the stored rows.
                for index, document, _ in new:
                    results[index] = purchase_orders_upsert(documents=[document], actor=actor, retry_on_conflict=False)[0]
            else:
                for (index, _, _), po in zip(new, created):
                    results[index] = UpsertResult(purchase_order=po, outcome="created")
    return results


def _purchase_order_apply(
    *, po: PurchaseOrder, document: PurchaseOrderDocument, supplier: Supplier, actor: Actor
) -> UpsertResult:
    if po.supplier_id != supplier.pk:
        raise SupplierMismatch(
            _("Purchase order %(number)s belongs to another supplier; a revision cannot move it.") % {"number": po.number},
            details={"supplier": [_("Differs from the supplier of the stored order.")]},
        )
    if document.revision < po.revision:
        raise StaleRevision(
            _("Purchase order %(number)s is at revision %(current)s; revision %(revision)s is older.")
            % {"number": po.number, "current": po.revision, "revision": document.revision},
            details={"revision": [_("Must be at least %(revision)s.") % {"revision": po.revision}]},
        )
    if document.revision == po.revision:
        if document.content_hash == po.content_hash:
            return UpsertResult(purchase_order=po, outcome="unchanged")
        raise RevisionContentConflict(
            _("Revision %(revision)s of %(number)s was already received with other content; "
              "send a higher revision to change the order.") % {"revision": po.revision, "number": po.number},
            details={"revision": [_("Must be greater than %(revision)s for changed content.") % {"revision": po.revision}]},
        )
    _purchase_order_revise(po=po, document=document, actor=actor)
    return UpsertResult(purchase_order=po, outcome="updated")


ADOPTABLE = {"quantity": "confirmed_quantity", "unit_price": "confirmed_price", "requested_date": "confirmed_date"}


def _adopts_commitment(line: PurchaseOrderLine, differences: dict) -> bool:
    """The ERP changed a confirmed line to exactly what the supplier committed (e.g. an amendment
    after the buyer approved a proposal): the line stays confirmed instead of asking again."""
    return (
        line.response_status == PurchaseOrderLine.ResponseStatus.CONFIRMED
        and not line.is_cancelled
        and set(differences) <= set(ADOPTABLE)
        and all(str(getattr(line, ADOPTABLE[field])) == str(diff["to"]) if field == "requested_date"
                else getattr(line, ADOPTABLE[field]) == Decimal(diff["to"]) for field, diff in differences.items())
    )


def _line_values(line) -> dict:
    return {
        "item": line.item,
        "description": line.description,
        "quantity": line.quantity,
        "uom": line.uom,
        "unit_price": line.unit_price,
        "requested_date": line.requested_date,
    }


def _purchase_orders_create(
    *, new: list[tuple[PurchaseOrderDocument, Supplier]], actor: Actor
) -> list[PurchaseOrder]:
    due = acknowledgement_due_date()
    orders = PurchaseOrder.objects.bulk_create(
        [
            PurchaseOrder(
                number=document.number,
                supplier=supplier,
                revision=document.revision,
                currency=document.currency,
                order_date=document.order_date,
                ship_to=document.ship_to,
                buyer=document.buyer,
                content_hash=document.content_hash,
                acknowledgement_due=due,
            )
            for document, supplier in new
        ]
    )
    lines, revisions, audits = [], [], []
    for po, (document, supplier) in zip(orders, new):
        canonical = document.canonical
        lines.extend(
            PurchaseOrderLine(
                purchase_order=po, line_number=line.line, changed_in_revision=document.revision, **_line_values(line)
            )
            for line in document.lines
        )
        revisions.append(
            PurchaseOrderRevision(
                purchase_order=po, revision=document.revision, document=canonical, content_hash=po.content_hash
            )
        )
        audits.append(audit_event(actor=actor, action="purchase_order.received", obj=po, supplier=supplier, after=canonical))
    PurchaseOrderLine.objects.bulk_create(lines)
    PurchaseOrderRevision.objects.bulk_create(revisions)
    AuditEvent.objects.bulk_create(audits)
    notify_after_commit("new", [po.pk for po in orders])
    purchase_orders_published.send(
        sender=PurchaseOrder, published=[(po, document.canonical, None) for po, (document, _) in zip(orders, new)]
    )
    return orders


def _purchase_order_revise(*, po: PurchaseOrder, document: PurchaseOrderDocument, actor: Actor) -> None:
    before = po.revisions.get(revision=po.revision).document
    existing = {line.line_number: line for line in po.lines.all()}
    incoming = {line.line: line for line in document.lines}
    changes: list[dict] = []
    changed_line_ids: list[int] = []
    for number, new in incoming.items():
        old = existing.get(number)
        values = _line_values(new)
        if old is None:
            PurchaseOrderLine.objects.create(
                purchase_order=po, line_number=number, changed_in_revision=document.revision, **values
            )
            changes.append({"line": number, "change": "added"})
            continue
        differences = {
            field: {"from": json_value(getattr(old, field)), "to": json_value(value)}
            for field, value in values.items()
            if getattr(old, field) != value
        }
        if old.is_cancelled:
            differences["cancelled"] = {"from": True, "to": False}
        if differences:
            adopted = _adopts_commitment(old, differences)
            for field, value in values.items():
                setattr(old, field, value)
            old.is_cancelled = False
            old.changed_in_revision = document.revision
            if adopted:
                old.confirmed_revision = document.revision
            else:
                changed_line_ids.append(old.pk)
            old.save()
            changes.append({"line": number, "change": "adopted" if adopted else "changed", "fields": differences})
    for number, old in existing.items():
        if number not in incoming and not old.is_cancelled:
            old.is_cancelled = True
            old.changed_in_revision = document.revision
            old.save(update_fields=["is_cancelled", "changed_in_revision"])
            changed_line_ids.append(old.pk)
            changes.append({"line": number, "change": "cancelled"})
    header_changes = {
        field: {"from": json_value(getattr(po, field)), "to": json_value(getattr(document, field))}
        for field in ("currency", "order_date", "ship_to", "buyer")
        if getattr(po, field) != getattr(document, field)
    }
    if header_changes:
        changes.insert(0, {"line": None, "change": "header", "fields": header_changes})
    po.revision = document.revision
    po.currency = document.currency
    po.order_date = document.order_date
    po.ship_to = document.ship_to
    po.buyer = document.buyer
    po.content_hash = document.content_hash
    needs_answer = [change["line"] for change in changes if change["line"] is not None and change["change"] != "adopted"]
    if needs_answer:
        po.acknowledgement_due = acknowledgement_due_date()
        po.reminder_sent_at = None
    po.save()
    refresh_statuses(po=po, acknowledgements=supersede_changed_lines(po=po, changed_line_ids=changed_line_ids))
    if needs_answer:
        notify_after_commit("changed", [po.pk], lines=needs_answer)
    PurchaseOrderRevision.objects.create(
        purchase_order=po,
        revision=document.revision,
        document=document.canonical,
        content_hash=document.content_hash,
        changes=changes,
    )
    audit_record(
        actor=actor, action="purchase_order.revised", obj=po, supplier=po.supplier, before=before, after=document.canonical
    )
    purchase_orders_published.send(sender=PurchaseOrder, published=[(po, document.canonical, changes)])
