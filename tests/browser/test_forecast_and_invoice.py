"""In Chromium: a supplier commits less than the firm forecast (with its reason) and invoices a
shipment after previewing the match; the buyer then sees the shortfall and the invoice."""
import os
from datetime import timedelta

import pytest
from django.utils import timezone

from collaboration import services
from collaboration.actors import Actor
from collaboration.documents import parse_receipt, parse_shipment
from collaboration.models import ExceptionCase, Invoice
from erp_bridge.models import OutboxMessage
from tests.browser.test_accept_purchase_order import log_in
from tests.factories import create_forecast, create_purchase_order

pytestmark = pytest.mark.browser


def test_supplier_commits_below_the_forecast_and_invoices_a_shipment_and_the_buyer_sees_both(
    page, transactional_db, nordwerk, nordwerk_sales, admin_user, settings, tmp_path
):
    settings.GS1_COMPANY_PREFIX = "4012345"
    shots = os.environ.get("SCREENSHOT_DIR") or str(tmp_path)
    today = timezone.localdate()
    monday = today - timedelta(days=today.weekday())
    create_forecast(start=monday, quantities=("400", "400", "300", "300", "300", "300"))
    create_forecast(version=2, start=monday, quantities=("450", "400", "350", "300", "250", "300"))
    create_purchase_order("PO-7001", supplier=nordwerk)
    sales = Actor.for_user(nordwerk_sales, channel="portal")
    services.acknowledgement_accept_remaining(number="PO-7001", actor=sales)
    services.shipment_submit(actor=sales, document=parse_shipment({
        "number": "DN-1001", "ship_to": "PLANT-1", "despatch_date": today.isoformat(), "expected_arrival": today.isoformat(),
        "lines": [{"line": 1, "purchase_order": "PO-7001", "order_line": 10, "quantity": "400"}],
        "packages": [{"reference": "P1", "kind": "pallet", "contents": [{"line": 1, "quantity": "400"}]}]}))
    services.receipt_record(actor=Actor.system("erp", channel="erp"), document=parse_receipt({
        "reference": "GR-1", "purchase_order": "PO-7001", "received_on": today.isoformat(), "lines": [{"line": 10, "quantity": "400"}]}))

    # The forecast: week 1 committed short, with a reason.
    log_in(page, nordwerk_sales.username)
    page.get_by_role("link", name="Forecasts").click()
    page.get_by_test_id("forecast-BRK-2201").get_by_role("link", name="BRK-2201").click()
    page.get_by_role("heading", name="Forecast BRK-2201 for PLANT-1").wait_for()
    assert page.locator("svg[role=img]").count() == 1
    week1 = monday.isoformat()
    page.get_by_label(f"Commitment for the period from {week1}").fill("380")
    page.get_by_role("button", name="Commit", exact=True).click()
    page.get_by_text("Say why you commit less than the forecast").wait_for()  # refused, nothing stored
    page.get_by_label(f"Reason for the period from {week1}").fill("Furnace maintenance")
    page.get_by_role("button", name="Commit", exact=True).click()
    page.get_by_text("Your commitment is stored").wait_for()
    page.screenshot(path=f"{shots}/forecast.png", full_page=True)
    assert OutboxMessage.objects.filter(type="forecast.commitment", destination="planning").count() == 1

    # The invoice: from the shipment, the match previewed, then submitted.
    page.get_by_role("link", name="Shipments").click()
    page.get_by_role("link", name="DN-1001").click()
    page.get_by_role("link", name="Invoice this shipment").click()
    page.get_by_label("Invoice number").fill("RE-2027-0042")
    page.get_by_label("VAT rate").fill("19")
    # Each line's inputs are named by their column and the order line, for screen readers.
    assert page.get_by_role("textbox", name="Quantity PO-7001 / 10", exact=True).input_value() == "400"
    assert page.get_by_role("checkbox", name="Invoice PO-7001 / 10", exact=True).is_checked()
    page.get_by_role("button", name="Preview the match").click()
    preview = page.get_by_test_id("invoice-preview")
    preview.wait_for()
    assert "€1,540.00" in preview.inner_text() and "Every line matches" in preview.inner_text()
    page.screenshot(path=f"{shots}/invoice-preview.png", full_page=True)
    page.get_by_role("button", name="Submit invoice").click()
    page.get_by_text("Invoice RE-2027-0042 is submitted").wait_for()
    assert page.get_by_test_id("invoice-status").inner_text() == "Submitted"
    assert Invoice.objects.get().shipment.number == "DN-1001"

    # The buyer: the shortfall among the control tower's exceptions, the invoice in the invoices.
    page.get_by_role("button", name="Log out").click()
    log_in(page, admin_user.username, "password")
    page.goto("/control-tower/")
    page.get_by_text("Commitment below the firm forecast").wait_for()
    page.goto("/forecasts/")
    assert "70 PCE short in the firm zone" in page.get_by_test_id("forecast-BRK-2201").inner_text()
    page.get_by_role("link", name="Invoices").click()
    assert "RE-2027-0042" in page.get_by_test_id("invoice-RE-2027-0042").inner_text()
    assert ExceptionCase.objects.filter(kind="forecast_shortfall", status="open").count() == 1
    page.screenshot(path=f"{shots}/buyer-invoices.png", full_page=True)
