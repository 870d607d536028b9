"""A supplier logs in, opens a PO, accepts it and sees the accepted status (htmx swap in Chromium)."""
import pytest

from collaboration.models import PurchaseOrder
from erp_bridge.models import OutboxMessage
from tests.factories import PASSWORD, create_purchase_order

pytestmark = pytest.mark.browser


def test_supplier_accepts_a_purchase_order(page, transactional_db, nordwerk, nordwerk_sales, alpenguss, tmp_path):
    create_purchase_order("PO-7001", supplier=nordwerk, line_count=3)
    create_purchase_order("PO-7002", supplier=nordwerk)
    create_purchase_order("PO-9001", supplier=alpenguss)

    page.goto("/")
    page.get_by_label("Username").fill(nordwerk_sales.username)
    page.get_by_label("Password").fill(PASSWORD)
    page.get_by_role("button", name="Log in").click()

    page.get_by_role("heading", name="Purchase orders").wait_for()
    assert page.get_by_role("link", name="PO-7001").is_visible()
    assert page.get_by_role("link", name="PO-9001").count() == 0  # another supplier's order

    page.get_by_role("link", name="PO-7001").click()
    page.get_by_role("heading", name="Purchase order PO-7001").wait_for()
    assert page.get_by_test_id("po-status").inner_text() == "Awaiting acknowledgement"
    page.screenshot(path=str(tmp_path / "before-accept.png"))

    page.get_by_role("button", name="Accept purchase order").click()
    page.get_by_text("Purchase order PO-7001 accepted.").wait_for()
    assert page.get_by_test_id("po-status").inner_text() == "Acknowledged"
    assert page.get_by_role("button", name="Accept purchase order").count() == 0
    page.screenshot(path=str(tmp_path / "after-accept.png"), full_page=True)

    assert PurchaseOrder.objects.get(number="PO-7001").status == "acknowledged"
    assert OutboxMessage.objects.get().aggregate == "PO-7001"
