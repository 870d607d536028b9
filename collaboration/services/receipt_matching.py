"""Receipts against ASNs: each received quantity is counted against the ASN lines that announced it,
and each difference opens a case for the buyer: short, over, unannounced or other item, other lot, late.

Runs inside `receipt_record`'s transaction, so a receipt is never stored without its matches. Which
ASN line a receipt line counts against: the submitted ASN lines of the same order line, narrowed to
the scanned package (SSCC of the package or of a pallet it sits on) and then to the same lot when
the receipt names them, oldest despatch first; a return (negative quantity) comes off the newest.
"""
from __future__ import annotations

from collections import defaultdict
from decimal import Decimal

from collaboration.documents import decimal_text
from portal.db import update_by_pk
from collaboration.models import (
    ExceptionCase,
    Package,
    PackageContent,
    Receipt,
    ReceiptLine,
    ReceiptMatch,
    Shipment,
    ShipmentLine,
)

Kind = ExceptionCase.Kind
QUANTITY_KINDS = (Kind.RECEIPT_SHORT, Kind.RECEIPT_OVER)


def receipt_match(*, receipt: Receipt, lines: list[ReceiptLine]) -> list[ExceptionCase]:
    """Match the receipt's lines (with their `order_line` loaded); returns the cases opened."""
    po = receipt.purchase_order
    # The order lines come with the receipt lines and the shipments are few: attach both instead of
    # joining them onto every candidate row.
    order_lines = {line.order_line_id: line.order_line for line in lines}
    for order_line in order_lines.values():
        order_line.purchase_order = po
    # The shipments are locked first, in key order, as cancelling and correcting lock them: a receipt
    # and a correction of the same ASN run one after the other, and the lines are read after the lock.
    shipment_ids = set(
        ShipmentLine.objects.filter(order_line_id__in=order_lines, shipment__status=Shipment.Status.SUBMITTED)
        .values_list("shipment_id", flat=True)
    )
    shipments = {
        shipment.pk: shipment
        for shipment in Shipment.objects.select_for_update().filter(pk__in=shipment_ids, status=Shipment.Status.SUBMITTED)
        .order_by("pk")
    }
    candidates: dict[int, list[ShipmentLine]] = defaultdict(list)
    rows = list(
        ShipmentLine.objects.filter(order_line_id__in=order_lines, shipment_id__in=shipments)
        .order_by("shipment__despatch_date", "shipment_id", "line_number")
    )
    for candidate in rows:
        candidate.shipment, candidate.order_line = shipments[candidate.shipment_id], order_lines[candidate.order_line_id]
        candidates[candidate.order_line_id].append(candidate)
    in_package = _lines_in_packages(
        ssccs={line.sscc for line in lines if line.sscc},
        shipment_ids={c.shipment_id for group in candidates.values() for c in group},
    )
    matches: list[ReceiptMatch] = []
    cases: list[ExceptionCase] = []
    touched: dict[int, ShipmentLine] = {}

    def case(kind: str, line: ReceiptLine, summary: str, shipment_line: ShipmentLine | None = None, **details) -> None:
        cases.append(ExceptionCase(
            kind=kind, supplier_id=po.supplier_id, purchase_order=po, receipt=receipt,
            shipment=shipment_line.shipment if shipment_line else None, shipment_line=shipment_line,
            summary=summary[:300],
            details={"receipt": receipt.reference, "order_line": line.order_line.line_number, **details},
        ))

    for line in lines:
        order_line = line.order_line
        where = f"line {order_line.line_number} of {po.number}"
        pool = candidates.get(line.order_line_id, [])
        if line.sscc and (scanned := [c for c in pool if c.pk in in_package.get(line.sscc, ())]):
            pool = scanned
        if line.lot and pool:
            same_lot = [c for c in pool if c.lot == line.lot]
            if same_lot:
                pool = same_lot
            elif any(c.lot for c in pool):
                announced = ", ".join(sorted({c.lot for c in pool if c.lot}))
                case(Kind.RECEIPT_WRONG_LOT, line, f"Lot {line.lot} received on {where}; the ASN announced {announced}.",
                     pool[0], received_lot=line.lot, announced_lots=announced.split(", "))
        if line.item and line.item != order_line.item:
            # Another item does not fill the ASN line: the announced item is still missing.
            case(Kind.RECEIPT_UNEXPECTED, line, f"{line.item} received on {where}, which orders {order_line.item}.",
                 pool[0] if pool else None, received_item=line.item, ordered_item=order_line.item)
            matches.append(ReceiptMatch(receipt_line=line, shipment_line=None, quantity=line.quantity))
        elif not pool:
            matches.append(ReceiptMatch(receipt_line=line, shipment_line=None, quantity=line.quantity))
            if line.quantity > 0:
                case(Kind.RECEIPT_UNEXPECTED, line,
                     f"{decimal_text(line.quantity)} {order_line.uom} received on {where}; no ASN announced it.",
                     quantity=decimal_text(line.quantity))
        else:
            for shipment_line, quantity in _allocate(line.quantity, pool):
                matches.append(ReceiptMatch(receipt_line=line, shipment_line=shipment_line, quantity=quantity))
                if shipment_line is not None:
                    shipment_line.received_quantity += quantity
                    touched[shipment_line.pk] = shipment_line
        committed = order_line.confirmed_date
        if line.quantity > 0 and committed and receipt.received_on > committed:
            days = (receipt.received_on - committed).days
            case(Kind.RECEIPT_LATE, line, f"{where.capitalize()} received {days} day(s) after the committed {committed}.",
                 pool[0] if pool else None, committed_date=committed.isoformat(), days_late=days)

    ReceiptMatch.objects.bulk_create(matches)
    update_by_pk(ShipmentLine, "received_quantity", {pk: line.received_quantity for pk, line in touched.items()})
    cases += _quantity_cases(receipt=receipt, lines=list(touched.values()))
    ExceptionCase.objects.bulk_create(cases)
    _refresh_receipt_status({line.shipment_id for line in touched.values()})
    return cases


def _allocate(quantity: Decimal, pool: list[ShipmentLine]) -> list[tuple[ShipmentLine | None, Decimal]]:
    """Fill the announced lines in order; what is left goes to the last one (an over-delivery). A
    return empties the newest first; more returned than was received counts against no ASN line."""
    parts: list[tuple[ShipmentLine | None, Decimal]] = []
    remaining = quantity
    ordered = pool if quantity > 0 else list(reversed(pool))
    for shipment_line in ordered:
        room = shipment_line.quantity - shipment_line.received_quantity if quantity > 0 else -shipment_line.received_quantity
        take = min(room, remaining) if quantity > 0 else max(room, remaining)
        if take and (take > 0) == (quantity > 0):
            parts.append((shipment_line, take))
            remaining -= take
        if not remaining:
            return parts
    parts.append((ordered[-1] if quantity > 0 else None, remaining))
    return parts


def _lines_in_packages(*, ssccs: set[str], shipment_ids: set[int]) -> dict[str, set[int]]:
    """For each scanned SSCC, the ASN lines packed in it or in any package inside it."""
    if not ssccs or not shipment_ids:
        return {}
    parent_of = dict(Package.objects.filter(shipment_id__in=shipment_ids).values_list("pk", "parent_id"))
    sscc_of = dict(Package.objects.filter(shipment_id__in=shipment_ids, sscc__in=ssccs).values_list("pk", "sscc"))
    found: dict[str, set[int]] = defaultdict(set)
    for package_id, shipment_line_id in PackageContent.objects.filter(package__shipment_id__in=shipment_ids).values_list(
        "package_id", "shipment_line_id"
    ):
        node = package_id
        while node is not None:
            if node in sscc_of:
                found[sscc_of[node]].add(shipment_line_id)
            node = parent_of.get(node)
    return found


def _quantity_cases(*, receipt: Receipt, lines: list[ShipmentLine]) -> list[ExceptionCase]:
    """One open short or over case per ASN line at most: refreshed while receipts come in, closed once
    the received quantity equals the announced one; returns the new ones."""
    open_cases = {
        (case.shipment_line_id, case.kind): case
        for case in ExceptionCase.objects.select_for_update().filter(
            shipment_line__in=lines, kind__in=QUANTITY_KINDS, status=ExceptionCase.Status.OPEN)
    }
    new: list[ExceptionCase] = []
    changed: list[ExceptionCase] = []
    for line in lines:
        difference = line.received_quantity - line.quantity
        kind = Kind.RECEIPT_SHORT if difference < 0 else Kind.RECEIPT_OVER if difference > 0 else None
        for other in QUANTITY_KINDS:
            stale = open_cases.get((line.pk, other))
            if stale and other != kind:
                stale.status = ExceptionCase.Status.CLOSED
                stale.decision_comment = f"Receipt {receipt.reference} brought the received quantity to {decimal_text(line.received_quantity)}."
                changed.append(stale)
        if kind is None:
            continue
        order_line = line.order_line
        summary = (
            f"ASN {line.shipment.number} line {line.line_number} ({order_line.purchase_order.number} line "
            f"{order_line.line_number}): {decimal_text(line.quantity)} announced, {decimal_text(line.received_quantity)} received."
        )
        details = {"receipt": receipt.reference, "order_line": order_line.line_number, "shipment": line.shipment.number,
                   "announced": decimal_text(line.quantity), "received": decimal_text(line.received_quantity),
                   "difference": decimal_text(difference)}
        if (existing := open_cases.get((line.pk, kind))) is not None:
            existing.summary, existing.details, existing.receipt = summary, details, receipt
            changed.append(existing)
        else:
            new.append(ExceptionCase(kind=kind, supplier_id=line.shipment.supplier_id, purchase_order=order_line.purchase_order,
                                     shipment=line.shipment, shipment_line=line, receipt=receipt, summary=summary,
                                     details=details))
    ExceptionCase.objects.bulk_update(changed, ["status", "decision_comment", "summary", "details", "receipt"])
    return new


def _refresh_receipt_status(shipment_ids: set[int]) -> None:
    """Received as announced, partly received (some lines still nothing), or with differences."""
    by_shipment: dict[int, list[tuple[Decimal, Decimal]]] = defaultdict(list)
    for shipment_id, announced, received in ShipmentLine.objects.filter(shipment_id__in=shipment_ids).values_list(
        "shipment_id", "quantity", "received_quantity"
    ):
        by_shipment[shipment_id].append((announced, received))
    other_differences = set(
        ExceptionCase.objects.filter(shipment_id__in=shipment_ids, kind__in=(Kind.RECEIPT_WRONG_LOT, Kind.RECEIPT_UNEXPECTED))
        .exclude(status=ExceptionCase.Status.CLOSED).values_list("shipment_id", flat=True)
    )
    Status = Shipment.ReceiptStatus
    by_status: dict[str, list[int]] = defaultdict(list)
    for shipment_id, pairs in by_shipment.items():
        if all(received == 0 for _, received in pairs):
            status = Status.NOT_RECEIVED
        elif any(received > announced for announced, received in pairs):
            status = Status.DIFFERENCES
        elif all(received == announced for announced, received in pairs):
            status = Status.DIFFERENCES if shipment_id in other_differences else Status.RECEIVED
        elif any(received == 0 for _, received in pairs):
            status = Status.PARTIAL
        else:
            status = Status.DIFFERENCES
        by_status[status].append(shipment_id)
    for status, ids in by_status.items():
        Shipment.objects.filter(pk__in=ids).exclude(receipt_status=status).update(receipt_status=status)


def shipment_has_receipts(shipment: Shipment) -> bool:
    return ReceiptMatch.objects.filter(shipment_line__shipment=shipment).exists()
