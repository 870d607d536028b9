"""In Chromium: a supplier accepts a PO; a supplier proposes a later date and a split, a buyer approves
in the admin, and the supplier sees the approval."""
from datetime import timedelta

import pytest
from django.utils import timezone

from collaboration.models import ExceptionCase, PurchaseOrder
from erp_bridge.models import OutboxMessage
from tests.factories import PASSWORD, create_purchase_order

pytestmark = pytest.mark.browser


def log_in(page, username: str, password: str = PASSWORD) -> None:
    page.goto("/accounts/login/")
    page.get_by_label("Username").fill(username)
    page.get_by_label("Password").fill(password)
    page.get_by_role("button", name="Log in").click()


def test_supplier_accepts_a_purchase_order(page, transactional_db, nordwerk, nordwerk_sales, alpenguss, tmp_path):
    create_purchase_order("PO-7001", supplier=nordwerk, line_count=3)
    create_purchase_order("PO-9001", supplier=alpenguss)

    log_in(page, nordwerk_sales.username)
    page.get_by_role("heading", name="Purchase orders").wait_for()
    assert page.get_by_role("link", name="PO-9001").count() == 0  # another supplier's order

    page.get_by_role("link", name="PO-7001").click()
    assert page.get_by_test_id("po-status").inner_text() == "Awaiting acknowledgement"
    page.get_by_role("button", name="Accept all remaining lines").click()
    page.get_by_text("All remaining lines accepted.").wait_for()
    assert page.get_by_test_id("po-status").inner_text() == "Acknowledged"
    page.screenshot(path=str(tmp_path / "accepted.png"), full_page=True)
    assert PurchaseOrder.objects.get(number="PO-7001").status == "acknowledged"
    assert OutboxMessage.objects.get(destination="erp").aggregate == "PO-7001"


def test_split_with_later_date_is_approved_by_the_buyer(
    page, transactional_db, nordwerk, nordwerk_sales, django_user_model, tmp_path
):
    create_purchase_order("PO-7002", supplier=nordwerk, line_count=2)
    django_user_model.objects.create_superuser("buyer@plant.example", "buyer@plant.example", "buyer-pass-2026")
    first, second = timezone.localdate() + timedelta(days=50), timezone.localdate() + timedelta(days=64)

    log_in(page, nordwerk_sales.username)
    page.goto("/purchase-orders/PO-7002/")
    page.get_by_role("link", name="Respond to line 10").click()  # htmx swaps the row for the form
    form = page.get_by_role("form", name="Response to line 10")
    form.get_by_label("Propose a change").check()
    form.get_by_label("Split 1 quantity").fill("150")
    form.get_by_label("Split 1 date").fill(first.isoformat())
    form.get_by_label("Split 2 quantity").fill("250")
    form.get_by_label("Split 2 date").fill(second.isoformat())
    form.get_by_role("button", name="Save to draft").click()
    page.locator("#line-10").get_by_text(f"250 on {second.isoformat()}").wait_for()
    # The answer panel was swapped along with the row: it now speaks of the drafted line.
    page.get_by_role("button", name="Submit 1 drafted line and accept all other lines").click()
    page.get_by_text("Your 1 drafted line(s) were submitted and all other lines accepted.").wait_for()
    assert page.get_by_test_id("po-status").inner_text() == "Proposal with the buyer"
    page.screenshot(path=str(tmp_path / "proposed.png"), full_page=True)

    page.get_by_role("button", name="Log out").click()
    log_in(page, "buyer@plant.example", "buyer-pass-2026")
    case = ExceptionCase.objects.get()
    page.goto(f"/admin/collaboration/exceptioncase/{case.pk}/change/")
    page.get_by_label("Comment to the supplier").fill("Split is fine for us.")
    page.get_by_role("button", name="Approve proposal").click()
    page.get_by_text(f"Case #{case.pk} approved.").wait_for()
    page.screenshot(path=str(tmp_path / "buyer-approved.png"), full_page=True)

    page.goto("/accounts/login/")  # the buyer's session ends; the supplier looks again
    page.context.clear_cookies()
    log_in(page, nordwerk_sales.username)
    page.goto("/purchase-orders/PO-7002/")
    decision = page.get_by_test_id("decision-10").inner_text()
    assert "Approved by the buyer" in decision and "Split is fine for us." in decision
    assert page.get_by_test_id("po-status").inner_text() == "Acknowledged"
    assert "committed later than requested" in page.get_by_test_id("late-alert").inner_text()
    page.screenshot(path=str(tmp_path / "supplier-sees-approval.png"), full_page=True)
    assert list(OutboxMessage.objects.order_by("occurred_at").values_list("type", "destination")) == [
        ("acknowledgement.decided", "erp"),  # line 20, accepted at once
        ("commitment.decided", "planning"),
        ("acknowledgement.decided", "erp"),  # line 10, approved by the buyer
        ("commitment.decided", "planning"),
        ("commitment.slipped", "planning"),
    ]
