"""The invoice API for supplier systems: preview (stores nothing), submit with the 'invoice' scope,
read with the ERP's status; problems with codes."""
from __future__ import annotations

import pytest

from collaboration import services
from collaboration.actors import Actor
from collaboration.documents import parse_invoice_status, parse_receipt
from collaboration.models import Invoice
from erp_bridge.models import OutboxMessage
from tests.factories import create_purchase_order

ERP = Actor.system("erp", channel="erp")


def body(**overrides) -> dict:
    return {"invoice_date": "2027-01-10", "currency": "EUR", "tax_rate": "19",
            "lines": [{"purchase_order": "PO-7001", "line": 10, "quantity": "300", "unit_price": "3.85"}], **overrides}


@pytest.fixture
def received(nordwerk):
    create_purchase_order("PO-7001", supplier=nordwerk)
    services.receipt_record(actor=ERP, document=parse_receipt({
        "reference": "GR-1", "purchase_order": "PO-7001", "received_on": "2027-01-05", "lines": [{"line": 10, "quantity": "300"}]}))


def test_preview_then_submit_then_read_with_the_erps_status(received, api_client_for, nordwerk):
    client = api_client_for(nordwerk, scopes=["invoice"])
    preview = client.post("/api/v1/invoice-previews", {**body(number="INV-1"), "lines": [
        {"purchase_order": "PO-7001", "line": 10, "quantity": "310", "unit_price": "3.85"}]}, format="json")
    assert preview.status_code == 200, preview.content
    data = preview.json()
    assert data["net_amount"] == "1193.50" and data["lines"][0]["needs_reason"] is True
    assert data["lines"][0]["differences"][0]["field"] == "quantity" and "reason" in data["errors"]["lines"]["0"]
    assert not Invoice.objects.exists()
    submitted = client.put("/api/v1/invoices/INV-1", body(), format="json")
    assert submitted.status_code == 201, submitted.content
    assert submitted.json()["gross_amount"] == "1374.45" and submitted.json()["status"] is None
    assert OutboxMessage.objects.filter(type="invoice.submitted").count() == 1
    services.invoice_status_record(actor=ERP, document=parse_invoice_status({
        "supplier": "NORDWERK", "invoice_number": "INV-1", "version": 1, "status": "approved", "purchase_order": "PO-7001"}))
    read = client.get("/api/v1/invoices/INV-1").json()
    assert read["status"]["status"] == "approved" and read["purchase_orders"] == ["PO-7001"]
    assert [row["number"] for row in client.get("/api/v1/invoices").json()["results"]] == ["INV-1"]


def test_refusals_are_problems_with_codes(received, api_client_for, nordwerk, alpenguss):
    create_purchase_order("PO-AL1", supplier=alpenguss)
    client = api_client_for(nordwerk, scopes=["read", "invoice"])
    assert client.put("/api/v1/invoices/INV-1", body(), format="json").status_code == 201
    duplicate = client.put("/api/v1/invoices/INV-1", body(), format="json")
    assert duplicate.status_code == 409 and duplicate.json()["code"] == "duplicate_invoice"
    theirs = client.put("/api/v1/invoices/INV-2", body(lines=[{"purchase_order": "PO-AL1", "line": 10, "quantity": "1",
                                                               "unit_price": "3.85"}]), format="json")
    assert theirs.status_code == 400 and "not one of your purchase orders" in str(theirs.json()["errors"])
    currency = client.put("/api/v1/invoices/INV-3", body(currency="USD"), format="json")
    assert currency.status_code == 400 and "in EUR, not USD" in str(currency.json()["errors"])
    read_only = api_client_for(nordwerk, scopes=["read"]).put("/api/v1/invoices/INV-4", body(), format="json")
    assert read_only.status_code == 403
    assert list(Invoice.objects.values_list("number", flat=True)) == ["INV-1"]
