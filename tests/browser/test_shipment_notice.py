"""In Chromium: a supplier builds an ASN of two pallets of cartons, prints the labels, submits it;
the ERP's receipt arrives and the supplier sees the shipment matched."""
import os
from datetime import date

import pypdfium2
import pytest
import zxingcpp

from collaboration import services
from collaboration.actors import Actor
from collaboration.documents import parse_receipt
from collaboration.models import PurchaseOrderLine, Shipment
from erp_bridge.models import OutboxMessage
from tests.browser.test_accept_purchase_order import log_in
from tests.factories import create_purchase_order

pytestmark = pytest.mark.browser


def quick_pack(page, expect: str, count: str, kind: str, pallet: str = "", quantity: str = "", line: str = "") -> None:
    """Add packages with the quick packer and wait for the saved draft showing package `expect`."""
    page.get_by_label("Add", exact=True).fill(count)
    page.get_by_label("Package type", exact=True).select_option(kind)
    if pallet:
        page.get_by_label("on pallet", exact=True).select_option(pallet)
    if quantity:
        page.get_by_label("each holding", exact=True).fill(quantity)
        page.get_by_label("of line", exact=True).select_option(line)
    page.get_by_role("button", name="Add packages").click()
    page.locator(f'input[name$="-reference"][value="{expect}"]').wait_for()


def test_supplier_ships_two_pallets_of_cartons_and_sees_the_receipt_matched(
    page, transactional_db, nordwerk, nordwerk_sales, settings, tmp_path
):
    settings.GS1_COMPANY_PREFIX = "4012345"
    create_purchase_order("PO-7001", supplier=nordwerk, line_count=2)
    services.acknowledgement_accept_remaining(number="PO-7001", actor=Actor.for_user(nordwerk_sales, channel="portal"))
    shots = os.environ.get("SCREENSHOT_DIR") or str(tmp_path)

    log_in(page, nordwerk_sales.username)
    page.get_by_role("link", name="Shipments").click()
    page.get_by_role("link", name="New shipment from open lines").click()
    page.get_by_label("Shipment number").fill("DN-4711")
    page.get_by_label("Carrier").fill("DB Schenker")
    for line in PurchaseOrderLine.objects.filter(purchase_order__number="PO-7001"):
        page.locator(f"#pick-{line.pk}").check()
    page.get_by_role("button", name="Save draft and pack").click()
    page.get_by_role("heading", name="Pack shipment DN-4711").wait_for()

    quick_pack(page, "P2", "2", "pallet")
    quick_pack(page, "C2", "2", "carton", pallet="P1", quantity="200", line="1")
    quick_pack(page, "C4", "2", "carton", pallet="P2", quantity="200", line="2")
    assert page.locator("#package-5-reference").input_value() == "C4"
    page.screenshot(path=f"{shots}/asn-builder.png", full_page=True)

    page.get_by_role("button", name="Submit ASN").click()
    page.get_by_text("Shipment DN-4711 submitted").wait_for()
    assert page.get_by_test_id("shipment-status").inner_text() == "Submitted"
    assert page.get_by_test_id("receipt-status").inner_text() == "Not received"
    shipment = Shipment.objects.get(number="DN-4711")
    assert OutboxMessage.objects.filter(type="shipment.submitted", aggregate="PO-7001").count() == 1

    # Print: the A6 labels as the browser downloads them, one page and one SSCC barcode per package.
    labels = page.request.get(page.get_by_role("link", name="A6 (105 × 148 mm)").get_attribute("href"))
    assert labels.headers["content-type"] == "application/pdf"
    pdf = pypdfium2.PdfDocument(labels.body())
    decoded = {result.text for index in range(len(pdf))
               for result in zxingcpp.read_barcodes(pdf[index].render(scale=3).to_pil())}
    assert len(pdf) == 6
    assert decoded == {f"(00){package.sscc}" for package in shipment.packages.all()}

    services.receipt_record(actor=Actor.system("erp", channel="erp"), document=parse_receipt({
        "reference": "GR-1", "purchase_order": "PO-7001", "received_on": date.today().isoformat(),
        "lines": [{"line": 10, "quantity": "400", "sscc": shipment.packages.get(reference="P1").sscc},
                  {"line": 20, "quantity": "400", "sscc": shipment.packages.get(reference="P2").sscc}]}))
    page.reload()
    assert page.get_by_test_id("receipt-status").inner_text() == "Received as announced"
    assert page.get_by_test_id("shipment-line-1").get_by_text("matched").is_visible()
    assert page.get_by_role("button", name="Cancel shipment").count() == 0
    page.screenshot(path=f"{shots}/asn-received.png", full_page=True)
