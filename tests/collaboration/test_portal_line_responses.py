"""Inline line responses in the portal: edit with htmx or on a page of its own, draft, discard, submit."""
from datetime import timedelta

import pytest
from django.urls import reverse
from django.utils import timezone

from collaboration.models import AcknowledgementLine, ExceptionCase, PurchaseOrderLine
from tests.factories import create_purchase_order

LATER = timezone.localdate() + timedelta(days=60)


@pytest.fixture
def page(client, nordwerk, nordwerk_sales):
    create_purchase_order("PO-7001", supplier=nordwerk, line_count=2)
    client.force_login(nordwerk_sales)
    return client


def respond_url(line=10):
    return reverse("collaboration:line-respond", args=["PO-7001", line])


def test_edit_form_inline_with_htmx_and_as_page_without(page):
    inline = page.get(respond_url(), HTTP_HX_REQUEST="true").content.decode()
    assert inline.lstrip().startswith('<tr id="line-10"') and "Save to draft" in inline
    full = page.get(respond_url()).content.decode()
    assert "<html" in full and "Respond to PO-7001 line 10" in full


def test_saving_a_change_stores_a_draft_and_returns_the_row_with_differences(page):
    response = page.post(respond_url(), {"revision": 1, "action": "change", "split_quantity_1": "150",
                                         "split_date_1": LATER.isoformat(), "split_quantity_2": "250",
                                         "split_date_2": (LATER + timedelta(days=7)).isoformat()}, HTTP_HX_REQUEST="true")
    row = response.content.decode()
    assert 'id="line-10"' in row and "draft" in row
    assert f"150 on {LATER.isoformat()}" in row and 'class="diff"' in row
    draft = AcknowledgementLine.objects.get()
    assert draft.decision == "draft" and [e.quantity for e in draft.schedule.all()] == [150, 250]
    assert PurchaseOrderLine.objects.get(line_number=10).response_status == "open"
    # The answer panel is told to fetch itself again: it now offers to submit the drafted line.
    assert response["HX-Trigger"] == "draft-changed"
    panel = page.get(reverse("collaboration:purchase-order-detail", args=["PO-7001"]) + "?panel=1",
                     HTTP_HX_REQUEST="true").content.decode()
    assert panel.lstrip().startswith('<section id="acknowledgement"')
    assert "Submit 1 drafted line and accept all other lines" in panel and "Submit 1 drafted line only" in panel


def test_discarding_with_htmx_refreshes_the_answer_panel(page):
    page.post(respond_url(), {"revision": 1, "action": "accept"}, HTTP_HX_REQUEST="true")
    response = page.post(reverse("collaboration:line-discard", args=["PO-7001", 10]), HTTP_HX_REQUEST="true")
    assert response["HX-Trigger"] == "draft-changed"
    panel = page.get(reverse("collaboration:purchase-order-detail", args=["PO-7001"]) + "?panel=1",
                     HTTP_HX_REQUEST="true").content.decode()
    assert "Accept all remaining lines" in panel and "drafted line" not in panel


def test_accepting_the_rest_with_a_draft_says_both_happened(page):
    page.post(respond_url(20), {"revision": 1, "action": "change", "promised_date": LATER.isoformat()})
    response = page.post(reverse("collaboration:acknowledgement-submit", args=["PO-7001"]),
                         {"revision": 1, "accept_remaining": "1", "drafted": "1"}, follow=True)
    assert "Your 1 drafted line(s) were submitted and all other lines accepted." in response.content.decode()
    assert PurchaseOrderLine.objects.get(line_number=10).response_status == "confirmed"


def test_invalid_response_shows_errors_against_the_field_and_saves_nothing(page):
    response = page.post(respond_url(), {"revision": 1, "action": "change", "split_quantity_1": "100",
                                         "split_date_1": LATER.isoformat(), "split_quantity_2": "100",
                                         "split_date_2": LATER.isoformat()}, HTTP_HX_REQUEST="true")
    content = response.content.decode()
    assert "adds up to 200, not the ordered 400" in content and 'role="alert"' in content
    assert not AcknowledgementLine.objects.exists()
    past = page.post(respond_url(), {"revision": 1, "action": "change", "promised_date": "2020-01-01"})
    assert "is in the past" in past.content.decode()
    reject = page.post(respond_url(), {"revision": 1, "action": "reject", "reason_code": "other"})
    assert "Explain the reason" in reject.content.decode()
    assert not AcknowledgementLine.objects.exists()


def test_discard_removes_the_draft(page):
    page.post(respond_url(), {"revision": 1, "action": "reject", "reason_code": "capacity"})
    page.post(reverse("collaboration:line-discard", args=["PO-7001", 10]))
    assert not AcknowledgementLine.objects.exists()


def test_submit_drafted_lines_only_leaves_the_rest_open(page):
    page.post(respond_url(20), {"revision": 1, "action": "change", "promised_date": LATER.isoformat()})
    response = page.post(reverse("collaboration:acknowledgement-submit", args=["PO-7001"]), {"revision": 1}, follow=True)
    assert "Your responses were submitted." in response.content.decode()
    assert PurchaseOrderLine.objects.get(line_number=10).response_status == "open"
    assert PurchaseOrderLine.objects.get(line_number=20).response_status == "proposed"
    assert ExceptionCase.objects.count() == 1


def test_a_proposal_keeps_its_reason_and_explanation_for_the_buyer(page, django_user_model):
    row = page.post(respond_url(20), {"revision": 1, "action": "change", "promised_date": LATER.isoformat(),
                                      "reason_code": "capacity", "reason_text": "Furnace relining in week 3"},
                    HTTP_HX_REQUEST="true").content.decode()
    assert "Furnace relining in week 3" in row  # the supplier sees what the buyer will read
    draft = AcknowledgementLine.objects.get()
    assert (draft.reason.code, draft.reason_text) == ("capacity", "Furnace relining in week 3")
    page.post(reverse("collaboration:acknowledgement-submit", args=["PO-7001"]), {"revision": 1})
    case = ExceptionCase.objects.get()
    assert case.details["proposed"]["reason"] == "capacity"
    assert case.details["proposed"]["reason_text"] == "Furnace relining in week 3"
    page.force_login(django_user_model.objects.create_superuser("buyer@plant.example", "buyer@plant.example", "x-pass-123"))
    shown = page.get(reverse("admin:collaboration_exceptioncase_change", args=[case.pk])).content.decode()
    assert "capacity Furnace relining in week 3" in shown  # on the case page, in the proposal's column
    # An unknown reason with a proposal is refused like one with a rejection: nothing stored.
    invalid = page.post(respond_url(10), {"revision": 1, "action": "change", "promised_date": LATER.isoformat(),
                                          "reason_code": "no-such-reason"})
    assert invalid.status_code == 200 and AcknowledgementLine.objects.filter(order_line__line_number=10).count() == 0


def test_other_suppliers_line_is_404(client, alpenguss, alpenguss_sales, nordwerk):
    create_purchase_order("PO-7001", supplier=nordwerk)
    client.force_login(alpenguss_sales)
    assert client.get(respond_url()).status_code == 404
    assert client.post(respond_url(), {"revision": 1, "action": "accept"}).status_code == 404
    assert client.get(reverse("collaboration:line-row", args=["PO-7001", 10])).status_code == 404
    assert not AcknowledgementLine.objects.exists()
