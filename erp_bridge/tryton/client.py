"""Client for the few things the portal needs from Tryton 8.0, over its REST API with an application key.

Django-free and trytond-free: `requests` only. Tryton's REST API lives at `/<database>/rest/model/<model>`
(search, read, create, update, delete, and POST `/<id>/<button>`) and takes `Authorization: Bearer <key>`
where the key is a validated `res.user.application` of type "rest". Values travel in Tryton's JSON
encoding (`{"__class__": "date", ...}`), which this module converts to and from date/datetime/Decimal.
"""
from __future__ import annotations

import base64
import datetime as dt
import json
from collections.abc import Iterable, Mapping
from decimal import Decimal
from typing import Any

import requests

from portal import correlation

PURCHASE_STATES = ("confirmed", "processing", "done")
PENDING_MOVE_STATES = ("draft", "assigned")
PAGE_SIZE = 100


class TrytonError(Exception):
    """Base class of everything this client raises."""

    def __init__(self, message: str, status: int | None = None):
        super().__init__(message)
        self.message = message
        self.status = status


class TrytonUnavailable(TrytonError):
    """Tryton cannot be reached or failed (connection error, timeout, 5xx): retry later."""


class TrytonRefused(TrytonError):
    """Tryton (or this client on its behalf) refused the request: retrying the same request will not help."""


# --- Tryton's JSON encoding ----------------------------------------------------------------------


def _encode(value: Any) -> Any:
    if isinstance(value, dt.datetime):
        return {"__class__": "datetime", "year": value.year, "month": value.month, "day": value.day,
                "hour": value.hour, "minute": value.minute, "second": value.second,
                "microsecond": value.microsecond}
    if isinstance(value, dt.date):
        return {"__class__": "date", "year": value.year, "month": value.month, "day": value.day}
    if isinstance(value, Decimal):
        return {"__class__": "Decimal", "decimal": str(value)}
    if isinstance(value, Mapping):
        return {key: _encode(item) for key, item in value.items()}
    if isinstance(value, (list, tuple)):
        return [_encode(item) for item in value]
    return value


def _decode(obj: dict) -> Any:
    kind = obj.get("__class__")
    if kind == "date":
        return dt.date(obj["year"], obj["month"], obj["day"])
    if kind == "datetime":
        return dt.datetime(obj["year"], obj["month"], obj["day"], obj["hour"], obj["minute"],
                           obj["second"], obj["microsecond"])
    if kind == "Decimal":
        return Decimal(obj["decimal"])
    return obj


def _b64(value: Any) -> str:
    return base64.urlsafe_b64encode(json.dumps(_encode(value)).encode()).decode()


def _number(value: float | Decimal | None) -> Decimal | None:
    """Tryton quantities are floats on the wire; the portal wants Decimal."""
    if value is None:
        return None
    number = value if isinstance(value, Decimal) else Decimal(repr(value))
    return number.quantize(Decimal(1)) if number == number.to_integral_value() else number.normalize()


def _since_domain(since: dt.datetime | None, prefix: str = "") -> list:
    if since is None:
        return []
    if since.tzinfo is not None:  # Tryton stores naive timestamps in the server's clock (UTC on servers)
        since = since.astimezone(dt.timezone.utc).replace(tzinfo=None)
    return [["OR", (f"{prefix}write_date", ">", since), (f"{prefix}create_date", ">", since)]]


def _changed_at(record: Mapping) -> dt.datetime | None:
    return record.get("write_date") or record.get("create_date")


class TrytonClient:
    """Reads purchases and receipts from Tryton and writes delivery promises and line amendments."""

    def __init__(self, base_url: str, database: str, key: str, timeout: float = 30.0,
                 session: requests.Session | None = None):
        self.base_url = base_url.rstrip("/")
        self.database = database
        self.timeout = timeout
        self.session = session or requests.Session()
        self.session.headers.update({"Authorization": f"Bearer {key}", "Accept": "application/json"})
        self._has_amendment: bool | None = None

    # --- transport -------------------------------------------------------------------------------

    def _url(self, path: str) -> str:
        return f"{self.base_url}/{self.database}/rest/{path}"

    def _request(self, method: str, path: str, *, params: Any = None, body: Any = None, context: dict | None = None) -> Any:
        headers = {correlation.HEADER: correlation.current()} if correlation.current() else {}
        if context:  # Tryton's REST context (e.g. the company, for company-dependent values)
            headers["X-Tryton-Context"] = base64.urlsafe_b64encode(json.dumps(context).encode()).decode()
        try:
            response = self.session.request(
                method, self._url(path), params=params, timeout=self.timeout,
                json=_encode(body) if body is not None else None, headers=headers or None,
            )
        except requests.RequestException as error:
            raise TrytonUnavailable(
                f"Tryton at {self.base_url} is unreachable ({type(error).__name__})") from error
        status = response.status_code
        if status >= 500:
            raise TrytonUnavailable(f"Tryton failed with HTTP {status}: {_error_text(response)}", status)
        if status == 401:
            raise TrytonRefused(
                f"Tryton rejected the application key for database {self.database!r} (HTTP 401): "
                "the key is unknown, cancelled or not a validated 'rest' application", status)
        if status == 403:
            raise TrytonRefused(f"Tryton denied access (HTTP 403): {_error_text(response)}", status)
        if status == 404:
            raise TrytonRefused(
                f"Tryton has no {path!r} in database {self.database!r} (HTTP 404): "
                "wrong database name or record id", status)
        if status >= 400:
            raise TrytonRefused(_error_text(response), status)
        if status == 204 or not response.content:
            return None
        return json.loads(response.content, object_hook=_decode)

    def _search(self, model: str, domain: list, fields: list[str], order: list | None = None) -> list[dict]:
        records: list[dict] = []
        while True:
            params: dict[str, Any] = {"d": _b64(domain), "f": fields, "s": PAGE_SIZE, "p": len(records)}
            params["o"] = _b64(order or [["id", "ASC"]])
            page = self._request("GET", f"model/{model}", params=params)
            records.extend(page)
            if len(page) < PAGE_SIZE:
                return records

    def _read(self, model: str, record_id: int, fields: list[str], context: dict | None = None) -> dict:
        return self._request("GET", f"model/{model}/{record_id}", params={"f": fields}, context=context)

    def _purchase(self, number: str, fields: list[str]) -> dict:
        found = self._search("purchase.purchase", [("number", "=", number)], fields)
        if not found:
            raise TrytonRefused(f"Tryton has no purchase {number!r}")
        return found[0]

    # --- purchases -------------------------------------------------------------------------------

    _PURCHASE_FIELDS = [
        "number", "reference", "state", "revision", "purchase_date", "delivery_date", "write_date", "create_date",
        "party.code", "currency.code", "warehouse.code",
        "lines.type", "lines.sequence", "lines.product.code", "lines.product.name", "lines.description",
        "lines.quantity", "lines.unit.symbol", "lines.unit_price", "lines.delivery_date",
        "lines.delivery_date_edit", "lines.delivery_date_store",
        "lines.write_date", "lines.create_date",
    ]

    def confirmed_purchases(self, since: dt.datetime | None = None) -> list[dict]:
        """Confirmed/processing/done purchases changed (header or lines) after `since`, oldest first.

        Each carries `write_date`, the latest change of the purchase or its lines: keep the maximum as
        the next `since`. Timestamps are Tryton's transaction start times, so poll with some overlap.
        """
        domain: list = [("state", "in", PURCHASE_STATES)]
        if since is not None:
            domain.append(["OR", *_since_domain(since), *_since_domain(since, "lines.")])
        records = self._search("purchase.purchase", domain, self._PURCHASE_FIELDS)
        purchases = [self._purchase_document(record) for record in records]
        return sorted(purchases, key=lambda p: (p["write_date"] or dt.datetime.min, p["number"]))

    @staticmethod
    def _purchase_document(record: dict) -> dict:
        lines = [line for line in record.get("lines") or [] if line.get("type", "line") == "line"]
        changes = [_changed_at(record), *(_changed_at(line) for line in lines)]
        return {
            "id": record["id"],
            "number": record["number"],
            "reference": record.get("reference"),
            "state": record["state"],
            "revision": record.get("revision"),
            "party": (record.get("party") or {}).get("code"),
            "currency": (record.get("currency") or {}).get("code"),
            "purchase_date": record.get("purchase_date"),
            "warehouse": (record.get("warehouse") or {}).get("code"),
            "write_date": max(filter(None, changes), default=None),
            "lines": [
                {
                    "id": line["id"],
                    "sequence": line.get("sequence"),
                    "product": (line.get("product") or {}).get("code"),
                    "description": line.get("description") or (line.get("product") or {}).get("name"),
                    "quantity": _number(line["quantity"]),
                    "unit": (line.get("unit") or {}).get("symbol"),
                    "unit_price": line.get("unit_price"),
                    "delivery_date": line.get("delivery_date"),
                    # What the buyer asked for: the line's own date, else the purchase's. Tryton's
                    # `delivery_date` follows the moves' planned dates, which suppliers' promises
                    # and shipments change.
                    "requested_date": (line.get("delivery_date_store") if line.get("delivery_date_edit") else None)
                    or record.get("delivery_date") or line.get("delivery_date"),
                }
                for line in lines
            ],
        }

    # --- delivery promises -----------------------------------------------------------------------

    def _incoming_moves(self, line_ids: Iterable[int], states: Iterable[str]) -> list[dict]:
        domain = [
            ("origin", "in", [f"purchase.line,{line_id}" for line_id in line_ids]),
            ("from_location.type", "=", "supplier"),
            ("state", "in", list(states)),
        ]
        fields = ["origin", "state", "quantity", "unit.factor", "planned_date", "effective_date", "shipment"]
        return self._search("stock.move", domain, fields)

    def promise_dates(self, purchase_number: str, dates: Mapping[int, dt.date]) -> list[dict]:
        """Set planned_date on the pending (draft/assigned) incoming moves of the given lines.

        Returns one entry per move whose date changed: line, move, previous and new planned date.
        Lines already fully received have no pending move and produce no entry.
        """
        purchase = self._purchase(purchase_number, ["lines"])
        unknown = set(dates) - set(purchase["lines"])
        if unknown:
            raise TrytonRefused(f"purchase {purchase_number} has no line {sorted(unknown)}")
        changed = []
        for move in self._incoming_moves(dates, PENDING_MOVE_STATES):
            line_id = int(move["origin"].split(",")[1])
            new = dates[line_id]
            if move["planned_date"] != new:
                self._request("PUT", f"model/stock.move/{move['id']}", body={"planned_date": new})
                changed.append({"line": line_id, "move": move["id"], "previous": move["planned_date"], "planned_date": new})
        return changed

    # --- amendments ------------------------------------------------------------------------------

    def _require_amendment_module(self) -> None:
        if self._has_amendment is None:
            found = self._search("ir.model", [("name", "=", "purchase.amendment")], ["name"])
            self._has_amendment = bool(found)
        if not self._has_amendment:
            raise TrytonRefused("Tryton cannot amend confirmed purchases: module purchase_amendment is not activated")

    def amend_line(self, purchase_number: str, line_id: int, quantity: Decimal | None = None,
                   unit_price: Decimal | None = None) -> dict:
        """Change quantity and/or unit price of a confirmed line through a validated purchase.amendment.

        Tryton recreates the line's pending moves from the line's original delivery date, so a
        planned date promised earlier is put back on the new moves afterwards.
        """
        if quantity is None and unit_price is None:
            raise ValueError("amend_line needs a quantity or a unit_price")
        self._require_amendment_module()
        purchase = self._purchase(purchase_number, ["state", "lines"])
        if line_id not in purchase["lines"]:
            raise TrytonRefused(f"purchase {purchase_number} has no line {line_id}")
        line = self._read("purchase.line", line_id, [
            "product", "product_supplier", "quantity", "unit", "unit.factor", "unit_price", "description"])
        if quantity is not None:
            self._check_not_below_received(purchase_number, line, quantity)
        pending = self._incoming_moves([line_id], ("staging", "draft"))
        promised = {m["planned_date"] for m in pending if not m["shipment"]}

        amendment = self._request("POST", "model/purchase.amendment", body={
            "purchase": purchase["id"],
            "description": "Supplier portal",
            "lines": [["create", [{
                "action": "line",
                "line": line_id,
                "product": line["product"],
                "product_supplier": line["product_supplier"],
                "unit": line["unit"]["id"],
                "description": line["description"],
                "quantity": float(quantity) if quantity is not None else line["quantity"],
                "unit_price": Decimal(unit_price) if unit_price is not None else line["unit_price"],
            }]]],
        })
        try:
            self._request("POST", f"model/purchase.amendment/{amendment['id']}/validate_amendment", body={})
        except TrytonRefused:
            self._request("DELETE", f"model/purchase.amendment/{amendment['id']}")
            raise

        restored = None
        if len(promised) == 1 and None not in promised:
            restored = promised.pop()
            for move in self._incoming_moves([line_id], PENDING_MOVE_STATES):
                if move["planned_date"] != restored and not move["shipment"]:
                    self._request("PUT", f"model/stock.move/{move['id']}", body={"planned_date": restored})
        after = self._read("purchase.line", line_id, ["quantity", "unit_price", "purchase.revision"])
        return {
            "purchase": purchase_number,
            "line": line_id,
            "amendment": amendment["id"],
            "revision": after["purchase"]["revision"],
            "quantity": _number(after["quantity"]),
            "unit_price": after["unit_price"],
            "restored_planned_date": restored,
        }

    def _check_not_below_received(self, purchase_number: str, line: dict, quantity: Decimal) -> None:
        # Tryton 8.0 accepts such an amendment silently (the line then shows more received than
        # ordered), so the client refuses it before asking.
        received = sum(
            (_number(m["quantity"]) * _number(m["unit"]["factor"]) / _number(line["unit"]["factor"])
             for m in self._incoming_moves([line["id"]], ("done",))),
            Decimal(0))
        if Decimal(quantity) < received:
            raise TrytonRefused(
                f"purchase {purchase_number} line {line['id']}: quantity {quantity} is below the "
                f"{received} already received")

    # --- receipts and reconciliation -------------------------------------------------------------

    def done_incoming_moves(self, since: dt.datetime | None = None) -> list[dict]:
        """Receipts: done moves from a supplier that belong to purchase lines, changed after `since`."""
        domain = [
            ("state", "=", "done"),
            ("from_location.type", "=", "supplier"),
            ("origin", "like", "purchase.line,%"),
            *_since_domain(since),
        ]
        fields = ["origin", "product.code", "quantity", "unit.symbol", "effective_date", "write_date",
                  "create_date", "shipment"]
        moves = self._search("stock.move", domain, fields)
        line_ids = sorted({int(m["origin"].split(",")[1]) for m in moves})
        lines = {
            line["id"]: line
            for line in self._search("purchase.line", [("id", "in", line_ids)], ["purchase.number"])
        } if line_ids else {}
        receipts = []
        for move in moves:
            line_id = int(move["origin"].split(",")[1])
            receipts.append({
                "id": move["id"],
                "purchase": lines[line_id]["purchase"]["number"],
                "line": line_id,
                "product": (move.get("product") or {}).get("code"),
                "quantity": _number(move["quantity"]),
                "unit": (move.get("unit") or {}).get("symbol"),
                "effective_date": move["effective_date"],
                "shipment": move.get("shipment"),
                "write_date": _changed_at(move),
            })
        return sorted(receipts, key=lambda r: (r["write_date"] or dt.datetime.min, r["id"]))

    def purchase_snapshot(self, purchase_number: str) -> dict:
        """The purchase as Tryton has it now: lines with quantity, price and their incoming moves."""
        purchase = self._purchase(purchase_number, self._PURCHASE_FIELDS)
        document = self._purchase_document(purchase)
        line_ids = [line["id"] for line in document["lines"]]
        moves_by_line: dict[int, list[dict]] = {line_id: [] for line_id in line_ids}
        states = ("staging", "draft", "assigned", "done", "cancelled")
        for move in self._incoming_moves(line_ids, states) if line_ids else []:
            moves_by_line[int(move["origin"].split(",")[1])].append({
                "id": move["id"],
                "state": move["state"],
                "quantity": _number(move["quantity"]),
                "planned_date": move["planned_date"],
                "effective_date": move["effective_date"],
            })
        for line in document["lines"]:
            line["moves"] = sorted(moves_by_line[line["id"]], key=lambda m: m["id"])
            line["planned_dates"] = sorted(
                {m["planned_date"] for m in line["moves"] if m["state"] in PENDING_MOVE_STATES and m["planned_date"]})
            line["received_quantity"] = sum(
                (m["quantity"] for m in line["moves"] if m["state"] == "done"), Decimal(0))
        return document


    # --- supplier shipments (advance shipping notices) -------------------------------------------

    _SHIPMENT_FIELDS = ["number", "reference", "state", "planned_date", "warehouse", "moves"]

    def _party_id(self, code: str) -> int:
        found = self._search("party.party", [("code", "=", code)], ["code"])
        if not found:
            raise TrytonRefused(f"Tryton has no party with code {code!r}")
        return found[0]["id"]

    def _supplier_shipments(self, reference: str, supplier_id: int, states: Iterable[str]) -> list[dict]:
        domain = [("reference", "=", reference), ("supplier", "=", supplier_id), ("state", "in", list(states))]
        return self._search("stock.shipment.in", domain, self._SHIPMENT_FIELDS)

    def create_supplier_shipment(self, reference: str, supplier: str, planned_date: dt.date,
                                 lines: list[Mapping[str, Any]]) -> dict:
        """Create (or update) the draft stock.shipment.in `reference` of `supplier` holding the pending
        incoming moves of the given purchase lines, as a receiving clerk would in Tryton.

        `lines` are {"purchase": number, "line": purchase line id, "quantity": Decimal}. Every draft
        incoming move of the line that is in no shipment (or already in this one) is added whole: the
        shipped quantity is not written on the move, the clerk adjusts it when receiving and Tryton
        then creates a back-order move for the rest. A second call with the same reference and
        supplier updates the draft shipment: its planned date, and its moves become exactly those of
        `lines` (moves of lines no longer listed go back to the purchase). Tryton copies the
        shipment's planned date onto its moves.
        """
        if not lines:
            raise ValueError("create_supplier_shipment needs at least one line")
        supplier_id = self._party_id(supplier)
        purchases: dict[str, dict] = {}
        line_ids: list[int] = []
        for item in lines:
            number, line_id = item["purchase"], int(item["line"])
            if item.get("quantity") is not None and Decimal(item["quantity"]) <= 0:
                raise TrytonRefused(f"purchase {number} line {line_id}: shipped quantity must be positive")
            if number not in purchases:
                purchases[number] = self._purchase(
                    number, ["party", "party.code", "company", "warehouse", "lines"])
            purchase = purchases[number]
            if line_id not in purchase["lines"]:
                raise TrytonRefused(f"purchase {number} has no line {line_id}")
            if purchase["party"]["id"] != supplier_id:
                raise TrytonRefused(
                    f"purchase {number} line {line_id} belongs to supplier {purchase['party']['code']}, "
                    f"not {supplier}")
            if line_id not in line_ids:
                line_ids.append(line_id)
        warehouses = {p["warehouse"] for p in purchases.values()}
        companies = {p["company"] for p in purchases.values()}
        if len(warehouses) != 1 or len(companies) != 1:
            raise TrytonRefused(
                f"shipment {reference}: the purchases {sorted(purchases)} go to different warehouses or "
                "companies; one supplier shipment receives into one warehouse")
        warehouse_id, company_id = warehouses.pop(), companies.pop()

        existing = self._supplier_shipments(reference, supplier_id, ("draft",))
        shipment = existing[0] if existing else None
        if shipment and shipment["warehouse"] != warehouse_id:
            raise TrytonRefused(
                f"draft shipment {shipment['number']} ({reference}) receives into another warehouse")
        own = f"stock.shipment.in,{shipment['id']}" if shipment else None

        moves = [m for m in self._incoming_moves(line_ids, ("draft",)) if m["shipment"] in (None, own)]
        by_line = {int(m["origin"].split(",")[1]) for m in moves}
        for item in lines:
            if int(item["line"]) not in by_line:
                raise TrytonRefused(
                    f"purchase {item['purchase']} line {item['line']} has no pending incoming move "
                    "(received, cancelled or already in another shipment)")
        move_ids = sorted(m["id"] for m in moves)

        if shipment is None:
            location = self._read("stock.location", warehouse_id, ["input_location", "storage_location"])
            created = self._request("POST", "model/stock.shipment.in", body={
                "company": company_id,
                "supplier": supplier_id,
                "reference": reference,
                "planned_date": planned_date,
                "warehouse": warehouse_id,
                "warehouse_input": location["input_location"],
                "warehouse_storage": location["storage_location"],
                "incoming_moves": [["add", move_ids]],
            })
            shipment_id = created["id"]
        else:
            shipment_id = shipment["id"]
            stale = sorted(set(shipment["moves"]) - set(move_ids))
            actions: list = [["add", move_ids]]
            if stale:
                actions.insert(0, ["remove", stale])
            self._request("PUT", f"model/stock.shipment.in/{shipment_id}", body={
                "planned_date": planned_date, "incoming_moves": actions})
        after = self._read("stock.shipment.in", shipment_id, ["number", "reference", "incoming_moves"])
        return {"id": shipment_id, "number": after["number"], "reference": after["reference"],
                "moves": sorted(after["incoming_moves"])}

    def cancel_supplier_shipment(self, reference: str, supplier: str) -> bool:
        """Withdraw the draft shipment `reference` of `supplier`: its moves go back to their purchase
        lines (still draft, in no shipment) and the then empty shipment is cancelled.

        The moves are removed from the shipment first because Tryton's `cancel` cancels the
        shipment's moves too (the purchase would show a shipment exception, and Tryton refuses to
        reset a purchase's cancelled move to draft). Deleting the draft is not possible: the Stock
        group has no delete access on stock.shipment.in (and a delete would delete the moves). The
        cancelled, empty shipment stays as a trace. Returns False when there is no draft shipment
        with that reference; refuses when it was already received or done.
        """
        supplier_id = self._party_id(supplier)
        shipments = self._supplier_shipments(reference, supplier_id, ("draft", "received", "done"))
        drafts = [s for s in shipments if s["state"] == "draft"]
        if not drafts:
            if shipments:
                shipment = shipments[0]
                raise TrytonRefused(
                    f"supplier shipment {shipment['number']} ({reference}) of {supplier} is already "
                    f"{shipment['state']}; it can no longer be withdrawn")
            return False
        for shipment in drafts:
            if shipment["moves"]:
                self._request("PUT", f"model/stock.shipment.in/{shipment['id']}",
                              body={"incoming_moves": [["remove", sorted(shipment["moves"])]]})
            self._request("POST", f"model/stock.shipment.in/{shipment['id']}/cancel", body={})
        return True

    def file_supplier_invoice(self, *, reference: str, supplier: str, invoice_date: dt.date, currency: str,
                              lines: list[Mapping[str, Any]]) -> dict:
        """File a supplier's invoice as a draft supplier invoice (account.invoice, type "in"), one line per
        invoiced purchase line (its origin), booked to the product's expense account, for the
        accountant to check and post. Once per supplier and reference: an invoice that is not
        cancelled with the same supplier reference is the one returned (`created` False).

        `lines` are {"purchase": number, "line": purchase line id, "quantity": Decimal, "unit_price": Decimal}.
        """
        if not lines:
            raise ValueError("file_supplier_invoice needs at least one line")
        supplier_id = self._party_id(supplier)
        fields = ["id", "number", "state", "reference"]
        existing = self._search("account.invoice", [("type", "=", "in"), ("party", "=", supplier_id),
                                                     ("reference", "=", reference), ("state", "!=", "cancelled")], fields)
        if existing:
            return {**existing[0], "created": False}
        purchases: dict[str, dict] = {}
        invoice_lines = []
        for item in lines:
            number, line_id = item["purchase"], int(item["line"])
            if number not in purchases:
                purchases[number] = self._purchase(number, ["party", "party.code", "company", "currency", "lines"])
            purchase = purchases[number]
            if line_id not in purchase["lines"]:
                raise TrytonRefused(f"purchase {number} has no line {line_id}")
            if purchase["party"]["id"] != supplier_id:
                raise TrytonRefused(f"purchase {number} belongs to supplier {purchase['party']['code']}, not {supplier}")
            line = self._read("purchase.line", line_id, ["product", "unit", "description"])
            category = self._read("product.product", line["product"], ["account_category"])["account_category"]
            account = (self._read("product.category", category, ["account_expense"], context={"company": purchase["company"]})
                       ["account_expense"] if category else None)
            if not account:
                raise TrytonRefused(f"product of purchase {number} line {line_id} has no expense account in Tryton")
            invoice_lines.append({
                "type": "line", "invoice_type": "in", "party": supplier_id, "company": purchase["company"],
                "currency": purchase["currency"], "product": line["product"], "unit": line["unit"],
                "description": line["description"], "quantity": Decimal(item["quantity"]),
                "unit_price": Decimal(item["unit_price"]), "account": account, "origin": f"purchase.line,{line_id}",
            })
        companies = {p["company"] for p in purchases.values()}
        currencies = {p["currency"] for p in purchases.values()}
        if len(companies) != 1 or len(currencies) != 1:
            raise TrytonRefused(f"invoice {reference}: the purchases {sorted(purchases)} have different companies or currencies")
        currency_found = self._search("currency.currency", [("code", "=", currency)], ["id"])
        if not currency_found or currency_found[0]["id"] not in currencies:
            raise TrytonRefused(f"invoice {reference} is in {currency}, the purchases are not")
        journal = self._search("account.journal", [("type", "=", "expense")], ["id"])
        payable = self._search("account.account", [("type.payable", "=", True), ("party_required", "=", True),
                                                   ("company", "=", companies.copy().pop())], ["id"])
        address = self._search("party.address", [("party", "=", supplier_id)], ["id"])
        if not journal or not payable or not address:
            raise TrytonRefused("Tryton lacks an expense journal, a payable account or the supplier's address for invoices")
        created = self._request("POST", "model/account.invoice", body={
            "type": "in", "company": companies.pop(), "party": supplier_id, "invoice_address": address[0]["id"],
            "currency": currencies.pop(), "journal": journal[0]["id"], "account": payable[0]["id"],
            "invoice_date": invoice_date, "reference": reference, "lines": [["create", invoice_lines]],
        })
        return {**self._read("account.invoice", created["id"], fields), "created": True}


def _error_text(response: requests.Response) -> str:
    """Tryton's own message: JSON {"message", "description"} from the REST API, else the HTML <p>."""
    try:
        data = response.json()
    except ValueError:
        text = response.text
        start, end = text.find("<p>"), text.find("</p>")
        return (text[start + 3:end] if 0 <= start < end else text).strip()[:500] or response.reason
    if isinstance(data, dict) and data.get("message"):
        description = data.get("description")
        return f"{data['message']} {description}".strip() if description else data["message"]
    return str(data)[:500]
