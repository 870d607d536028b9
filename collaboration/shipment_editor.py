"""The portal's ASN builder: a shipment as rows a person edits (header, lines, packages with what
each holds), read back from the posted form into the canonical shipment document, with the
service's errors put next to the row and field they concern. Rules stay in the shipment service.
"""
from __future__ import annotations

import re
from dataclasses import dataclass, field
from decimal import Decimal, InvalidOperation

from django.http import QueryDict
from django.utils.translation import gettext, gettext_lazy as _

from collaboration.documents import decimal_text
from collaboration.models import ItemRule, Package, PurchaseOrderLine, Shipment
from collaboration.selectors import ShippableLine

HEADER_FIELDS = ("despatch_date", "expected_arrival", "carrier", "tracking_number")
KINDS = Package.Kind.choices
SERIAL_SEPARATORS = re.compile(r"[\s,;]+")
MAX_QUICK_PACKAGES = 200
# The names of a shipment document's fields as an error names them ("Quantity: ...").
FIELD_NAMES = {
    "line": _("Line"), "purchase_order": _("Purchase order"), "order_line": _("Order line"), "quantity": _("Quantity"),
    "lot": _("Lot"), "serial_numbers": _("Serial numbers"), "reference": _("Reference"), "sscc": _("Sscc"),
    "kind": _("Kind"), "parent": _("Parent"), "contents": _("Contents"),
}


@dataclass
class EditorLine:
    number: int
    order_line: PurchaseOrderLine
    open_quantity: Decimal | None
    quantity: str
    lot: str = ""
    serials: str = ""
    lot_controlled: bool = False
    serial_controlled: bool = False
    errors: list[str] = field(default_factory=list)


@dataclass
class EditorPackage:
    index: int
    reference: str
    kind: str = "carton"
    parent: str = ""
    sscc: str = ""
    contents: dict[int, str] = field(default_factory=dict)  # shipment line number -> quantity as typed
    errors: list[str] = field(default_factory=list)

    def cells(self, lines: list[EditorLine]) -> list[tuple[int, str]]:
        return [(line.number, self.contents.get(line.number, "")) for line in lines]


@dataclass
class Editor:
    """What the builder page shows and posts; `document()` is what the service receives."""

    number: str
    ship_to: str
    header: dict[str, str]
    lines: list[EditorLine]
    packages: list[EditorPackage]
    errors: list[str] = field(default_factory=list)
    header_errors: dict[str, list[str]] = field(default_factory=dict)

    @classmethod
    def from_shipment(cls, shipment: Shipment, *, shippable: list[ShippableLine]) -> Editor:
        open_quantity = {entry.line.pk: entry.open_quantity for entry in shippable}
        rules = _rules({line.order_line.item for line in shipment.lines.all()})
        lines = [
            _line(line.line_number, line.order_line, open_quantity.get(line.order_line_id), rules,
                  quantity=decimal_text(line.quantity), lot=line.lot, serials=" ".join(line.serial_numbers))
            for line in shipment.lines.all()
        ]
        by_id = {package.pk: package for package in shipment.packages.all()}
        packages = [
            EditorPackage(index, package.reference, package.kind,
                          by_id[package.parent_id].reference if package.parent_id else "", package.sscc,
                          {content.shipment_line.line_number: decimal_text(content.quantity) for content in package.contents.all()})
            for index, package in enumerate(shipment.packages.all())
        ]
        header = {
            "despatch_date": shipment.despatch_date.isoformat(), "expected_arrival": shipment.expected_arrival.isoformat(),
            "carrier": shipment.carrier, "tracking_number": shipment.tracking_number,
        }
        return cls(shipment.number, shipment.ship_to, header, lines, packages)

    @classmethod
    def from_post(cls, data: QueryDict, *, shipment: Shipment, shippable: list[ShippableLine]) -> Editor:
        """The posted rows; lines marked for removal and empty package rows dropped, lines ticked
        under "add lines" appended with their open quantity."""
        known = {line.line_number: line.order_line for line in shipment.lines.all()}
        candidates = {entry.line.pk: entry for entry in shippable}
        order_lines = {**{ol.pk: ol for ol in known.values()}, **{pk: entry.line for pk, entry in candidates.items()}}
        rules = _rules({line.item for line in order_lines.values()})
        lines: list[EditorLine] = []
        for number in _numbers(data.getlist("line")):
            order_line = order_lines.get(_int(data.get(f"line-{number}-order_line")))
            if order_line is None or data.get(f"line-{number}-remove"):
                continue
            entry = candidates.get(order_line.pk)
            lines.append(_line(number, order_line, entry.open_quantity if entry else None, rules,
                               quantity=data.get(f"line-{number}-quantity", "").strip(),
                               lot=data.get(f"line-{number}-lot", "").strip(),
                               serials=data.get(f"line-{number}-serials", "").strip()))
        taken = {line.order_line.pk for line in lines}
        for pk in _numbers(data.getlist("add")):
            entry = candidates.get(pk)
            if entry and pk not in taken:
                number = max((line.number for line in lines), default=0) + 1
                lines.append(_line(number, entry.line, entry.open_quantity, rules, quantity=decimal_text(entry.open_quantity)))
                taken.add(pk)
        packages: list[EditorPackage] = []
        for index in range(min(_int(data.get("packages")) or 0, 1000)):
            prefix = f"package-{index}-"
            reference = data.get(prefix + "reference", "").strip()
            if not reference or data.get(prefix + "remove"):
                continue
            contents = {
                line.number: value
                for line in lines
                if (value := data.get(f"{prefix}line-{line.number}", "").strip())
            }
            packages.append(EditorPackage(len(packages), reference, data.get(prefix + "kind", "carton"),
                                          data.get(prefix + "parent", "").strip(), data.get(prefix + "sscc", "").strip(),
                                          contents))
        header = {name: data.get(name, "").strip() for name in HEADER_FIELDS}
        return cls(shipment.number, shipment.ship_to, header, lines, packages)

    def add_packages(self, *, count: int, kind: str, parent: str, line: int | None, quantity: str) -> None:
        """The quick packer: `count` packages of one kind, optionally on a pallet, each holding the
        same quantity of one line."""
        if not 1 <= count <= MAX_QUICK_PACKAGES:
            self.errors.append(gettext("Add between 1 and %(most)s packages at a time.") % {"most": MAX_QUICK_PACKAGES})
            return
        letter = "P" if kind == Package.Kind.PALLET else kind[:1].upper()
        used = {package.reference for package in self.packages}
        serial = 1
        for _ in range(count):
            while f"{letter}{serial}" in used:
                serial += 1
            used.add(f"{letter}{serial}")
            contents = {line: quantity} if line and quantity else {}
            self.packages.append(EditorPackage(len(self.packages), f"{letter}{serial}", kind, parent, "", contents))

    def document(self) -> dict:
        return {
            "number": self.number,
            "ship_to": self.ship_to,
            **self.header,
            "lines": [
                {"line": line.number, "purchase_order": line.order_line.purchase_order.number,
                 "order_line": line.order_line.line_number, "quantity": _amount(line.quantity), "lot": line.lot,
                 "serial_numbers": [s for s in SERIAL_SEPARATORS.split(line.serials) if s]}
                for line in self.lines
            ],
            "packages": [
                {"reference": package.reference, "kind": package.kind, "parent": package.parent, "sscc": package.sscc,
                 "contents": [{"line": number, "quantity": _amount(value)} for number, value in package.contents.items()]}
                for package in self.packages
            ],
        }

    def add_errors(self, details: dict) -> None:
        """Errors keyed as the document is (lines / packages by position, header fields by name)."""
        for name, messages in details.items():
            if name in ("lines", "packages") and isinstance(messages, dict):
                rows = self.lines if name == "lines" else self.packages
                for position, fields in messages.items():
                    target = rows[int(position)].errors if position.isdigit() and int(position) < len(rows) else self.errors
                    target.extend(_flatten(fields))
            elif name in HEADER_FIELDS:
                self.header_errors.setdefault(name, []).extend(_flatten(messages))
            else:
                self.errors.extend(_flatten(messages))

    @property
    def parents(self) -> list[str]:
        return [package.reference for package in self.packages if package.kind == Package.Kind.PALLET]


def _line(number: int, order_line: PurchaseOrderLine, open_quantity: Decimal | None, rules: dict[str, ItemRule],
          **values) -> EditorLine:
    rule = rules.get(order_line.item)
    return EditorLine(number, order_line, open_quantity, lot_controlled=bool(rule and rule.lot_controlled),
                      serial_controlled=bool(rule and rule.serial_controlled), **values)


def _rules(items: set[str]) -> dict[str, ItemRule]:
    return {rule.item: rule for rule in ItemRule.objects.filter(item__in=items)} if items else {}


def _amount(text: str) -> str:
    """As typed, with a decimal comma accepted; anything else is left for the document to refuse."""
    candidate = text.replace(",", ".")
    try:
        Decimal(candidate)
    except InvalidOperation:
        return text
    return candidate


def _int(value) -> int | None:
    try:
        return int(value)
    except (TypeError, ValueError):
        return None


def _numbers(values: list[str]) -> list[int]:
    return [number for number in map(_int, values) if number is not None]


def _flatten(messages) -> list[str]:
    if isinstance(messages, dict):
        return [gettext("%(field)s: %(message)s") % {"field": _field_name(name), "message": text}
                if name != "non_field_errors" else text
                for name, texts in messages.items() for text in _flatten(texts)]
    if isinstance(messages, list):
        return [text for item in messages for text in _flatten(item)]
    return [str(messages)]


def _field_name(name: str) -> str:
    return str(FIELD_NAMES.get(name) or name.replace("_", " ").capitalize())
