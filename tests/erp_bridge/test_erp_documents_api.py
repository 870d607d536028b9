"""Receipts and invoice statuses pushed by the ERP: stored once, replays are no-ops, bad input changes nothing."""
import json

import pytest

from collaboration.models import AuditEvent, InvoiceStatus, Receipt, ReceiptLine
from tests.factories import create_purchase_order


def put(client, url, data, **headers):
    return client.put(url, data=json.dumps(data), content_type="application/json", **headers)


def receipt(**overrides):
    document = {"purchase_order": "PO-7001", "received_on": "2026-12-01",
                "lines": [{"line": 10, "quantity": "150", "lot": "L-77"}, {"line": 20, "quantity": "400.000"}]}
    return {**document, **overrides}


@pytest.fixture
def order(nordwerk):
    return create_purchase_order("PO-7001", supplier=nordwerk, line_count=2)


def test_receipt_is_recorded_once_and_a_repeat_is_a_no_op(erp_client, order):
    first = put(erp_client, "/api/v1/erp/receipts/GR-5001", receipt())
    assert first.status_code == 201, first.content
    assert first.json() == {"reference": "GR-5001", "purchase_order": "PO-7001", "outcome": "created"}
    # The same document again, spelled differently ("400" vs "400.000"): nothing new.
    again = put(erp_client, "/api/v1/erp/receipts/GR-5001", receipt(lines=[{"line": 10, "quantity": "150.0", "lot": "L-77"},
                                                                          {"line": 20, "quantity": "400"}]))
    assert again.status_code == 200 and again.json()["outcome"] == "unchanged"
    assert Receipt.objects.count() == 1
    quantities = dict(ReceiptLine.objects.values_list("order_line__line_number", "quantity"))
    assert quantities == {10: 150, 20: 400}
    assert AuditEvent.objects.filter(action="receipt.recorded", purchase_order="PO-7001").count() == 1


def test_receipt_replayed_with_the_same_idempotency_key_answers_the_first_response(erp_client, order):
    first = put(erp_client, "/api/v1/erp/receipts/GR-5001", receipt(), HTTP_IDEMPOTENCY_KEY="k-1")
    replay = put(erp_client, "/api/v1/erp/receipts/GR-5001", receipt(), HTTP_IDEMPOTENCY_KEY="k-1")
    assert first.status_code == replay.status_code == 201
    assert replay["Idempotent-Replayed"] == "true"
    assert Receipt.objects.count() == 1


@pytest.mark.parametrize(
    ("document", "status", "code"),
    [
        (receipt(purchase_order="PO-404"), 422, "unknown_purchase_order"),
        (receipt(lines=[{"line": 30, "quantity": "1"}]), 400, "invalid_document"),
        (receipt(lines=[{"line": 10, "quantity": "0"}]), 400, "invalid_document"),
        (receipt(lines=[{"line": 10, "quantity": "5", "sscc": "12345"}]), 400, "invalid_document"),
        (receipt(received_on="2026-13-01"), 400, "invalid_document"),
        (receipt(lines=[]), 400, "invalid_document"),
        (receipt(reference="GR-OTHER"), 400, "invalid_document"),
    ],
)
def test_bad_receipts_are_refused_and_store_nothing(erp_client, order, document, status, code):
    response = put(erp_client, "/api/v1/erp/receipts/GR-5001", document)
    assert response.status_code == status, response.content
    assert response.json()["code"] == code
    assert not Receipt.objects.exists() and not ReceiptLine.objects.exists()


def test_a_recorded_receipt_with_other_content_is_409_and_keeps_the_first(erp_client, order):
    put(erp_client, "/api/v1/erp/receipts/GR-5001", receipt())
    response = put(erp_client, "/api/v1/erp/receipts/GR-5001", receipt(lines=[{"line": 10, "quantity": "1"}]))
    assert response.status_code == 409 and response.json()["code"] == "document_content_conflict"
    assert ReceiptLine.objects.count() == 2


def status_url(supplier="NORDWERK", number="INV-1"):
    return f"/api/v1/erp/suppliers/{supplier}/invoices/{number}/status"


def test_invoice_status_versions_move_forward_only(erp_client, order):
    assert put(erp_client, status_url(), {"version": 1, "status": "received", "purchase_order": "PO-7001"}).status_code == 201
    blocked = {"version": 2, "status": "blocked", "reason": "Price above order", "purchase_order": "PO-7001"}
    assert put(erp_client, status_url(), blocked).json()["outcome"] == "updated"
    assert put(erp_client, status_url(), blocked).json()["outcome"] == "unchanged"
    stale = put(erp_client, status_url(), {"version": 1, "status": "received"})
    assert stale.status_code == 409 and stale.json()["code"] == "stale_revision"
    clash = put(erp_client, status_url(), {**blocked, "reason": "Other"})
    assert clash.status_code == 409 and clash.json()["code"] == "document_content_conflict"
    paid = {"version": 3, "status": "paid", "paid_on": "2027-01-15", "payment_reference": "PAY-9", "purchase_order": "PO-7001"}
    assert put(erp_client, status_url(), paid).status_code == 200
    status = InvoiceStatus.objects.get()
    assert (status.status, status.version, status.payment_reference, status.reason) == ("paid", 3, "PAY-9", "")
    assert status.purchase_order == order
    assert AuditEvent.objects.filter(action="invoice.status").count() == 3


@pytest.mark.parametrize(
    ("url", "document", "status", "code"),
    [
        (status_url(supplier="NOBODY"), {"version": 1, "status": "received"}, 422, "unknown_supplier"),
        (status_url(), {"version": 1, "status": "received", "purchase_order": "PO-404"}, 422, "unknown_purchase_order"),
        (status_url(supplier="ALPENGUSS"), {"version": 1, "status": "received", "purchase_order": "PO-7001"}, 422,
         "supplier_mismatch"),
        (status_url(), {"version": 1, "status": "blocked"}, 400, "invalid_document"),
        (status_url(), {"version": 1, "status": "paid", "paid_on": "2027-01-15"}, 400, "invalid_document"),
        (status_url(), {"version": 0, "status": "received"}, 400, "invalid_document"),
        (status_url(), {"version": 1, "status": "lost"}, 400, "invalid_document"),
        (status_url(), {"version": 1, "status": "received", "invoice_number": "INV-2"}, 400, "invalid_document"),
        (status_url(), ["not", "an", "object"], 400, "invalid_document"),
    ],
)
def test_bad_invoice_statuses_are_refused(erp_client, order, alpenguss, url, document, status, code):
    response = put(erp_client, url, document)
    assert response.status_code == status, response.content
    assert response.json()["code"] == code
    assert not InvoiceStatus.objects.exists()


def test_anonymous_callers_and_supplier_sessions_cannot_push(client, order, nordwerk_sales):
    assert put(client, "/api/v1/erp/receipts/GR-5001", receipt()).status_code == 401
    client.force_login(nordwerk_sales)
    assert put(client, "/api/v1/erp/receipts/GR-5001", receipt()).status_code in (401, 403)
    assert put(client, status_url(), {"version": 1, "status": "received"}).status_code in (401, 403)
    assert not Receipt.objects.exists() and not InvoiceStatus.objects.exists()


def test_field_errors_speak_of_the_field_not_of_patterns(erp_client, order):
    response = put(erp_client, "/api/v1/erp/receipts/GR-5001",
                   receipt(received_on="01.12.2026", lines=[{"line": 10, "quantity": "5", "sscc": "1234"}]))
    errors = response.json()["errors"]
    assert errors["received_on"] == ["Use a valid date as YYYY-MM-DD."]
    assert errors["lines"]["0"]["sscc"] == ["An SSCC has 18 digits."]
    assert put(erp_client, "/api/v1/erp/receipts/GR-5001", receipt(lines=[])).json()["errors"]["lines"] == [
        "Give at least one line."]
