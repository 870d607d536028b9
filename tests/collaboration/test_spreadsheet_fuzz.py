"""Property-based fuzzing of the spreadsheet importers (order answers and shipment notices), CSV
and Excel: whatever a supplier uploads, the importer answers with row errors or a SpreadsheetError
(a form message) and never raises anything else; a file with errors changes nothing."""
from __future__ import annotations

import random

from hypothesis import HealthCheck, given, settings, strategies as st

from collaboration import shipment_spreadsheets, spreadsheets
from collaboration.actors import Actor
from collaboration.models import AcknowledgementLine, Shipment
from tests.factories import create_purchase_order
from tests.support.fuzzing import examples

CELL = st.one_of(
    st.sampled_from(["", "PO-1", "PO-2", "1", "2", "10", "20", "accept", "reject", "change", "split", "400", "-5", "0",
                     "1e9", "12,5", "2026-12-01", "2026-13-40", "01.12.2026", "P1", "pallet", "carton", "BRK-2201",
                     "100:2026-12-01;200:2027-01-15", "ASN-F", "PLANT-1", "=1+1", "0012345678901234567", "nan", "None"]),
    # Any text an Excel cell can hold (openpyxl refuses control characters when writing the file).
    st.text(alphabet=st.characters(blacklist_categories=("Cc", "Cs")), max_size=20),
)
FUZZ = settings(max_examples=examples(100), deadline=None,
                suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow])


def table(columns: list[str], draw_rows) -> st.SearchStrategy:
    header = st.one_of(st.just(columns), st.permutations(columns), st.lists(st.sampled_from(columns + ["Extra", ""]), max_size=8))
    return st.tuples(header, st.lists(st.lists(CELL, max_size=len(columns) + 2), max_size=draw_rows))


def encode(fmt: str, header: list[str], rows: list[list[str]], garble: int) -> bytes:
    content = spreadsheets.to_xlsx(rows, header) if fmt == "xlsx" else spreadsheets.to_csv(rows, header)
    if garble:  # flip a few bytes: a damaged download, a wrong encoding
        data = bytearray(content)
        chance = random.Random(garble)
        for _ in range(garble):
            data[chance.randrange(len(data))] = chance.randrange(256)
        content = bytes(data)
    return content


def orders(nordwerk):
    if not nordwerk.purchase_orders.exists():
        for number in ("PO-1", "PO-2"):
            create_purchase_order(number, supplier=nordwerk, line_count=2)


@FUZZ
@given(fmt=st.sampled_from(["csv", "xlsx"]), data=table(spreadsheets.COLUMNS, 6), garble=st.sampled_from([0, 0, 1, 5]))
def test_order_answer_uploads_never_raise_unexpectedly(nordwerk, nordwerk_sales, fmt, data, garble):
    orders(nordwerk)
    header, rows = data
    before = AcknowledgementLine.objects.count()
    try:
        applied, errors = spreadsheets.apply_upload(content=encode(fmt, header, rows, garble),
                                                    actor=Actor.for_user(nordwerk_sales, channel="portal"))
    except spreadsheets.SpreadsheetError as error:
        assert str(error)
        applied, errors = 0, []
    assert all(error.message for error in errors)
    if errors or not applied:
        assert AcknowledgementLine.objects.count() == before


@FUZZ
@given(fmt=st.sampled_from(["csv", "xlsx"]), data=table(shipment_spreadsheets.COLUMNS, 6), garble=st.sampled_from([0, 0, 1, 5]),
       submit=st.booleans())
def test_shipment_uploads_never_raise_unexpectedly(nordwerk, nordwerk_sales, fmt, data, garble, submit, settings):
    settings.GS1_COMPANY_PREFIX = "4012345"
    orders(nordwerk)
    header, rows = data
    before = Shipment.objects.count()
    try:
        shipment, errors = shipment_spreadsheets.apply_shipment_upload(
            content=encode(fmt, header, rows, garble), actor=Actor.for_user(nordwerk_sales, channel="portal"), submit=submit)
    except spreadsheets.SpreadsheetError as error:
        assert str(error)
        shipment, errors = None, []
    assert all(error.message for error in errors)
    if errors or shipment is None:
        assert Shipment.objects.count() == before
