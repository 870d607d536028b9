"""Package labels and packing lists as PDF: read back as a scanner and a person would read them."""
import re

import pypdfium2
import pytest
import zxingcpp
from django.db import connection
from django.test.utils import CaptureQueriesContext
from reportlab.lib.units import mm

from collaboration import services
from collaboration.documents import parse_shipment
from collaboration.labels import NothingToLabel, package_labels_pdf, packing_list_pdf
from collaboration.models import Package, Shipment
from tests.collaboration.test_shipments import asn


def pages(pdf: bytes) -> list:
    document = pypdfium2.PdfDocument(pdf)
    return [document[index] for index in range(len(document))]


def text(page) -> str:
    return page.get_textpage().get_text_range()


def barcodes(page) -> list:
    return zxingcpp.read_barcodes(page.render(scale=4).to_pil())


def draft(logistics, **overrides) -> Shipment:  # noqa: F811
    saved = services.shipment_save_draft(document=parse_shipment(asn(**overrides)), actor=logistics)
    return Shipment.objects.select_related("supplier").get(pk=saved.pk)


def cartons_on_a_pallet(count: int, number: str = "ASN-1") -> dict:
    """A pallet holding `count` cartons of one piece each of PO-1 line 20."""
    return {
        "number": number,
        "lines": [{"line": 1, "purchase_order": "PO-1", "order_line": 20, "quantity": str(count)}],
        "packages": [{"reference": "P1", "kind": "pallet"}] + [
            {"reference": f"C{n}", "kind": "carton", "parent": "P1", "contents": [{"line": 1, "quantity": "1"}]}
            for n in range(1, count + 1)],
    }


@pytest.fixture
def shipment(orders, logistics):  # noqa: F811
    """ASN-1 submitted: pallet P1 holding carton C1 (250 of PO-1/10) and C2 (150 of PO-1/10, 100 of PO-2/10 lot L-7)."""
    submitted = services.shipment_submit(document=parse_shipment(asn()), actor=logistics)
    return Shipment.objects.select_related("supplier").get(pk=submitted.pk)


def packages_of(shipment: Shipment) -> dict[str, Package]:
    return {package.reference: package for package in shipment.packages.order_by("position")}


@pytest.mark.parametrize(("page", "page_count"), [("a6", 3), ("4x6", 3), ("a4", 1)])
def test_every_page_size_carries_one_scannable_gs1_128_sscc_per_package(shipment, page, page_count):
    pdf_pages = pages(package_labels_pdf(shipment, page=page))
    assert len(pdf_pages) == page_count
    decoded = [barcode for pdf_page in pdf_pages for barcode in barcodes(pdf_page)]
    expected = ["(00)" + package.sscc for package in packages_of(shipment).values()]
    assert sorted(barcode.text for barcode in decoded) == sorted(expected)
    assert {barcode.symbology_identifier for barcode in decoded} == {"]C1"}
    assert {barcode.content_type for barcode in decoded} == {zxingcpp.ContentType.GS1}


def test_single_labels_follow_the_package_positions(shipment):
    pdf_pages = pages(package_labels_pdf(shipment, page="4x6"))
    assert [[b.text for b in barcodes(p)] for p in pdf_pages] == [
        ["(00)" + package.sscc] for package in packages_of(shipment).values()]
    assert [p.get_size() for p in pdf_pages] == [(4 * 72, 6 * 72)] * 3


def test_an_a4_sheet_holds_four_labels_and_the_fifth_starts_a_new_sheet(orders, logistics):  # noqa: F811
    shipment = draft(logistics, **cartons_on_a_pallet(4))
    sheets = pages(package_labels_pdf(shipment, page="a4"))
    assert len(sheets) == 2
    assert [len(barcodes(sheet)) for sheet in sheets] == [4, 1]
    assert len(pages(package_labels_pdf(shipment, page="a6"))) == 5


def test_a_cartons_label_reads_its_sscc_sender_ship_to_and_what_it_holds(shipment):
    carton = packages_of(shipment)["C2"]
    pallet = packages_of(shipment)["P1"]
    label = text(pages(package_labels_pdf(shipment, packages=[carton]))[0])
    assert f"(00) {carton.sscc}" in label
    assert f"{carton.sscc[0]} 4012345 {carton.sscc[8:17]} {carton.sscc[17]}" in label  # grouped by the prefix
    for expected in ("Nordwerk Metallteile GmbH", "PLANT-1", "ASN-1 rev 1", "Carton C2", "3 of 3",
                     f"on pallet P1 (SSCC {pallet.sscc})", "PO-1 / 10 BRK-2201 150 PCE",
                     "PO-2 / 10 BRK-2201 100 PCE L-7", "DESPATCH DATE"):
        assert expected in label


def test_a_pallets_label_counts_its_cartons_and_totals_each_item_inside_them(shipment):
    pallet = packages_of(shipment)["P1"]
    label = text(pages(package_labels_pdf(shipment, packages=[pallet]))[0])
    assert "Holds 2 cartons" in label
    assert "BRK-2201 500 PCE L-7" in label  # 250 + 150 of PO-1, 100 of PO-2, all the same item
    assert "PO-1 / 10" not in label


def test_the_given_packages_are_labelled_in_the_given_order(shipment):
    chosen = [packages_of(shipment)["C2"], packages_of(shipment)["P1"]]
    pdf_pages = pages(package_labels_pdf(shipment, page="a6", packages=chosen))
    assert [[b.text for b in barcodes(p)] for p in pdf_pages] == [["(00)" + p.sscc] for p in chosen]


def test_a_shipment_without_packages_has_no_labels(orders, logistics):  # noqa: F811
    shipment = draft(logistics, packages=[])
    with pytest.raises(NothingToLabel, match="no packages"):
        package_labels_pdf(shipment)


@pytest.mark.parametrize("page", ["a6", "4x6"])
def test_long_texts_are_cut_to_stay_on_the_label_and_long_contents_end_with_a_count(
        orders, logistics, nordwerk, page):  # noqa: F811
    nordwerk.name = "Nordwerk " + "Metallteile und Präzisionsteile " * 5 + "GmbH"  # 173 of 200 characters
    nordwerk.save()
    lines = [{"line": n, "purchase_order": "PO-1", "order_line": 10, "quantity": "1", "lot": f"LOT-{n:02d}-" + "X" * 28}
             for n in range(1, 31)]
    shipment = draft(logistics, lines=lines, packages=[
        {"reference": "CARTON-WITH-A-VERY-LONG-REFERENCE-1", "kind": "carton",
         "contents": [{"line": n, "quantity": "1"} for n in range(1, 31)]}])
    shipment.ship_to = "WAREHOUSE-NORTH-GATE-7-DOCK-12-BAY3"  # as long as a ship-to may be

    label = pages(package_labels_pdf(shipment, page=page))[0]
    width, height = label.get_size()
    textpage = label.get_textpage()
    boxes = [textpage.get_charbox(index) for index in range(textpage.count_chars())]
    assert all(3 * mm <= left and right <= width - 3 * mm and 3 * mm <= bottom and top <= height - 3 * mm
               for left, bottom, right, top in boxes if right > left)
    printed = text(label)
    assert nordwerk.name not in printed and "Nordwerk Metallteile und" in printed
    assert shipment.ship_to in printed.replace("\r\n", "")  # wrapped, not cut: the dock sorts by it
    more = re.search(r"… and (\d+) more", printed)
    assert more is not None
    assert printed.count("PO-1 / 10") + int(more.group(1)) == 30


def test_the_packing_list_shows_the_package_tree_every_order_line_and_the_totals(orders, logistics):  # noqa: F811
    lines = [{"line": 1, "purchase_order": "PO-1", "order_line": 10, "quantity": "400"},
             {"line": 2, "purchase_order": "PO-2", "order_line": 10, "quantity": "100", "lot": "L-7",
              "serial_numbers": ["SN-1", "SN-2"]},
             {"line": 3, "purchase_order": "PO-1", "order_line": 20, "quantity": "5"}]
    shipment = draft(logistics, lines=lines, packages=asn()["packages"] + [{"reference": "E1", "kind": "crate"}])
    pdf_pages = pages(packing_list_pdf(shipment))
    assert len(pdf_pages) == 1
    printed = text(pdf_pages[0])
    for package in packages_of(shipment).values():
        assert package.sscc in printed
    for expected in (
        "Nordwerk Metallteile GmbH (NORDWERK)", "ASN-1, revision 0, draft", "PLANT-1", "DHL", "JD0001",
        "Pallet P1", "Holds 2 cartons", "PO-1 / 10 BRK-2201 Brake caliper bracket 250 PCE",
        "Carton C2 ", "PO-2 / 10 BRK-2201 Brake caliper bracket 100 PCE L-7\r\nS/N: SN-1, SN-2",
        "Crate E1", "Empty", "Not packed\r\nPO-1 / 20 BRK-2202 Brake caliper bracket 5 PCE",
        # totals: purchase order, line, item, description, shipped, packed, unit, packages
        "PO-1 10 BRK-2201 Brake caliper bracket 400 400 PCE 2",
        "PO-1 20 BRK-2202 Brake caliper bracket 5 0 PCE 0",
        "PO-2 10 BRK-2201 Brake caliper bracket 100 100 PCE 1",
        "Page 1 of 1",
    ):
        assert expected in printed
    # cartons are listed under their pallet, the crate after them
    order = [printed.index(package) for package in ("Pallet P1", "Carton C1", "Carton C2", "Crate E1")]
    assert order == sorted(order)


def test_an_unpacked_shipment_lists_its_lines_alone(orders, logistics):  # noqa: F811
    shipment = draft(logistics, packages=[])
    printed = text(pages(packing_list_pdf(shipment))[0])
    assert "Not packed\r\nPO-1 / 10 BRK-2201 Brake caliper bracket 400 PCE\r\nPO-2 / 10" in printed
    assert "Holds" not in printed and not re.search(r"\d{18}", printed)


def test_hundreds_of_serial_numbers_run_on_over_pages_instead_of_breaking_the_list(orders, logistics):  # noqa: F811
    serials = [f"SN-{n:06d}" for n in range(1, 401)]
    shipment = draft(logistics, lines=[{"line": 1, "purchase_order": "PO-1", "order_line": 10, "quantity": "400",
                                        "serial_numbers": serials}],
                     packages=[{"reference": "C1", "kind": "carton", "contents": [{"line": 1, "quantity": "400"}]}])
    pdf_pages = pages(packing_list_pdf(shipment))
    assert len(pdf_pages) >= 2
    printed = "".join(text(page) for page in pdf_pages)
    assert all(serial in printed for serial in serials)


PACKAGE_TABLE_HEADER = "Package SSCC PO / line Item Description Quantity UoM Lot"


def test_a_long_packing_list_repeats_the_table_header_and_numbers_its_pages(orders, logistics):  # noqa: F811
    shipment = draft(logistics, **cartons_on_a_pallet(80))
    pdf_pages = pages(packing_list_pdf(shipment))
    assert len(pdf_pages) == 2
    first, second = (text(page) for page in pdf_pages)
    assert PACKAGE_TABLE_HEADER in first and "Page 1 of 2" in first
    assert PACKAGE_TABLE_HEADER in second and "Page 2 of 2" in second
    last_carton = packages_of(shipment)["C80"]
    assert last_carton.sscc in second and last_carton.sscc not in first
    assert "PO-1 20 BRK-2202 Brake caliper bracket 80 80 PCE 80" in second


def test_labels_and_packing_list_take_as_many_queries_for_81_packages_as_for_3(orders, logistics):  # noqa: F811
    def queries(shipment: Shipment) -> int:
        shipment = Shipment.objects.get(pk=shipment.pk)  # supplier not loaded: counted too
        with CaptureQueriesContext(connection) as labels:
            package_labels_pdf(shipment, page="a4")
        with CaptureQueriesContext(connection) as packing_list:
            packing_list_pdf(shipment)
        return len(labels), len(packing_list)

    small = queries(draft(logistics))
    large = queries(draft(logistics, **cartons_on_a_pallet(80, number="ASN-2")))
    assert small == large
    assert max(small) <= 4
