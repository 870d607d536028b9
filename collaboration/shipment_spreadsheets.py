"""The ASN spreadsheet (CSV or Excel): one file is one shipment, one row is a quantity of one order line in
one (innermost) package. Owns the file format, how rows become a `ShipmentDocument`, and how the errors of
the document and of the shipment service find their way back to rows; the rules stay where they are.

Errors come in three stages, each only when the one before is clean: the file (columns, cell types, values
repeated inconsistently), the document (`parse_shipment`), the orders (the shipment service). A failure at
any stage stores nothing.
"""
from __future__ import annotations

import re
from dataclasses import dataclass, field
from decimal import Decimal

from django.utils.translation import gettext as _, pgettext_lazy

from collaboration import services
from collaboration.actors import Actor
from collaboration.documents import (
    EXPECTED_ARRIVAL_BEFORE_DESPATCH,
    PACKAGE_HOLDS_UNKNOWN_LINE,
    PACKAGE_NESTED_IN_ITSELF,
    PACKAGE_SITS_IN_UNKNOWN,
    PACKING_DIFFERENCE,
    ShipmentDocument,
    message_values,
    parse_shipment,
)
from collaboration.errors import DomainError, InvalidDocument
from collaboration.models import Shipment
from collaboration.spreadsheets import (
    RowError,
    SpreadsheetError,
    cell_date,
    cell_decimal,
    cell_text,
    read_table,
    to_csv,
    to_xlsx,
)

HEADER_COLUMNS = {
    "Shipment": "number", "Ship-to": "ship_to", "Despatch date": "despatch_date",
    "Expected arrival": "expected_arrival", "Carrier": "carrier", "Tracking": "tracking_number",
}
LINE_COLUMNS = ["PO", "PO line", "Quantity", "Lot", "Serial numbers"]
PACKING_COLUMNS = ["Package", "Package type", "SSCC", "On pallet", "Pallet SSCC"]
COLUMNS = [*HEADER_COLUMNS, *LINE_COLUMNS, *PACKING_COLUMNS]
REQUIRED = ["Shipment", "Ship-to", "Despatch date", "Expected arrival", "PO", "PO line", "Quantity"]
DATE_COLUMNS = ["Despatch date", "Expected arrival"]
DEFAULT_PACKAGE_TYPE = "carton"

# Document field -> the column a supplier fixes it in.
HEADER_FIELD_COLUMNS = {name: column for column, name in HEADER_COLUMNS.items()}
LINE_FIELD_COLUMNS = {"purchase_order": "PO", "order_line": "PO line", "line": "PO line", "quantity": "Quantity",
                      "lot": "Lot", "serial_numbers": "Serial numbers"}
PACKAGE_FIELD_COLUMNS = {"reference": "Package", "kind": "Package type", "sscc": "SSCC", "parent": "On pallet",
                         "contents": "Quantity"}
# A pallet that only appears in "On pallet" is described by that column and "Pallet SSCC".
PALLET_FIELD_COLUMNS = {"reference": "On pallet", "kind": "On pallet", "sscc": "Pallet SSCC", "parent": "On pallet",
                        "contents": "On pallet"}


@dataclass
class RowMap:
    """Where each part of the document came from, in rows as the supplier sees them (header = row 1)."""

    header: int = 2  # the first data row: it carries the shipment header
    lines: dict[int, int] = field(default_factory=dict)  # line position -> first row
    packages: dict[int, int] = field(default_factory=dict)  # package position -> first row
    contents: dict[tuple[int, int], int] = field(default_factory=dict)  # (package, content position) -> first row
    ssccs: dict[int, tuple[int, str]] = field(default_factory=dict)  # package position -> (row, column) of its SSCC
    references: list[str] = field(default_factory=list)  # package references by position
    pallets: set[int] = field(default_factory=set)  # positions of packages named only in "On pallet"
    unpacked: dict[int, list[int]] = field(default_factory=dict)  # line position -> rows in no package

    def row_errors(self, details: dict) -> list[RowError]:
        """`InvalidDocument.details` (from `parse_shipment` or the shipment service) as row errors."""
        errors: list[RowError] = []
        for key, node in details.items():
            if key == "lines" and isinstance(node, dict):
                for position, fields in node.items():
                    errors += self._line_errors(int(position), fields) if position.isdigit() else [
                        RowError(self.header, "PO", message) for _name, message in _field_messages(fields)]
            elif key == "packages" and isinstance(node, dict):
                for position, fields in node.items():
                    errors += self._package_errors(int(position), fields) if position.isdigit() else [
                        RowError(self.header, "Package", message) for _name, message in _field_messages(fields)]
            elif key == "non_field_errors":
                errors += [self._document_error(message) for message in _messages(node)]
            else:
                column = HEADER_FIELD_COLUMNS.get(key, "PO" if key == "lines" else "Package")
                errors += [RowError(self.header, column, message) for message in _messages(node)]
        return _sorted(errors)

    def _line_errors(self, position: int, fields) -> list[RowError]:
        row = self.lines.get(position, self.header)
        errors = []
        for name, message in _field_messages(fields):
            if name == "quantity" and self.unpacked.get(position) and message_values(PACKING_DIFFERENCE, message):
                # Submitting needs every quantity packed: the rows without a package are the ones to fix.
                errors += [RowError(unpacked, "Package", _("%(message)s Name the package this row's quantity is in.")
                                    % {"message": message})
                           for unpacked in self.unpacked[position]]
            else:
                errors.append(RowError(row, LINE_FIELD_COLUMNS.get(name, "PO"), message))
        return errors

    def _package_errors(self, position: int, fields) -> list[RowError]:
        row = self.packages.get(position, self.header)
        columns = PALLET_FIELD_COLUMNS if position in self.pallets else PACKAGE_FIELD_COLUMNS
        errors = []
        for name, node in fields.items() if isinstance(fields, dict) else [("reference", fields)]:
            if name == "contents" and isinstance(node, dict):
                for content, content_fields in node.items():
                    content_row = self.contents.get((position, int(content)), row) if content.isdigit() else row
                    errors += [RowError(content_row, "Quantity", message)
                               for _name, message in _field_messages(content_fields)]
            elif name == "sscc":
                sscc_row, column = self.ssccs.get(position, (row, columns["sscc"]))
                errors += [RowError(sscc_row, column, message) for message in _messages(node)]
            else:
                errors += [RowError(row, columns.get(name, "Package"), message) for message in _messages(node)]
        return errors

    def _document_error(self, message: str) -> RowError:
        """The document's whole-shipment rules name the package they are about; find its row."""
        for template, column in ((PACKAGE_NESTED_IN_ITSELF, "On pallet"), (PACKAGE_SITS_IN_UNKNOWN, "On pallet"),
                                 (PACKAGE_HOLDS_UNKNOWN_LINE, "Package")):
            values = message_values(template, message)
            if values and values["reference"] in self.references:
                return RowError(self.packages[self.references.index(values["reference"])], column, message)
        if message == str(EXPECTED_ARRIVAL_BEFORE_DESPATCH) or "expected arrival" in message:
            return RowError(self.header, "Expected arrival", message)
        return RowError(self.header, "Shipment", message)


def template_rows() -> list[list[str]]:
    """An example row for the downloadable template: carton C1 on pallet P1, pallet and carton SSCCs allocated."""
    return [["ASN-1001", "PLANT-1", "2027-01-15", "2027-01-18", "DHL", "JD014600003",
             "PO-7001", "10", "250", "L-2027-01", "", "C1", "carton", "", "P1", ""]]


def template_csv() -> bytes:
    return to_csv(template_rows(), columns=COLUMNS)


def template_xlsx() -> bytes:
    return to_xlsx(template_rows(), columns=COLUMNS, title="Shipment")


def apply_shipment_upload(*, content: bytes, actor: Actor, submit: bool) -> tuple[Shipment | None, list[RowError]]:
    """Submit (or save as draft) the shipment in the file; with any error nothing is stored and the
    errors come back on rows. A refusal that concerns the shipment as a whole (no right to ship, the
    number already submitted or cancelled) is reported on the first data row, column "Shipment".
    Raises SpreadsheetError when the file is not a spreadsheet at all."""
    document, errors, rows = read_shipment(content)
    if document is None:
        return None, errors
    save = services.shipment_submit if submit else services.shipment_save_draft
    try:
        return save(document=document, actor=actor), []
    except InvalidDocument as error:
        return None, _refusal(error, rows)
    except DomainError as error:
        return None, [RowError(rows.header, "Shipment", error.message)]


def read_shipment(content: bytes) -> tuple[ShipmentDocument | None, list[RowError], RowMap]:
    """The file as a validated document (None when there are errors) and where its parts came from."""
    table = read_table(content)
    positions, errors = _columns(table)
    if errors:
        return None, errors, RowMap()
    rows = [
        (number, {column: cells[index] if index < len(cells) else "" for column, index in positions.items()})
        for number, cells in enumerate(table[1:], start=2)
    ]
    rows = [(number, cells) for number, cells in rows if any(cell_text(cell) for cell in cells.values())]
    if not rows:
        raise SpreadsheetError(_("The file has no rows below the header."))
    builder = _Builder(header_row=rows[0][0])
    for number, cells in rows:
        builder.add(number, cells)
    data, errors = builder.finish()
    if errors:
        return None, errors, builder.rows
    try:
        return parse_shipment(data), [], builder.rows
    except InvalidDocument as error:
        return None, _refusal(error, builder.rows), builder.rows


def _refusal(error: InvalidDocument, rows: RowMap) -> list[RowError]:
    return rows.row_errors(error.details) or [RowError(rows.header, "Shipment", error.message)]


def _columns(table: list[list]) -> tuple[dict[str, int], list[RowError]]:
    """The header: column -> index; names matched case-insensitively, unknown and missing ones refused (row 1)."""
    known = {column.casefold(): column for column in COLUMNS}
    positions: dict[str, int] = {}
    errors: list[RowError] = []
    for index, cell in enumerate(table[0]):
        name = cell_text(cell)
        if not name:
            if any(index < len(cells) and cell_text(cells[index]) for cells in table[1:]):
                errors.append(RowError(1, _("Column %(number)s") % {"number": index + 1},
                                       _("This column has values but no name in row 1.")))
            continue
        column = known.get(name.casefold())
        if column is None:
            errors.append(RowError(1, name, _("Unknown column %(name)r; the columns are: %(columns)s.")
                                   % {"name": name, "columns": ", ".join(COLUMNS)}))
        elif column in positions:
            errors.append(RowError(1, column, _("The column %(column)r appears twice.") % {"column": column}))
        else:
            positions[column] = index
    if not positions:
        raise SpreadsheetError(
            _("This is not a shipment spreadsheet: row 1 should name the columns (%(columns)s). "
              "Download the template to start from.") % {"columns": ", ".join(COLUMNS)}
        )
    errors += [RowError(1, column, _("The column %(column)r is missing; it is required.") % {"column": column})
               for column in REQUIRED if column not in positions]
    return positions, errors


@dataclass
class _Package:
    """A package as the rows describe it; each of kind, sscc and parent may be stated on any of its rows."""

    reference: str
    row: int  # its first own row, else the first row naming it in "On pallet"
    own: bool = False  # has rows of its own ("Package"); else only named in "On pallet"
    kind: str = ""
    sscc: str = ""
    parent: str = ""
    stated: dict[str, tuple[int, str]] = field(default_factory=dict)  # attribute -> (row, column) stating it
    contents: dict[tuple, list] = field(default_factory=dict)  # line key -> [quantity, first row]


ATTRIBUTE_WORDS = {"kind": pgettext_lazy("package attribute", "type"), "sscc": "SSCC",
                   "parent": pgettext_lazy("package attribute", "pallet")}


class _Builder:
    """Collects rows into the shipment document's dict and the RowMap, with the file's own errors."""

    def __init__(self, *, header_row: int) -> None:
        self.header: dict[str, str] = {}
        self.header_row = header_row
        self.lines: dict[tuple, dict] = {}  # (PO, PO line, Lot) -> line; first appearance order
        self.line_rows: dict[tuple, int] = {}
        self.packages: dict[str, _Package] = {}  # first appearance order, a pallet before what sits on it
        self.unpacked: dict[tuple, list[int]] = {}  # line key -> rows whose quantity is in no package
        self.errors: list[RowError] = []
        self.bad_cells: set[tuple[int, str]] = set()  # already reported: not to be reported as empty too
        self.rows = RowMap(header=header_row)

    def add(self, number: int, cells: dict) -> None:
        """One row: `cells` maps the file's columns to cell values (text, or numbers and dates from Excel)."""
        values = {column: cell_text(cell) for column, cell in cells.items()}
        for column in DATE_COLUMNS:
            if values.get(column):
                try:
                    values[column] = cell_date(values[column]).isoformat()
                except ValueError as error:
                    self.errors.append(RowError(number, column, str(error)))
                    self.bad_cells.add((number, column))
                    values[column] = ""
        self._header(number, values)
        line = self._line(number, values)
        self._packing(number, values, cells, line)

    def _header(self, number: int, values: dict[str, str]) -> None:
        for column in HEADER_COLUMNS:
            value = values.get(column, "")
            if number == self.header_row:
                self.header[column] = value
                if not value and column in REQUIRED and (number, column) not in self.bad_cells:
                    self.errors.append(RowError(number, column, _("Fill in %(column)s on the first data row.")
                                                % {"column": column}))
            elif value and value != self.header[column]:
                context = {"row": self.header_row, "value": self.header[column]}
                self.errors.append(RowError(number, column, (
                    _("One file is one shipment: row %(row)s has %(value)r here; leave it empty or repeat that value.")
                    if self.header[column] else
                    _("One file is one shipment: row %(row)s has empty here; leave it empty or repeat that value.")
                ) % context))

    def _line(self, number: int, values: dict[str, str]) -> tuple[tuple, Decimal] | None:
        """The row's quantity added to its shipment line; returns the line's key and the row's quantity."""
        problems = [RowError(number, column, _("Fill in %(column)s.") % {"column": column})
                    for column in ("PO", "PO line", "Quantity") if not values.get(column)]
        order_line = quantity = None
        if values.get("PO line"):
            try:
                order_line = int(values["PO line"])
            except ValueError:
                problems.append(RowError(number, "PO line", _("%(value)r is not a whole number.") % {"value": values["PO line"]}))
        if values.get("Quantity"):
            try:
                quantity = cell_decimal(values["Quantity"])
            except ValueError as error:
                problems.append(RowError(number, "Quantity", str(error)))
            else:
                if quantity <= 0:
                    problems.append(RowError(number, "Quantity", _("Give a quantity greater than zero.")))
        if problems:
            self.errors += problems
            return None
        key = (values["PO"], order_line, values.get("Lot", ""))
        serials = [s for s in re.split(r"[\s,;]+", values.get("Serial numbers", "")) if s]
        if key in self.lines:
            self.lines[key]["quantity"] += quantity
            self.lines[key]["serial_numbers"] += serials
        else:
            self.lines[key] = {"line": len(self.lines) + 1, "purchase_order": key[0], "order_line": key[1],
                               "quantity": quantity, "lot": key[2], "serial_numbers": serials}
            self.line_rows[key] = number
        return key, quantity

    def _packing(self, number: int, values: dict[str, str], cells: dict, line: tuple[tuple, Decimal] | None) -> None:
        for column in ("SSCC", "Pallet SSCC"):
            if isinstance(cells.get(column), float):
                self.errors.append(RowError(number, column, _("Excel stored this SSCC as a number and lost digits: "
                                                              "format the column as text and type it again.")))
                values[column] = ""
        reference, pallet = values.get("Package", ""), values.get("On pallet", "")
        if not reference:
            described = ", ".join(c for c in ("Package type", "SSCC", "On pallet", "Pallet SSCC") if values.get(c))
            if described:
                self.errors.append(RowError(number, "Package", _("Name the package that %(columns)s describe.")
                                            % {"columns": described}))
            elif line is not None:
                self.unpacked.setdefault(line[0], []).append(number)
            return
        if pallet:
            outer = self.packages.setdefault(pallet, _Package(reference=pallet, row=number))
            self._state(outer, "sscc", values.get("Pallet SSCC", ""), number, "Pallet SSCC")
        elif values.get("Pallet SSCC"):
            self.errors.append(RowError(number, "Pallet SSCC", _("Name the pallet in On pallet.")))
        package = self.packages.setdefault(reference, _Package(reference=reference, row=number))
        if not package.own:  # new, or so far only named in "On pallet": its own rows describe it from here
            package.own, package.row = True, number
        self._state(package, "kind", values.get("Package type", "").lower(), number, "Package type")
        self._state(package, "sscc", values.get("SSCC", ""), number, "SSCC")
        self._state(package, "parent", pallet, number, "On pallet")
        if line is not None:
            key, quantity = line
            content = package.contents.setdefault(key, [Decimal(0), number])
            content[0] += quantity

    def _state(self, package: _Package, attribute: str, value: str, number: int, column: str) -> None:
        """An empty cell says nothing; the first value given holds, a different one later is an error."""
        held = getattr(package, attribute)
        if not value or value == held:
            return
        if not held:
            setattr(package, attribute, value)
            package.stated[attribute] = (number, column)
            return
        row, where = package.stated[attribute]
        self.errors.append(RowError(number, column, _("Package %(reference)s already has %(attribute)s %(value)r "
                                                      "(%(column)s, row %(row)s); one package, one value.")
                                    % {"reference": package.reference, "attribute": ATTRIBUTE_WORDS[attribute],
                                       "value": held, "column": where, "row": row}))

    def finish(self) -> tuple[dict, list[RowError]]:
        if self.errors:
            return {}, _sorted(self.errors)
        for position, key in enumerate(self.lines):
            self.rows.lines[position] = self.line_rows[key]
            if key in self.unpacked:
                self.rows.unpacked[position] = self.unpacked[key]
        packages = []
        for position, package in enumerate(self.packages.values()):
            self.rows.packages[position] = package.row
            self.rows.references.append(package.reference)
            if not package.own:
                self.rows.pallets.add(position)
            if "sscc" in package.stated:
                self.rows.ssccs[position] = package.stated["sscc"]
            contents = []
            for content_position, (key, (quantity, row)) in enumerate(package.contents.items()):
                self.rows.contents[(position, content_position)] = row
                contents.append({"line": self.lines[key]["line"], "quantity": quantity})
            kind = package.kind or (DEFAULT_PACKAGE_TYPE if package.own else "pallet")
            packages.append({"reference": package.reference, "kind": kind, "sscc": package.sscc,
                             "parent": package.parent, "contents": contents})
        data = {
            **{name: self.header[column] for column, name in HEADER_COLUMNS.items()},
            "lines": list(self.lines.values()),
            "packages": packages,
        }
        return data, []


def _messages(node) -> list[str]:
    if isinstance(node, dict):
        return [message for value in node.values() for message in _messages(value)]
    if isinstance(node, (list, tuple)):
        return [str(message) for message in node]
    return [str(node)]


def _field_messages(fields) -> list[tuple[str, str]]:
    """(field, message) for every message under a list item's errors, nested ones (serial numbers) included."""
    if not isinstance(fields, dict):
        return [("", message) for message in _messages(fields)]
    return [(name, message) for name, node in fields.items() for message in _messages(node)]


def _sorted(errors: list[RowError]) -> list[RowError]:
    unique = {(e.row, e.column, e.message): e for e in errors}
    return sorted(unique.values(), key=lambda e: (e.row, e.column))
