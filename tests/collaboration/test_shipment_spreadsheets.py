"""ASN spreadsheet upload: rows grouped into shipment lines and packages, errors on rows, all or nothing."""
import csv
import io
import random
import re
import zipfile
from datetime import timedelta

import pytest
from django.db import transaction
from openpyxl import Workbook, load_workbook

from collaboration import services
from collaboration.documents import parse_shipment
from collaboration.gs1 import sscc_compose
from collaboration.models import ItemRule, Package, Shipment, TolerancePolicy
from collaboration.shipment_spreadsheets import (
    COLUMNS,
    apply_shipment_upload,
    read_shipment,
    template_csv,
    template_xlsx,
)
from collaboration.spreadsheets import SpreadsheetError
from erp_bridge.models import OutboxMessage
from tests.collaboration.test_shipments import DESPATCH, asn
from tests.factories import create_purchase_order

ARRIVAL = DESPATCH + timedelta(days=2)
PALLET_SSCC = sscc_compose(extension=1, prefix="0614141", serial=7)
CARTON_SSCC = sscc_compose(extension=1, prefix="0614141", serial=8)
HEADER = {"Shipment": "ASN-1", "Ship-to": "PLANT-1", "Despatch date": DESPATCH.isoformat(),
          "Expected arrival": ARRIVAL.isoformat(), "Carrier": "DHL", "Tracking": "JD0001"}


def two_pallets() -> list[dict]:
    """Pallet P1 (SSCC allocated) holds cartons C1 and C2; pallet P2 (SSCC given) holds C3 and C4 (C4's given)."""
    return [
        {**HEADER, "PO": "PO-1", "PO line": "10", "Quantity": "250", "Package": "C1", "Package type": "carton",
         "On pallet": "P1"},
        {"PO": "PO-1", "PO line": "10", "Quantity": "150", "Package": "C2", "On pallet": "P1"},
        {"PO": "PO-2", "PO line": "10", "Quantity": "100", "Lot": "L-7", "Package": "C2", "On pallet": "P1"},
        {"PO": "PO-1", "PO line": "20", "Quantity": "200", "Serial numbers": "S1 S2", "Package": "C3",
         "On pallet": "P2", "Pallet SSCC": PALLET_SSCC},
        {"Carrier": "DHL", "PO": "PO-1", "PO line": "20", "Quantity": "100", "Serial numbers": "S3;S4", "Package": "C4",
         "SSCC": CARTON_SSCC, "On pallet": "P2", "Pallet SSCC": PALLET_SSCC},
    ]


def two_pallets_document() -> dict:
    return asn(
        lines=[
            {"line": 1, "purchase_order": "PO-1", "order_line": 10, "quantity": "400"},
            {"line": 2, "purchase_order": "PO-2", "order_line": 10, "quantity": "100", "lot": "L-7"},
            {"line": 3, "purchase_order": "PO-1", "order_line": 20, "quantity": "300",
             "serial_numbers": ["S1", "S2", "S3", "S4"]},
        ],
        packages=[
            {"reference": "P1", "kind": "pallet"},
            {"reference": "C1", "kind": "carton", "parent": "P1", "contents": [{"line": 1, "quantity": "250"}]},
            {"reference": "C2", "kind": "carton", "parent": "P1",
             "contents": [{"line": 1, "quantity": "150"}, {"line": 2, "quantity": "100"}]},
            {"reference": "P2", "kind": "pallet", "sscc": PALLET_SSCC},
            {"reference": "C3", "kind": "carton", "parent": "P2", "contents": [{"line": 3, "quantity": "200"}]},
            {"reference": "C4", "kind": "carton", "parent": "P2", "sscc": CARTON_SSCC,
             "contents": [{"line": 3, "quantity": "100"}]},
        ],
    )


def csv_file(rows: list[dict], columns: list[str] = COLUMNS) -> bytes:
    buffer = io.StringIO()
    writer = csv.DictWriter(buffer, fieldnames=columns, restval="", extrasaction="ignore")
    writer.writeheader()
    writer.writerows(rows)
    return buffer.getvalue().encode()


def stored() -> dict:
    """The stored shipment, in the terms the comparison is about."""
    shipment = Shipment.objects.get()
    return {
        "header": (shipment.number, shipment.ship_to, shipment.despatch_date, shipment.expected_arrival,
                   shipment.carrier, shipment.tracking_number),
        "lines": [
            (line.line_number, line.order_line.purchase_order.number, line.order_line.line_number, line.quantity,
             line.lot, line.serial_numbers)
            for line in shipment.lines.select_related("order_line__purchase_order").order_by("line_number")
        ],
        "packages": [
            (package.position, package.reference, package.kind, package.sscc,
             package.parent.reference if package.parent else "",
             sorted((content.shipment_line.line_number, content.quantity) for content in package.contents.all()))
            for package in shipment.packages.select_related("parent").order_by("position")
        ],
    }


def stored_from_json(actor) -> dict:
    """What the equivalent JSON document stores, then undone so the upload starts from the same state."""
    with transaction.atomic():
        services.shipment_submit(document=parse_shipment(two_pallets_document()), actor=actor)
        result = stored()
        transaction.set_rollback(True)
    assert not Shipment.objects.exists()
    return result


def assert_nothing_stored():
    assert not Shipment.objects.exists() and not Package.objects.exists()
    assert not OutboxMessage.objects.filter(type__startswith="shipment").exists()


def test_csv_with_two_pallets_of_cartons_stores_what_the_json_document_stores(orders, logistics):
    expected = stored_from_json(logistics)
    shipment, errors = apply_shipment_upload(content=csv_file(two_pallets()), actor=logistics, submit=True)
    assert errors == []
    assert shipment.status == "submitted" and stored() == expected
    allocated = [sscc_compose(extension=0, prefix="4012345", serial=n) for n in (1, 2, 3, 4)]
    assert [(p[1], p[3], p[4]) for p in expected["packages"]] == [
        ("P1", allocated[0], ""), ("C1", allocated[1], "P1"), ("C2", allocated[2], "P1"),
        ("P2", PALLET_SSCC, ""), ("C3", allocated[3], "P2"), ("C4", CARTON_SSCC, "P2")]
    assert expected["lines"][2][5] == ["S1", "S2", "S3", "S4"]
    assert set(OutboxMessage.objects.filter(type="shipment.submitted").values_list("aggregate", flat=True)) == {
        "PO-1", "PO-2"}


def test_excel_with_columns_in_any_order_and_case_and_typed_cells_stores_the_same_shipment(orders, logistics):
    expected = stored_from_json(logistics)
    columns = list(reversed(COLUMNS))
    workbook = Workbook()
    sheet = workbook.active
    sheet.append([column.upper() for column in columns])
    for row in two_pallets():
        typed = {**row, "PO line": int(row["PO line"]), "Quantity": float(row["Quantity"])}
        if "Despatch date" in row:
            typed.update({"Despatch date": DESPATCH, "Expected arrival": ARRIVAL})  # real Excel date cells
        sheet.append([typed.get(column) for column in columns])
    buffer = io.BytesIO()
    workbook.save(buffer)
    shipment, errors = apply_shipment_upload(content=buffer.getvalue(), actor=logistics, submit=True)
    assert errors == [] and stored() == expected


def test_a_draft_upload_stores_a_draft_and_tells_the_erp_nothing(orders, logistics):
    shipment, errors = apply_shipment_upload(content=csv_file(two_pallets()), actor=logistics, submit=False)
    assert errors == [] and shipment.status == "draft"
    assert Package.objects.filter(shipment=shipment).count() == 6
    assert not OutboxMessage.objects.filter(type__startswith="shipment").exists()


def test_rows_without_packages_make_an_unpacked_shipment_summing_rows_of_the_same_line_and_lot(orders, logistics):
    rows = [{**HEADER, "PO": "PO-1", "PO line": "10", "Quantity": "100", "Lot": "A"},
            {"PO": "PO-1", "PO line": "10", "Quantity": "50.5", "Lot": "B"},
            {"PO": "PO-1", "PO line": "10", "Quantity": "20", "Lot": "A"}]
    document, errors, row_map = read_shipment(csv_file(rows))
    assert errors == [] and document.packages == ()
    assert [(line.line, line.lot, str(line.quantity)) for line in document.lines] == [(1, "A", "120"), (2, "B", "50.5")]
    assert row_map.lines == {0: 2, 1: 3}


def test_a_draft_may_leave_rows_unpacked_that_a_submission_must_pack(orders, logistics):
    rows = two_pallets()
    rows[1].update({"Package": "", "On pallet": ""})  # row 3: 150 of line 1 not packed yet
    shipment, errors = apply_shipment_upload(content=csv_file(rows), actor=logistics, submit=True)
    assert shipment is None
    assert [(e.row, e.column) for e in errors] == [(3, "Package")]
    assert "400 shipped but 250 packed" in errors[0].message
    assert_nothing_stored()
    draft, errors = apply_shipment_upload(content=csv_file(rows), actor=logistics, submit=False)
    assert errors == [] and draft.status == "draft"
    assert draft.lines.get(line_number=1).quantity == 400


def change(rows: list[dict], changes: dict[int, dict]) -> list[dict]:
    """Rows with some cells changed; keys are spreadsheet row numbers (header = row 1)."""
    for number, cells in changes.items():
        rows[number - 2].update(cells)
    return rows


@pytest.mark.parametrize(("changes", "columns", "expected"), [
    pytest.param({4: {"PO": "PO-2", "PO line": "20"}}, COLUMNS, (4, "PO line", "was rejected"), id="rejected-line"),
    pytest.param({6: {"SSCC": CARTON_SSCC[:-1] + str((int(CARTON_SSCC[-1]) + 1) % 10)}}, COLUMNS,
                 (6, "SSCC", "check digit"), id="sscc-check-digit"),
    pytest.param({5: {"Pallet SSCC": "123"}, 6: {"Pallet SSCC": "123"}}, COLUMNS, (5, "Pallet SSCC", "18 digits"),
                 id="pallet-sscc-on-the-row-that-names-it"),
    pytest.param({2: {"On pallet": "C1"}}, COLUMNS, (2, "On pallet", "Package C1 is nested in itself"),
                 id="package-on-itself"),
    pytest.param({3: {"Package": "P1", "On pallet": "C1"}}, COLUMNS, (3, "On pallet", "Package P1 is nested in itself"),
                 id="package-cycle"),
    pytest.param({5: {"Carrier": "UPS"}}, COLUMNS, (5, "Carrier", "One file is one shipment: row 2 has 'DHL'"),
                 id="inconsistent-header"),
    pytest.param({2: {"Despatch date": "2026-13-01"}}, COLUMNS, (2, "Despatch date", "is not a date (use YYYY-MM-DD)"),
                 id="bad-date"),
    pytest.param({2: {"Expected arrival": (DESPATCH - timedelta(days=1)).isoformat()}}, COLUMNS,
                 (2, "Expected arrival", "cannot be before the despatch date"), id="arrival-before-despatch"),
    pytest.param({4: {"Quantity": "ten"}}, COLUMNS, (4, "Quantity", "'ten' is not a number"), id="bad-decimal"),
    pytest.param({4: {"Quantity": "0"}}, COLUMNS, (4, "Quantity", "greater than zero"), id="zero-quantity"),
    pytest.param({3: {"PO line": "1O"}}, COLUMNS, (3, "PO line", "'1O' is not a whole number"), id="bad-po-line"),
    pytest.param({2: {"Shipment": ""}}, COLUMNS, (2, "Shipment", "Fill in Shipment on the first data row"),
                 id="no-shipment-number"),
    pytest.param({4: {"Package": "", "On pallet": ""}}, COLUMNS, (4, "Package", "100 shipped but 0 packed"),
                 id="unpacked-row-among-packed-ones"),
    pytest.param({4: {"Package": "", "SSCC": CARTON_SSCC}}, COLUMNS, (4, "Package", "Name the package that SSCC"),
                 id="packing-without-a-package"),
    pytest.param({3: {"Package type": "carton"}, 4: {"Package type": "crate"}}, COLUMNS,
                 (4, "Package type", "Package C2 already has type 'carton' (Package type, row 3)"),
                 id="one-package-two-types"),
    pytest.param({2: {"Package type": "barrel"}}, COLUMNS,
                 (2, "Package type", "'pallet', 'carton', 'crate' or 'other'"), id="unknown-package-type"),
    pytest.param({6: {"Pallet SSCC": CARTON_SSCC}}, COLUMNS,
                 (6, "Pallet SSCC", f"P2 already has SSCC '{PALLET_SSCC}' (Pallet SSCC, row 5)"),
                 id="one-pallet-two-ssccs"),
    pytest.param({2: {"Colour": "blue"}}, [*COLUMNS, "Colour"], (1, "Colour", "Unknown column 'Colour'"),
                 id="unknown-column"),
    pytest.param({}, [column for column in COLUMNS if column != "PO line"], (1, "PO line", "is missing"),
                 id="missing-required-column"),
])
def test_a_bad_row_names_row_and_column_and_nothing_is_stored(orders, logistics, changes, columns, expected):
    content = csv_file(change(two_pallets(), changes), columns)
    shipment, errors = apply_shipment_upload(content=content, actor=logistics, submit=True)
    row, column, message = expected
    assert shipment is None
    assert [(e.row, e.column) for e in errors] == [(row, column)] and message in errors[0].message, errors
    assert_nothing_stored()


def test_an_unknown_order_reads_like_another_suppliers_order(orders, logistics, alpenguss):
    create_purchase_order("PO-X", supplier=alpenguss)
    messages = {}
    for number in ("PO-X", "PO-404"):
        shipment, errors = apply_shipment_upload(content=csv_file(change(two_pallets(), {4: {"PO": number}})),
                                                 actor=logistics, submit=True)
        assert shipment is None and [(e.row, e.column) for e in errors] == [(4, "PO")]
        messages[number] = errors[0].message.replace(number, "<PO>")
    assert messages["PO-X"] == messages["PO-404"] == "No purchase order <PO> of yours."
    assert_nothing_stored()


def test_over_shipment_beyond_the_tolerance_is_reported_on_the_lines_first_row(orders, logistics, nordwerk):
    TolerancePolicy.objects.create(supplier=nordwerk, quantity_over_pct=5)
    rows = change(two_pallets(), {3: {"Quantity": "171"}})  # line 1 = rows 2 and 3: 421 of 400 (+5 % = 420)
    shipment, errors = apply_shipment_upload(content=csv_file(rows), actor=logistics, submit=True)
    assert shipment is None
    assert [(e.row, e.column) for e in errors] == [(2, "Quantity")] and "up to 420" in errors[0].message
    assert_nothing_stored()


def test_a_missing_lot_of_a_lot_controlled_item_is_reported_in_the_lot_column(orders, logistics):
    ItemRule.objects.create(item="BRK-2201", lot_controlled=True)  # PO-1 line 10: rows 2 and 3
    shipment, errors = apply_shipment_upload(content=csv_file(two_pallets()), actor=logistics, submit=True)
    assert shipment is None
    assert [(e.row, e.column) for e in errors] == [(2, "Lot")] and "lot-controlled" in errors[0].message
    assert_nothing_stored()


def test_a_repeated_sscc_is_reported_on_both_rows_that_give_it(orders, logistics):
    rows = change(two_pallets(), {6: {"SSCC": PALLET_SSCC}})  # carton C4 labelled like its pallet P2
    shipment, errors = apply_shipment_upload(content=csv_file(rows), actor=logistics, submit=True)
    assert shipment is None
    assert [(e.row, e.column) for e in errors] == [(5, "Pallet SSCC"), (6, "SSCC")]
    assert all("used twice" in e.message for e in errors)
    assert_nothing_stored()


def test_a_refusal_of_the_whole_shipment_is_reported_on_the_first_data_row(orders, logistics):
    apply_shipment_upload(content=csv_file(two_pallets()), actor=logistics, submit=True)
    shipment, errors = apply_shipment_upload(content=csv_file(two_pallets()), actor=logistics, submit=False)
    assert shipment is None
    assert [(e.row, e.column) for e in errors] == [(2, "Shipment")] and "is submitted" in errors[0].message
    assert Shipment.objects.get().revision == 1


def test_an_sscc_that_excel_turned_into_a_number_is_refused_with_a_hint(orders, logistics):
    workbook = Workbook()
    sheet = workbook.active
    sheet.append(COLUMNS)
    for row in two_pallets():
        sheet.append([float(row[c]) if c == "SSCC" and row.get(c) else row.get(c) for c in COLUMNS])
    buffer = io.BytesIO()
    workbook.save(buffer)
    shipment, errors = apply_shipment_upload(content=buffer.getvalue(), actor=logistics, submit=True)
    assert shipment is None
    assert [(e.row, e.column) for e in errors] == [(6, "SSCC")] and "format the column as text" in errors[0].message
    assert_nothing_stored()


def zip_of_text() -> bytes:
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w") as archive:
        archive.writestr("notes.txt", "not a workbook")
    return buffer.getvalue()


NOT_CSV_OR_EXCEL = "Upload a CSV file in UTF-8 or an Excel (.xlsx) file"


@pytest.mark.parametrize(("content", "message"), [
    pytest.param(b"\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR" + bytes(32), NOT_CSV_OR_EXCEL, id="png"),
    pytest.param(random.Random(7).randbytes(512), NOT_CSV_OR_EXCEL, id="random-bytes"),
    pytest.param(b"PK\x03\x04 not really a zip", "The Excel file cannot be read", id="broken-zip"),
    pytest.param(zip_of_text(), "The Excel file cannot be read", id="zip-that-is-no-workbook"),
    pytest.param(b"Dear logistics team,\nplease find attached\n", "This is not a shipment spreadsheet", id="text"),
    pytest.param(",".join(COLUMNS).encode() + b"\n", "no rows below the header", id="header-only"),
    pytest.param(b"", "The file is empty", id="empty"),
])
def test_a_file_that_is_not_a_shipment_spreadsheet_is_refused_clearly(orders, logistics, content, message):
    with pytest.raises(SpreadsheetError, match=re.escape(message)):
        apply_shipment_upload(content=content, actor=logistics, submit=True)
    assert_nothing_stored()


def test_a_file_over_the_row_limit_is_refused_before_anything_is_checked(orders, logistics, monkeypatch):
    monkeypatch.setattr("collaboration.spreadsheets.MAX_ROWS", 4)
    with pytest.raises(SpreadsheetError, match="At most 4 rows per file"):
        apply_shipment_upload(content=csv_file(two_pallets()), actor=logistics, submit=True)
    assert_nothing_stored()


def test_the_template_lists_the_columns_and_its_example_row_reads_as_a_shipment():
    header = next(csv.reader(io.StringIO(template_csv().decode("utf-8-sig"))))
    assert header == COLUMNS
    assert [cell.value for cell in load_workbook(io.BytesIO(template_xlsx())).active[1]] == COLUMNS
    for content in (template_csv(), template_xlsx()):
        document, errors, _ = read_shipment(content)
        assert errors == []
        assert [(p.reference, p.kind, p.parent) for p in document.packages] == [
            ("P1", "pallet", ""), ("C1", "carton", "P1")]
        assert document.lines[0].purchase_order == "PO-7001" and document.packages[1].contents[0].quantity == 250
