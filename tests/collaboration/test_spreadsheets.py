"""Spreadsheet round trip: download open lines (CSV, Excel), fill in, upload; all or nothing with row errors."""
import csv
import io
from datetime import timedelta

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.urls import reverse
from django.utils import timezone
from openpyxl import load_workbook

from collaboration.models import Acknowledgement, ExceptionCase, PurchaseOrderLine
from collaboration.spreadsheets import COLUMNS
from tests.factories import create_purchase_order

LATER = timezone.localdate() + timedelta(days=50)


@pytest.fixture
def portal(client, nordwerk, nordwerk_sales, alpenguss):
    create_purchase_order("PO-1", supplier=nordwerk, line_count=2)
    create_purchase_order("PO-2", supplier=nordwerk, line_count=1)
    create_purchase_order("PO-9", supplier=alpenguss, line_count=1)
    client.force_login(nordwerk_sales)
    return client


def download_csv(client, **params) -> list[dict]:
    response = client.get(reverse("collaboration:open-lines-download", args=["csv"]), params)
    assert response["Content-Disposition"].startswith("attachment;")
    return list(csv.DictReader(io.StringIO(response.content.decode("utf-8-sig"))))


def to_csv_upload(rows: list[dict], delimiter=",") -> SimpleUploadedFile:
    buffer = io.StringIO()
    writer = csv.DictWriter(buffer, fieldnames=COLUMNS, delimiter=delimiter)
    writer.writeheader()
    writer.writerows(rows)
    return SimpleUploadedFile("answers.csv", buffer.getvalue().encode())


def upload(client, file):
    return client.post(reverse("collaboration:responses-upload"), {"file": file})


def test_download_lists_only_own_open_lines(portal):
    rows = download_csv(portal)
    assert [(r["PO"], r["Line"]) for r in rows] == [("PO-1", "10"), ("PO-1", "20"), ("PO-2", "10")]
    assert rows[0]["Ordered quantity"] == "400" and rows[0]["Action"] == ""
    assert [r["PO"] for r in download_csv(portal, po="PO-2")] == ["PO-2"]


def test_csv_round_trip_applies_every_answer(portal):
    rows = download_csv(portal)
    rows[0].update(Action="accept")
    rows[1].update(Action="change", Split=f"150@{LATER.isoformat()}; 250@{(LATER + timedelta(days=7)).isoformat()}")
    rows[2].update(Action="reject", **{"Reason code": "capacity"})
    response = upload(portal, to_csv_upload(rows, delimiter=";"))  # as German Excel saves CSV
    assert response.status_code == 302
    statuses = list(PurchaseOrderLine.objects.filter(purchase_order__number__in=["PO-1", "PO-2"])
                    .order_by("purchase_order__number", "line_number").values_list("response_status", flat=True))
    assert statuses == ["confirmed", "proposed", "proposed"]  # the late split and the rejection go to the buyer
    assert ExceptionCase.objects.count() == 2
    assert Acknowledgement.objects.filter(channel="portal").count() == 2


def test_excel_round_trip(portal):
    response = portal.get(reverse("collaboration:open-lines-download", args=["xlsx"]))
    sheet = load_workbook(io.BytesIO(response.content)).active
    assert [c.value for c in sheet[1]] == COLUMNS
    sheet.cell(row=2, column=COLUMNS.index("Action") + 1, value="accept")
    sheet.cell(row=3, column=COLUMNS.index("Action") + 1, value="change")
    sheet.cell(row=3, column=COLUMNS.index("Promised date") + 1, value=LATER)  # a real Excel date cell
    buffer = io.BytesIO()
    sheet.parent.save(buffer)
    assert upload(portal, SimpleUploadedFile("answers.xlsx", buffer.getvalue())).status_code == 302
    assert PurchaseOrderLine.objects.get(purchase_order__number="PO-1", line_number=10).response_status == "confirmed"
    assert PurchaseOrderLine.objects.get(purchase_order__number="PO-1", line_number=20).response_status == "proposed"


def test_any_bad_row_applies_nothing_and_names_row_and_column(portal):
    rows = download_csv(portal)
    rows[0].update(Action="accept")
    rows[1].update(Action="change", Quantity="lots")
    rows[2].update(Action="change", **{"Promised date": "2020-01-01"})
    extra = dict(rows[2], PO="PO-9", Line="10", Action="accept")  # another supplier's order
    response = upload(portal, to_csv_upload(rows + [extra]))
    assert response.status_code == 400
    errors = {(e.row, e.column): e.message for e in response.context["row_errors"]}
    assert "not a number" in errors[(3, "Quantity")]
    assert "in the past" in errors[(4, "Promised date")]
    assert "not one of yours" in errors[(5, "PO")]
    assert not Acknowledgement.objects.exists()
    assert set(PurchaseOrderLine.objects.values_list("response_status", flat=True)) == {"open"}


@pytest.mark.parametrize(
    ("content", "message"),
    [
        (b"PO,Line\nPO-1,10\n", "Missing columns: Revision, Action"),
        (b"\xff\xfe\x00garbage", "UTF-8"),
        (b"PK\x03\x04not really a zip", "cannot be read"),
        (b"", "empty"),
    ],
)
def test_unreadable_files_are_refused_clearly(portal, content, message):
    response = upload(portal, SimpleUploadedFile("answers.csv", content))
    assert message in response.content.decode()
    assert not Acknowledgement.objects.exists()
