"""Tryton as the portal's ERP: pull confirmed purchases and receipts, push decided acknowledgements.

- `pull_purchases` / `pull_receipts` poll with a high-water mark (SyncCursor) and go through the
  same services as the ERP API, so a repeat is a no-op. Tryton stamps records with the start time
  of the writing transaction, so each poll looks back TRYTON_POLL_OVERLAP_SECONDS.
- `TrytonConnector` is the relay's connector for the "erp" destination when TRYTON_URL is set.
  Tryton does not dedupe by idempotency key; every call is made idempotent instead: dates are set
  absolutely and an amendment is only made when the line differs from the decided values.

Purchase lines map to portal lines by Tryton's line id (stable across amendments), so the portal's
line number is the Tryton line id.
"""
from __future__ import annotations

import datetime as dt
import functools
import logging
from dataclasses import dataclass, field
from decimal import Decimal

from django.conf import settings

from collaboration import services
from collaboration.actors import Actor
from collaboration.documents import parse_purchase_order, parse_receipt
from collaboration.errors import DomainError, InvalidDocument
from collaboration.models import Channel
from erp_bridge.connectors import ERROR_EXCERPT_CHARS, DeliveryResult
from erp_bridge.models import SyncCursor
from erp_bridge.tryton.client import TrytonClient, TrytonError, TrytonRefused, TrytonUnavailable

logger = logging.getLogger(__name__)

ACTOR = Actor.system("tryton", channel=Channel.ERP)
PURCHASES_CURSOR = "tryton.purchases"
RECEIPTS_CURSOR = "tryton.receipts"


def is_configured() -> bool:
    return bool(settings.TRYTON_URL)


@functools.lru_cache(maxsize=4)
def _client(url: str, database: str, key: str, timeout: float) -> TrytonClient:
    return TrytonClient(url, database, key, timeout=timeout)


def client() -> TrytonClient:
    return _client(settings.TRYTON_URL, settings.TRYTON_DATABASE, settings.TRYTON_API_KEY, settings.ERP_READ_TIMEOUT)


@dataclass
class PullReport:
    seen: int = 0
    created: int = 0
    updated: int = 0
    unchanged: int = 0
    errors: list[str] = field(default_factory=list)

    def count(self, outcome: str) -> None:
        setattr(self, outcome, getattr(self, outcome) + 1)

    def __str__(self) -> str:
        return (f"{self.seen} seen: {self.created} created, {self.updated} updated, {self.unchanged} unchanged, "
                f"{len(self.errors)} refused")


def purchase_document(purchase: dict) -> dict:
    """A Tryton purchase as the portal's canonical PO document (revision 0 in Tryton is 1 here)."""
    return {
        "number": purchase["number"],
        "revision": (purchase.get("revision") or 0) + 1,
        "supplier": purchase["party"] or "",
        "currency": purchase["currency"] or "",
        "order_date": purchase["purchase_date"].isoformat(),
        "ship_to": purchase["warehouse"] or "",
        "lines": [
            {
                "line": line["id"],
                "item": line["product"] or "",
                "description": (line["description"] or "")[:300],
                "quantity": str(line["quantity"]),
                "uom": line["unit"] or "",
                "unit_price": str(line["unit_price"]),
                "requested_date": (line["requested_date"] or purchase["purchase_date"]).isoformat(),
            }
            for line in purchase["lines"]
        ],
    }


def pull_purchases() -> PullReport:
    """Import purchases confirmed or changed in Tryton since the last poll."""
    report = PullReport()
    since = _since(PURCHASES_CURSOR)
    purchases = client().confirmed_purchases(since=since)
    documents, refused = [], []
    for purchase in purchases:
        report.seen += 1
        try:
            documents.append((purchase, parse_purchase_order(purchase_document(purchase))))
        except InvalidDocument as error:
            report.errors.append(f"{purchase['number']}: {error.message} {error.details}")
            refused.append(purchase)
    if documents:
        results = services.purchase_orders_upsert(documents=[document for _, document in documents], actor=ACTOR)
        for (purchase, document), result in zip(documents, results):
            if isinstance(result, DomainError):
                report.errors.append(f"{document.number}: {result.code}: {result.message}")
                refused.append(purchase)
            else:
                report.count(result.outcome)
    # The mark never passes a refused purchase: once its cause is fixed (say, the supplier is set
    # up in the portal), the next poll imports it without anyone touching it in Tryton.
    _advance(PURCHASES_CURSOR, [p["write_date"] for p in purchases],
             before=min(filter(None, (p["write_date"] for p in refused)), default=None))
    _log("purchases", report)
    return report


def pull_receipts() -> PullReport:
    """Record done incoming moves as receipts, one per move (reference `tryton-move-<id>`)."""
    report = PullReport()
    moves = client().done_incoming_moves(since=_since(RECEIPTS_CURSOR))
    for move in moves:
        report.seen += 1
        try:
            document = parse_receipt({
                "reference": f"tryton-move-{move['id']}",
                "purchase_order": move["purchase"],
                "received_on": (move["effective_date"] or move["write_date"].date()).isoformat(),
                "lines": [{"line": move["line"], "quantity": str(move["quantity"]), "item": move["product"] or ""}],
            })
            report.count(services.receipt_record(document=document, actor=ACTOR).outcome)
        except DomainError as error:
            report.errors.append(f"move {move['id']} of {move['purchase']}: {error.code}: {error.message}")
    _advance(RECEIPTS_CURSOR, [m["write_date"] for m in moves])
    _log("receipts", report)
    return report


def _since(name: str) -> dt.datetime | None:
    cursor = SyncCursor.objects.filter(name=name).first()
    if cursor is None or not cursor.value:
        return None
    return dt.datetime.fromisoformat(cursor.value) - dt.timedelta(seconds=settings.TRYTON_POLL_OVERLAP_SECONDS)


def _advance(name: str, stamps: list[dt.datetime | None], *, before: dt.datetime | None = None) -> None:
    """Move the mark forward only (a page older than the mark, the overlap, never moves it back),
    and to just before `before` at most."""
    newest = max(filter(None, stamps), default=None)
    if before is not None and newest is not None:
        newest = min(newest, before - dt.timedelta(microseconds=1))
    if newest is None:
        return
    cursor, _ = SyncCursor.objects.get_or_create(name=name)
    if not cursor.value or dt.datetime.fromisoformat(cursor.value) < newest:
        cursor.value = newest.isoformat()
        cursor.save(update_fields=["value", "updated_at"])


def _log(what: str, report: PullReport) -> None:
    logger.info("tryton %s: %s", what, report)
    for error in report.errors:
        logger.warning("tryton %s refused: %s", what, error)


WITHOUT_EFFECT_IN_TRYTON = {"quality.hold_released", "quality.hold_scrapped"}


class TrytonConnector:
    """Applies `acknowledgement.decided` to the Tryton purchase: quantity and price changes through
    a purchase amendment (a rejected line is amended to quantity 0), the committed date onto the
    pending incoming moves; files shipments as draft supplier shipments and invoices as draft
    supplier invoices. Tryton's refusals are permanent failures with its message; an
    unreachable Tryton is retried."""

    def __init__(self, tryton: TrytonClient) -> None:
        self.tryton = tryton

    def send(self, envelope: dict) -> DeliveryResult:
        apply = {
            "acknowledgement.decided": self._apply_acknowledgement,
            "shipment.submitted": self._apply_shipment,
            "shipment.corrected": self._apply_shipment,
            "shipment.cancelled": self._cancel_shipment,
            "invoice.submitted": self._file_invoice,
        }.get(envelope["type"])
        if envelope["type"] in WITHOUT_EFFECT_IN_TRYTON:
            # Tryton (purchase + stock) has no quality holds: the ERP side of a hold is the buyer's
            # stock move, so the decision is acknowledged without effect rather than dead-lettered.
            logger.info("tryton: %s for %s has no counterpart in Tryton", envelope["type"], envelope["aggregate"])
            return DeliveryResult(delivered=True, status_code=204)
        if apply is None:
            return DeliveryResult(delivered=False, permanent=True,
                                  error=f"The Tryton connector has no mapping for {envelope['type']} events.")
        try:
            apply(envelope["payload"])
        except TrytonUnavailable as error:
            return DeliveryResult(delivered=False, status_code=error.status, error=_excerpt(error))
        except TrytonError as error:
            return DeliveryResult(delivered=False, permanent=True, status_code=error.status, error=_excerpt(error))
        return DeliveryResult(delivered=True, status_code=200)

    def _file_invoice(self, payload: dict) -> None:
        """The supplier's invoice as a draft supplier invoice against the purchase lines (a portal order
        line number is the Tryton purchase line id). Tryton computes the taxes of its own lines."""
        self.tryton.file_supplier_invoice(
            reference=payload["number"], supplier=payload["supplier"], currency=payload["currency"],
            invoice_date=dt.date.fromisoformat(payload["invoice_date"]),
            lines=[{"purchase": line["purchase_order"], "line": line["order_line"], "quantity": line["quantity"],
                    "unit_price": line["unit_price"]} for line in payload["lines"]])

    def _apply_acknowledgement(self, payload: dict) -> None:
        number = payload["purchase_order"]
        current = {line["id"]: line for line in self.tryton.purchase_snapshot(number)["lines"]}
        dates: dict[int, dt.date] = {}
        for decided in payload["lines"]:
            line_id = decided["line"]
            line = current.get(line_id)
            if line is None:
                raise TrytonRefused(f"Purchase {number} in Tryton has no line {line_id}.")
            rejected = decided["decision"] == "rejected"
            quantity = Decimal(0) if rejected else Decimal(decided["quantity"])
            price = None if rejected else Decimal(decided["unit_price"])
            amend = {}
            if line["quantity"] != quantity:
                amend["quantity"] = quantity
            if price is not None and line["unit_price"] != price:
                amend["unit_price"] = price
            if amend:
                self.tryton.amend_line(number, line_id, **amend)
            if not rejected and decided["schedule"]:
                dates[line_id] = dt.date.fromisoformat(decided["schedule"][-1]["date"])
        if dates:
            self.tryton.promise_dates(number, dates)


    def _apply_shipment(self, payload: dict) -> None:
        """A draft supplier shipment (stock.shipment.in) with the purchases' incoming moves, so that
        receiving starts from it; every event of the shipment files the same one (by reference)."""
        self.tryton.create_supplier_shipment(
            reference=payload["shipment"],
            supplier=payload["supplier"],
            planned_date=dt.date.fromisoformat(payload["expected_arrival"]),
            lines=[
                {"purchase": line["purchase_order"], "line": line["order_line"], "quantity": Decimal(line["quantity"])}
                for line in payload["shipment_lines"]
            ],
        )

    def _cancel_shipment(self, payload: dict) -> None:
        self.tryton.cancel_supplier_shipment(reference=payload["shipment"], supplier=payload["supplier"])


def _excerpt(error: TrytonError) -> str:
    return f"Tryton: {error.message}"[:ERROR_EXCERPT_CHARS]
