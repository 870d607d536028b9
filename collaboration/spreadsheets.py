"""The acknowledgement spreadsheet: open lines out as CSV or Excel, the supplier's answers back in.

Upload is all-or-nothing: every row is checked (columns, types, PO access, then the same
acknowledgement rules as the portal and API) and nothing is applied unless the whole file is valid.
Reading and writing (`read_table`, `cell_*`, `to_csv`, `to_xlsx`) also serve `shipment_spreadsheets`.
"""
from __future__ import annotations

import csv
import io
import logging
from collections import defaultdict
from dataclasses import dataclass
from datetime import date, datetime
from decimal import Decimal, InvalidOperation
from itertools import islice
from zipfile import BadZipFile, ZipFile

from django.db import transaction
from django.utils.translation import gettext as _, gettext_lazy
from openpyxl import Workbook, load_workbook

from collaboration import selectors, services
from collaboration.actors import Actor
from collaboration.documents import decimal_text
from collaboration.errors import DomainError, NotFound
from collaboration.models import PurchaseOrder, PurchaseOrderLine
from collaboration.services import LineResponse, ScheduleInput

logger = logging.getLogger(__name__)

COLUMNS = [
    "PO", "Revision", "Line", "Item", "Description", "Ordered quantity", "UoM", "Ordered unit price", "Requested date",
    "Action", "Quantity", "Unit price", "Promised date", "Split", "Reason code", "Reason text",
]
REQUIRED = ["PO", "Revision", "Line", "Action"]
MAX_ROWS = 20_000
XLSX_MAGIC = b"PK\x03\x04"
# A 5 MB upload could unpack to gigabytes (a "zip bomb"); real sheets of MAX_ROWS rows stay far below.
MAX_XLSX_UNPACKED_BYTES = 100 * 2**20
UNREADABLE_XLSX = gettext_lazy("The Excel file cannot be read (it may be damaged). Save it again from Excel, or upload CSV.")


class SpreadsheetError(Exception):
    """The file as a whole cannot be read (wrong type, missing columns, too large)."""


@dataclass
class RowError:
    row: int  # as the supplier sees it: header is row 1
    column: str
    message: str


def open_lines(*, actor: Actor, number: str | None = None) -> list[list]:
    """Rows of every line still waiting for an answer, of one PO or all open ones of the actor."""
    orders = selectors.purchase_orders_for_actor(actor=actor).filter(status__in=PurchaseOrder.OPEN_STATUSES)
    if number:
        orders = orders.filter(number=number)
    lines = (
        PurchaseOrderLine.objects.filter(purchase_order__in=orders.values("pk"), is_cancelled=False,
                                         response_status=PurchaseOrderLine.ResponseStatus.OPEN)
        .select_related("purchase_order").order_by("purchase_order__number", "line_number")
    )
    return [
        [line.purchase_order.number, line.purchase_order.revision, line.line_number, line.item, line.description,
         decimal_text(line.quantity), line.uom, decimal_text(line.unit_price), line.requested_date.isoformat(),
         "", "", "", "", "", "", ""]
        for line in lines
    ]


def to_csv(rows: list[list], columns: list[str] = COLUMNS) -> bytes:
    buffer = io.StringIO()
    writer = csv.writer(buffer)
    writer.writerow(columns)
    writer.writerows(rows)
    return ("\ufeff" + buffer.getvalue()).encode()  # the BOM makes Excel read UTF-8


def to_xlsx(rows: list[list], columns: list[str] = COLUMNS, title: str = "Open lines") -> bytes:
    workbook = Workbook()
    sheet = workbook.active
    sheet.title = title
    sheet.append(columns)
    for row in rows:
        sheet.append(row)
    sheet.freeze_panes = "A2"
    buffer = io.BytesIO()
    workbook.save(buffer)
    return buffer.getvalue()


def read_table(content: bytes) -> list[list]:
    """The cells of a CSV file or of an Excel file's first sheet, header row first. Raises
    SpreadsheetError when it is neither, is empty, or has more than MAX_ROWS rows below the header."""
    if content.startswith(XLSX_MAGIC):
        try:
            with ZipFile(io.BytesIO(content)) as archive:
                unpacked = sum(member.file_size for member in archive.infolist())
        except (BadZipFile, OSError, ValueError, NotImplementedError, RuntimeError, EOFError):
            raise SpreadsheetError(str(UNREADABLE_XLSX)) from None
        if unpacked > MAX_XLSX_UNPACKED_BYTES:
            raise SpreadsheetError(_("The Excel file unpacks to more than %(size)s MB; split it or upload CSV.")
                                   % {"size": MAX_XLSX_UNPACKED_BYTES // 2**20})
        try:
            sheet = load_workbook(io.BytesIO(content), read_only=True, data_only=True).worksheets[0]
            rows = sheet.iter_rows(values_only=True)
            raw_rows = [["" if v is None else v for v in row] for row in islice(rows, MAX_ROWS + 2)]
        except Exception:  # noqa: BLE001 - a damaged file can fail anywhere in zipfile, zlib, XML or openpyxl
            logger.info("Unreadable Excel upload", exc_info=True)
            raise SpreadsheetError(str(UNREADABLE_XLSX)) from None
    else:
        try:
            text = content.decode("utf-8-sig")
        except UnicodeDecodeError:
            raise SpreadsheetError(_("Upload a CSV file in UTF-8 or an Excel (.xlsx) file.")) from None
        try:
            dialect = csv.Sniffer().sniff(text.splitlines()[0] if text else "", delimiters=",;\t")
        except csv.Error:
            dialect = csv.excel
        try:
            raw_rows = list(islice(csv.reader(io.StringIO(text), dialect), MAX_ROWS + 2))
        except csv.Error as error:  # e.g. NUL bytes: some binary file that happens to decode
            raise SpreadsheetError(_("Upload a CSV file in UTF-8 or an Excel (.xlsx) file (%(error)s).")
                                   % {"error": error}) from None
    if not raw_rows:
        raise SpreadsheetError(_("The file is empty."))
    if len(raw_rows) - 1 > MAX_ROWS:
        raise SpreadsheetError(_("At most %(count)s rows per file.") % {"count": MAX_ROWS})
    return raw_rows


def _read(content: bytes) -> list[dict[str, str]]:
    raw_rows = read_table(content)
    header = [str(cell).strip() for cell in raw_rows[0]]
    missing = [column for column in REQUIRED if column not in header]
    if missing:
        raise SpreadsheetError(_("Missing columns: %(columns)s. Download the template to see them all.")
                               % {"columns": ", ".join(missing)})
    return [dict(zip(header, row)) for row in raw_rows[1:]]


def cell_text(value) -> str:
    if isinstance(value, datetime):
        return value.date().isoformat()
    if isinstance(value, date):
        return value.isoformat()
    if isinstance(value, float) and value.is_integer():
        return str(int(value))
    return str(value).strip()


def cell_decimal(value: str) -> Decimal:
    try:
        result = Decimal(value.replace(",", ".")) if "," in value and "." not in value else Decimal(value)
    except InvalidOperation:
        raise ValueError(_("%(value)r is not a number.") % {"value": value}) from None
    if not result.is_finite():
        raise ValueError(_("%(value)r is not a number.") % {"value": value})
    return result


def cell_date(value: str) -> date:
    try:
        return date.fromisoformat(value)
    except ValueError:
        raise ValueError(_("%(value)r is not a date (use YYYY-MM-DD).") % {"value": value}) from None


def _split(value: str) -> tuple[ScheduleInput, ...]:
    entries = []
    for part in filter(None, (p.strip() for p in value.split(";"))):
        quantity, at, when = part.partition("@")
        if not at:
            raise ValueError(_("Write each delivery as quantity@date, e.g. 150@2027-01-12; got %(part)r.") % {"part": part})
        entries.append(ScheduleInput(cell_decimal(quantity.strip()), cell_date(when.strip())))
    return tuple(entries)


def _row_response(cells: dict[str, str], row_number: int, errors: list[RowError]) -> tuple[str, int, LineResponse] | None:
    values = {column: cell_text(cells.get(column, "")) for column in COLUMNS}
    if not values["Action"]:
        return None  # a line the supplier does not answer in this file
    parsed: dict = {}
    for column, key, convert in [
        ("Revision", "revision", int), ("Line", "line", int), ("Quantity", "quantity", cell_decimal),
        ("Unit price", "unit_price", cell_decimal), ("Promised date", "promised_date", cell_date),
        ("Split", "schedule", _split),
    ]:
        if not values[column]:
            continue
        try:
            parsed[key] = convert(values[column])
        except ValueError as error:
            message = str(error) if convert is not int else _("%(value)r is not a whole number.") % {"value": values[column]}
            errors.append(RowError(row_number, column, message))
    if "revision" not in parsed or "line" not in parsed or not values["PO"]:
        if not any(e.row == row_number for e in errors):
            errors.append(RowError(row_number, "PO", _("PO, revision and line are required.")))
        return None
    response = LineResponse(
        line=parsed["line"], action=values["Action"].lower(), quantity=parsed.get("quantity"),
        unit_price=parsed.get("unit_price"), promised_date=parsed.get("promised_date"),
        schedule=parsed.get("schedule", ()), reason_code=values["Reason code"], reason_text=values["Reason text"],
    )
    return values["PO"], parsed["revision"], response


FIELD_COLUMNS = {"quantity": "Quantity", "unit_price": "Unit price", "promised_date": "Promised date",
                 "schedule": "Split", "reason_code": "Reason code", "reason_text": "Reason text", "action": "Action",
                 "line": "Line", "revision": "Revision"}


def apply_upload(*, content: bytes, actor: Actor) -> tuple[int, list[RowError]]:
    """Submit every answered row; returns (rows applied, errors). With any error nothing is applied."""
    rows = _read(content)
    errors: list[RowError] = []
    by_order: dict[tuple[str, int], list[tuple[int, LineResponse]]] = defaultdict(list)
    for index, cells in enumerate(rows, start=2):
        parsed = _row_response(cells, index, errors)
        if parsed:
            number, revision, response = parsed
            by_order[(number, revision)].append((index, response))
    applied = 0
    with transaction.atomic():
        for (number, revision), items in by_order.items():
            row_of_line = {response.line: row for row, response in items}
            try:
                services.acknowledgement_submit(number=number, revision=revision,
                                                responses=[r for _row, r in items], actor=actor)
                applied += len(items)
            except NotFound:
                errors += [RowError(row, "PO", _("Purchase order %(number)s is not one of yours.") % {"number": number})
                           for row, _response in items]
            except DomainError as error:
                line_errors = error.details.get("lines") if isinstance(error.details.get("lines"), dict) else None
                if line_errors:
                    for line, fields in line_errors.items():
                        for field, messages in fields.items():
                            errors += [RowError(row_of_line.get(int(line), items[0][0]), FIELD_COLUMNS.get(field, field), m)
                                       for m in messages]
                else:
                    errors += [RowError(items[0][0], "PO", error.message)]
        if errors:
            transaction.set_rollback(True)
    return (0 if errors else applied), sorted(errors, key=lambda e: (e.row, e.column))
