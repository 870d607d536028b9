"""In Chromium: a buyer opens the control tower from the admin, filters by supplier, drills into the
overdue acknowledgements, opens an order's timeline; the figures refresh themselves with htmx."""
from datetime import timedelta

import pytest
from django.utils import timezone
from playwright.sync_api import expect

from collaboration.models import PurchaseOrder
from tests.browser.test_accept_purchase_order import log_in
from tests.factories import UserFactory, create_purchase_order

pytestmark = pytest.mark.browser


def test_buyer_drills_from_the_control_tower_into_an_overdue_order_and_its_timeline(
        page, transactional_db, nordwerk, alpenguss, nordwerk_sales, tmp_path, settings):
    settings.CONTROL_TOWER_REFRESH_SECONDS = 2
    today = timezone.localdate()
    for number, supplier, due in (("PO-LATE-1", nordwerk, -4), ("PO-LATE-2", nordwerk, -1), ("PO-LATE-3", alpenguss, -2),
                                  ("PO-FINE", nordwerk, 5)):
        create_purchase_order(number, supplier=supplier, buyer="P-10")
        PurchaseOrder.objects.filter(number=number).update(acknowledgement_due=today + timedelta(days=due))
    UserFactory(username="buyer@plant.example", is_staff=True, is_superuser=True)

    log_in(page, "buyer@plant.example")
    page.goto("/admin/")
    page.get_by_role("link", name="Control tower").click()
    page.get_by_role("heading", name="Control tower").wait_for()
    assert page.locator("#overdue-acknowledgements").inner_text() == "3"
    page.screenshot(path=str(tmp_path / "control-tower.png"), full_page=True)

    page.get_by_label("Supplier").select_option("NORDWERK")
    page.get_by_role("button", name="Show").click()
    assert page.locator("#overdue-acknowledgements").inner_text() == "2"

    # A new overdue order appears without reloading the page.
    create_purchase_order("PO-LATE-4", supplier=nordwerk)
    PurchaseOrder.objects.filter(number="PO-LATE-4").update(acknowledgement_due=today - timedelta(days=1))
    # (Playwright's expect, not a wait_for_function string: the portal's policy forbids evaluating strings.)
    expect(page.locator("#overdue-acknowledgements")).to_have_text("3", timeout=15000)

    page.locator("#overdue-acknowledgements").click()
    page.get_by_role("heading", name="Overdue acknowledgements").wait_for()
    rows = page.locator("#drilldown tbody tr")
    assert [rows.nth(i).locator("td").first.inner_text() for i in range(rows.count())] == ["PO-LATE-1", "PO-LATE-2", "PO-LATE-4"]
    page.screenshot(path=str(tmp_path / "overdue.png"), full_page=True)

    page.locator("#drilldown a[title='Timeline of PO-LATE-1']").click()
    page.get_by_role("heading", name="Timeline of PO-LATE-1").wait_for()
    first = page.locator("#timeline li").first
    assert "Order received from the ERP" in first.inner_text() and "via ERP" in first.inner_text()
    page.screenshot(path=str(tmp_path / "timeline.png"), full_page=True)
