"""Advance shipping notices: draft, submit, correct, cancel. Every channel (portal, API, spreadsheet,
DESADV) hands a `ShipmentDocument` to these functions; they check it against the orders, write it
whole or not at all, audit it, and tell the ERP per purchase order through the outbox.

Rules: only acknowledged (confirmed) lines of the supplier's own orders to the shipment's ship-to;
at most the open quantity (confirmed minus what other submitted shipments carry) plus the
over-delivery tolerance of the buyer's policy; lots and serial numbers where the item requires
them; SSCCs supplied (valid, unused) or allocated.
"""
from __future__ import annotations

from collections import Counter, defaultdict
from decimal import Decimal

from django.conf import settings
from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from collaboration import selectors
from collaboration.actors import Actor
from collaboration.audit import audit_record
from collaboration.documents import ShipmentDocument, decimal_text
from collaboration.errors import DomainError, InvalidDocument, NotFound, PermissionDenied
from collaboration.gs1 import InvalidNumber, sscc_validate
from collaboration.models import (
    ItemRule,
    Package,
    PackageContent,
    PurchaseOrder,
    PurchaseOrderLine,
    Shipment,
    ShipmentLine,
    Supplier,
)
from collaboration.services.quality_documents import MissingDocuments, missing_required_documents
from collaboration.services.receipt_matching import shipment_has_receipts
from collaboration.services.sscc import sscc_allocate
from collaboration.tolerance import Policies
from erp_bridge import outbox

class ShipmentClosed(DomainError):
    code = "shipment_closed"
    status = 409


def shipment_save_draft(*, document: ShipmentDocument, actor: Actor) -> Shipment:
    """Create the draft, or replace the content of a draft of the same number."""
    return _save(document=document, actor=actor, submit=False)


def shipment_submit(*, document: ShipmentDocument, actor: Actor) -> Shipment:
    """Submit (a new one or a draft); a submitted shipment sent again is a correction."""
    return _save(document=document, actor=actor, submit=True)


def shipment_cancel(*, number: str, supplier_id: int, actor: Actor) -> Shipment:
    with transaction.atomic():
        shipment = _shipment_for_update(number=number, supplier_id=supplier_id, actor=actor)
        if shipment is None:
            raise NotFound(_("Shipment %(number)s not found.") % {"number": number})
        if shipment.status == Shipment.Status.CANCELLED:
            raise ShipmentClosed(_("Shipment %(number)s is already cancelled.") % {"number": number})
        _refuse_if_received(shipment)
        was_submitted = shipment.status == Shipment.Status.SUBMITTED
        shipment.status = Shipment.Status.CANCELLED
        shipment.save(update_fields=["status", "updated_at"])
        if was_submitted:
            _publish(shipment, "shipment.cancelled")
        audit_record(actor=actor, action="shipment.cancelled", obj=shipment, supplier=shipment.supplier,
                     after={"number": number})
        return shipment


def _refuse_if_received(shipment: Shipment) -> None:
    if shipment_has_receipts(shipment):
        raise ShipmentClosed(
            _("Shipment %(number)s has been received; it can no longer be corrected or cancelled."
              " Tell the buyer about any difference.") % {"number": shipment.number}
        )


def _shipment_for_update(*, number: str, supplier_id: int, actor: Actor) -> Shipment | None:
    if not actor.can_ship(supplier_id):
        raise PermissionDenied(_("You may not create or change shipments for this supplier."))
    return Shipment.objects.select_for_update().filter(supplier_id=supplier_id, number=number).first()


def _save(*, document: ShipmentDocument, actor: Actor, submit: bool) -> Shipment:
    with transaction.atomic():
        orders = _orders(document=document, actor=actor)
        supplier = next(iter(orders.values())).supplier
        shipment = _shipment_for_update(number=document.number, supplier_id=supplier.pk, actor=actor)
        if shipment is not None and shipment.status == Shipment.Status.CANCELLED:
            raise ShipmentClosed(_("Shipment %(number)s was cancelled; use another number.") % {"number": document.number})
        if shipment is not None and shipment.status == Shipment.Status.SUBMITTED and not submit:
            raise ShipmentClosed(_("Shipment %(number)s is submitted; submit a correction instead of a draft.")
                                 % {"number": document.number})
        if shipment is not None:
            _refuse_if_received(shipment)
        order_lines = _check_lines(document=document, orders=orders, supplier_id=supplier.pk, shipment=shipment)
        if submit and (unpacked := document.packing_differences()):
            raise InvalidDocument(_("Pack every line completely before submitting."), details={
                "lines": {str(position): {"quantity": [message]} for position, message in unpacked.items()}})
        if submit:
            _require_quality_documents(document=document, order_lines=order_lines, supplier_id=supplier.pk)
        ssccs = _ssccs(document=document, shipment=shipment, supplier=supplier)
        correction = shipment is not None and shipment.status == Shipment.Status.SUBMITTED
        fresh = shipment is None
        shipment = shipment or Shipment(supplier=supplier, number=document.number)
        for field in ("ship_to", "despatch_date", "expected_arrival", "carrier", "tracking_number"):
            setattr(shipment, field, getattr(document, field))
        if submit:
            shipment.status = Shipment.Status.SUBMITTED
            shipment.revision += 1
            shipment.submitted_at = timezone.now()
        shipment.save()
        written = _replace_content(shipment=shipment, document=document, order_lines=order_lines, ssccs=ssccs, fresh=fresh)
        action = "shipment.corrected" if correction else "shipment.submitted" if submit else "shipment.draft_saved"
        if submit:
            _publish(shipment, action, written)
        audit_record(actor=actor, action=action, obj=shipment, supplier=supplier,
                     after={"number": shipment.number, "revision": shipment.revision, "lines": len(document.lines),
                            "packages": len(document.packages)})
        return shipment


def _orders(*, document: ShipmentDocument, actor: Actor) -> dict[str, PurchaseOrder]:
    """The referenced orders the actor may see, all of one supplier; an unknown or foreign order is
    reported the same way (never revealing another supplier's order)."""
    numbers = {line.purchase_order for line in document.lines}
    visible = selectors.visible_to(PurchaseOrder.objects.select_related("supplier"), actor=actor)
    orders = {po.number: po for po in visible.filter(number__in=numbers)}
    errors = {
        str(position): {"purchase_order": [_("No purchase order %(number)s of yours.") % {"number": line.purchase_order}]}
        for position, line in enumerate(document.lines)
        if line.purchase_order not in orders
    }
    if errors:
        raise InvalidDocument(_("The shipment names orders that are not yours."), details={"lines": errors})
    if len({po.supplier_id for po in orders.values()}) > 1:
        raise InvalidDocument(_("One shipment carries the orders of one supplier."),
                              details={"lines": {"non_field_errors": [_("Orders of several suppliers.")]}})
    return orders


def _check_lines(*, document: ShipmentDocument, orders: dict[str, PurchaseOrder], supplier_id: int,
                 shipment: Shipment | None) -> dict[int, PurchaseOrderLine]:
    """Every line checked; all problems reported at once, keyed by position in the document."""
    wanted = {(line.purchase_order, line.order_line) for line in document.lines}
    order_lines = {
        (line.purchase_order.number, line.line_number): line
        # Locked: two shipments of the same line are checked one after the other (open quantity).
        for line in PurchaseOrderLine.objects.select_for_update(of=("self",)).select_related("purchase_order").filter(
            purchase_order__in=orders.values(), line_number__in={number for _order, number in wanted}
        ).order_by("pk")
        if (line.purchase_order.number, line.line_number) in wanted
    }
    shipped_elsewhere = selectors.shipped_quantities([line.pk for line in order_lines.values()], exclude=shipment)
    rules = {rule.item: rule for rule in ItemRule.objects.filter(item__in={l.item for l in order_lines.values()})}
    policies = Policies(supplier_id=supplier_id)
    this_shipment: dict[int, Decimal] = defaultdict(Decimal)
    errors: dict[str, dict[str, list[str]]] = {}
    resolved: dict[int, PurchaseOrderLine] = {}
    for position, entry in enumerate(document.lines):
        problems: dict[str, list[str]] = defaultdict(list)
        po = orders[entry.purchase_order]
        line = order_lines.get((entry.purchase_order, entry.order_line))
        if po.ship_to != document.ship_to:
            problems["purchase_order"].append(_("%(number)s is delivered to %(ship_to)s, not %(shipment_ship_to)s.")
                                              % {"number": po.number, "ship_to": po.ship_to,
                                                 "shipment_ship_to": document.ship_to})
        if line is None or line.is_cancelled:
            problems["order_line"].append(_("%(number)s has no open line %(line)s.") % {"number": po.number, "line": entry.order_line})
        elif line.response_status == PurchaseOrderLine.ResponseStatus.REJECTED:
            problems["order_line"].append(_("Line %(line)s of %(number)s was rejected; it cannot be shipped.")
                                          % {"line": entry.order_line, "number": po.number})
        elif line.response_status != PurchaseOrderLine.ResponseStatus.CONFIRMED:
            problems["order_line"].append(_("Line %(line)s of %(number)s is not acknowledged yet.")
                                          % {"line": entry.order_line, "number": po.number})
        else:
            resolved[entry.line] = line
            this_shipment[line.pk] += entry.quantity
            open_quantity = line.confirmed_quantity - (shipped_elsewhere.get(line.pk) or 0)
            allowed = open_quantity * (1 + policies.for_item(line.item).quantity_over_pct / Decimal(100))
            if this_shipment[line.pk] > allowed:
                problems["quantity"].append(
                    _("Open on line %(line)s of %(number)s: %(quantity)s %(uom)s"
                      " (up to %(allowed)s with the over-delivery tolerance).")
                    % {"line": entry.order_line, "number": po.number, "quantity": decimal_text(open_quantity),
                       "uom": line.uom, "allowed": decimal_text(allowed.normalize())}
                )
            rule = rules.get(line.item)
            if rule and rule.lot_controlled and not entry.lot:
                problems["lot"].append(_("%(item)s is lot-controlled: name the lot.") % {"item": line.item})
            if rule and rule.serial_controlled and (
                entry.quantity != len(entry.serial_numbers) or len(set(entry.serial_numbers)) != len(entry.serial_numbers)
            ):
                problems["serial_numbers"].append(
                    _("%(item)s is serialised: list %(quantity)s different serial numbers.")
                    % {"item": line.item, "quantity": decimal_text(entry.quantity)}
                )
        if problems:
            errors[str(position)] = dict(problems)
    if errors:
        raise InvalidDocument(_("Some lines cannot be shipped."), details={"lines": errors})
    return resolved


def _require_quality_documents(*, document: ShipmentDocument, order_lines: dict[int, PurchaseOrderLine],
                               supplier_id: int) -> None:
    """Items whose ItemRule requires quality documents are shipped only with them, valid on the despatch date."""
    missing = missing_required_documents(
        supplier_id=supplier_id, valid_on=document.despatch_date,
        lines=[(position, order_lines[entry.line].item, entry.lot) for position, entry in enumerate(document.lines)],
    )
    if missing:
        raise MissingDocuments(
            _("Some lines need quality documents before the shipment can be submitted."),
            details={"lines": {str(position): {"documents": [need.sentence for need in needs]}
                               for position, needs in missing.items()}},
            missing=[need for needs in missing.values() for need in needs],
        )


def _ssccs(*, document: ShipmentDocument, shipment: Shipment | None, supplier) -> list[str]:
    """One SSCC per package, in document order: given ones checked, missing ones allocated."""
    given: dict[int, str] = {}
    errors: dict[str, dict[str, list[str]]] = {}
    for position, package in enumerate(document.packages):
        if package.sscc:
            try:
                given[position] = sscc_validate(package.sscc)
            except InvalidNumber as error:
                errors[str(position)] = {"sscc": [str(error)]}
    repeated = {sscc for sscc, count in Counter(given.values()).items() if count > 1}
    taken = set(Package.objects.filter(sscc__in=given.values()).exclude(shipment=shipment).values_list("sscc", flat=True))
    own = set(Package.objects.filter(shipment=shipment).values_list("sscc", flat=True)) if shipment else set()
    reserved = _reserved_prefixes(supplier)
    for position, sscc in given.items():
        if sscc in repeated:
            errors.setdefault(str(position), {})["sscc"] = [_("SSCC %(sscc)s is used twice in this shipment.") % {"sscc": sscc}]
        elif sscc not in own and any(sscc[1:1 + len(prefix)] == prefix for prefix in reserved):
            # Serials under these prefixes are the portal's to hand out (to this supplier or others).
            # Checked before "already used", so nobody learns whether another supplier used one.
            errors.setdefault(str(position), {})["sscc"] = [
                _("SSCC %(sscc)s lies under a GS1 Company Prefix the portal allocates from: leave the SSCC empty "
                  "to get one, or use one under your own prefix.") % {"sscc": sscc}]
        elif sscc in taken:
            errors.setdefault(str(position), {})["sscc"] = [_("SSCC %(sscc)s is already used by another shipment.")
                                                            % {"sscc": sscc}]
    if errors:
        raise InvalidDocument(_("Some packages have an SSCC that cannot be used."), details={"packages": errors})
    # A draft saved again keeps the SSCCs allocated to its packages (by reference), so labels stay valid.
    kept = dict(Package.objects.filter(shipment=shipment).values_list("reference", "sscc")) if shipment else {}
    missing = [p for p, package in enumerate(document.packages) if not package.sscc and package.reference not in kept]
    fresh = iter(sscc_allocate(supplier=supplier, count=len(missing)) if missing else [])
    return [
        given.get(position) or kept.get(package.reference) or next(fresh)
        for position, package in enumerate(document.packages)
    ]


def _reserved_prefixes(supplier) -> set[str]:
    """The portal's prefix and the prefixes registered for other suppliers; a supplier's own
    registered prefix stays open to its own labels (allocation skips serials it has used)."""
    prefixes = set(Supplier.objects.exclude(pk=supplier.pk).exclude(gs1_company_prefix="")
                   .values_list("gs1_company_prefix", flat=True))
    if settings.GS1_COMPANY_PREFIX and settings.GS1_COMPANY_PREFIX != supplier.gs1_company_prefix:
        prefixes.add(settings.GS1_COMPANY_PREFIX)
    return prefixes


def _replace_content(*, shipment: Shipment, document: ShipmentDocument, order_lines: dict[int, PurchaseOrderLine],
                     ssccs: list[str], fresh: bool) -> tuple[list[ShipmentLine], list[Package], list[PackageContent]]:
    """Write lines, packages and contents (replacing what a stored shipment had); returns the rows
    written, with their relations set, so the event can be built without reading them back."""
    if not fresh:
        shipment.packages.all().delete()
        shipment.lines.all().delete()
    lines = {
        entry.line: ShipmentLine(shipment=shipment, line_number=entry.line, order_line=order_lines[entry.line],
                                 quantity=entry.quantity, lot=entry.lot, serial_numbers=list(entry.serial_numbers))
        for entry in document.lines
    }
    ShipmentLine.objects.bulk_create(lines.values())
    packages = {
        entry.reference: Package(shipment=shipment, position=position, reference=entry.reference, sscc=sscc, kind=entry.kind)
        for position, (entry, sscc) in enumerate(zip(document.packages, ssccs))
    }
    # Outermost first, one insert per level, so each package is created with its parent's key.
    parents = {entry.reference: entry.parent for entry in document.packages}
    level = [reference for reference, parent in parents.items() if not parent]
    while level:
        for reference in level:
            if parents[reference]:
                packages[reference].parent = packages[parents[reference]]
        Package.objects.bulk_create([packages[reference] for reference in level])
        created = set(level)
        level = [reference for reference, parent in parents.items() if parent in created]
    contents = PackageContent.objects.bulk_create(
        PackageContent(package=packages[entry.reference], shipment_line=lines[content.line], quantity=content.quantity)
        for entry in document.packages for content in entry.contents
    )
    return sorted(lines.values(), key=lambda line: line.line_number), list(packages.values()), contents


def _publish(shipment: Shipment, event_type: str,
             written: tuple[list[ShipmentLine], list[Package], list[PackageContent]] | None = None) -> None:
    """One event per purchase order the shipment carries (the outbox orders events per order); each
    also lists the whole shipment's lines, so an ERP that files one document can build it from any.
    `written` is what _replace_content just stored (else it is read from the database)."""
    if written is None:  # a cancellation: the orders it concerned, nothing of the content
        lines, package_rows, contents = list(shipment.lines.select_related("order_line__purchase_order")), [], []
    else:
        lines, package_rows, contents = written
    packed: dict[int, list[PackageContent]] = defaultdict(list)
    for content in sorted(contents, key=lambda c: c.package.position):
        packed[content.shipment_line_id].append(content)
    by_order: dict[str, list[ShipmentLine]] = defaultdict(list)
    for line in lines:
        by_order[line.order_line.purchase_order.number].append(line)
    packages = [
        {"sscc": p.sscc, "kind": p.kind, "parent": p.parent.sscc if p.parent_id else ""}
        for p in package_rows
    ]
    everything = [
        {"purchase_order": line.order_line.purchase_order.number, "order_line": line.order_line.line_number,
         "quantity": decimal_text(line.quantity), "lot": line.lot}
        for line in lines
    ]
    header = {
        "shipment": shipment.number, "revision": shipment.revision, "supplier": shipment.supplier.code,
        "ship_to": shipment.ship_to, "despatch_date": shipment.despatch_date.isoformat(),
        "expected_arrival": shipment.expected_arrival.isoformat(), "carrier": shipment.carrier,
        "tracking_number": shipment.tracking_number,
    }
    for number, order_lines in sorted(by_order.items()):
        outbox.publish(type=event_type, aggregate=number, payload={
            **header,
            "purchase_order": number,
            "lines": [
                {"line": line.line_number, "order_line": line.order_line.line_number, "item": line.order_line.item,
                 "quantity": decimal_text(line.quantity), "uom": line.order_line.uom, "lot": line.lot,
                 "serial_numbers": line.serial_numbers,
                 "packages": [{"sscc": c.package.sscc, "quantity": decimal_text(c.quantity)} for c in packed[line.pk]]}
                for line in order_lines
            ] if event_type != "shipment.cancelled" else [],
            "packages": packages if event_type != "shipment.cancelled" else [],
            # The whole shipment, for ERPs that keep one document across orders (e.g. Tryton).
            "shipment_lines": everything if event_type != "shipment.cancelled" else [],
        })
