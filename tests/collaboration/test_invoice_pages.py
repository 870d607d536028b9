"""The invoice pages: a new invoice from an order starts from what was received and not invoiced,
the preview marks differences, a difference without a reason is refused on its row, the ERP's
status shows per invoice and on the order page; buyers see every supplier's invoices."""
from __future__ import annotations

import json

import pytest
from django.urls import reverse

from collaboration import services
from collaboration.actors import Actor
from collaboration.documents import parse_receipt
from collaboration.models import Invoice
from portal.models import AccountSettings
from tests.factories import create_purchase_order

ERP = Actor.system("erp", channel="erp")
NEW = reverse("collaboration:invoice-new")


@pytest.fixture
def received(nordwerk):
    create_purchase_order("PO-7001", supplier=nordwerk, line_count=2)
    services.receipt_record(actor=ERP, document=parse_receipt({
        "reference": "GR-1", "purchase_order": "PO-7001", "received_on": "2027-01-05", "lines": [{"line": 10, "quantity": "300"}]}))


def form(**overrides) -> dict:
    data = {"number": "INV-100", "invoice_date": "2027-01-10", "tax_rate": "19",
            "line-0-include": "1", "line-0-quantity": "300", "line-0-unit_price": "3.85", "line-0-reason": "",
            "line-1-quantity": "0", "line-1-unit_price": "3.85", "action": "preview"}
    data.update(overrides)
    return {key: value for key, value in data.items() if value is not None}


def test_a_new_invoice_starts_from_what_was_received_and_not_invoiced(received, nordwerk_sales, client):
    client.force_login(nordwerk_sales)
    text = client.get(NEW, {"po": "PO-7001"}).content.decode()
    row = text[text.index('data-testid="invoice-line-PO-7001-10"'):text.index('data-testid="invoice-line-PO-7001-20"')]
    assert 'value="300"' in row and 'value="3.85"' in row and "checked" in row
    assert "checked" not in text[text.index('data-testid="invoice-line-PO-7001-20"'):].split("</tr>")[0]  # nothing received


def test_preview_then_a_difference_needs_a_reason_then_submit(received, nordwerk_sales, client):
    client.force_login(nordwerk_sales)
    preview = client.post(f"{NEW}?po=PO-7001", form(**{"line-0-quantity": "320"}))
    text = preview.content.decode()
    assert preview.status_code == 200 and 'data-testid="invoice-preview"' in text
    assert "quantity 320, received and not yet invoiced 300" in text and "€1,232.00" in text  # net; gross below
    assert "€1,466.08" in text
    refused = client.post(f"{NEW}?po=PO-7001", form(**{"line-0-quantity": "320", "action": "submit"}))
    assert refused.status_code == 400 and "Say why this line differs" in refused.content.decode()
    assert not Invoice.objects.exists()
    done = client.post(f"{NEW}?po=PO-7001", form(**{"line-0-quantity": "320", "line-0-reason": "20 delivered late",
                                                     "action": "submit"}), follow=True)
    text = done.content.decode()
    assert "Invoice INV-100 is submitted" in text and 'data-testid="invoice-status"' in text and "Submitted" in text
    assert Invoice.objects.get().lines.get().reason == "20 delivered late"


def test_a_duplicate_number_is_refused_on_the_form(received, nordwerk_sales, client):
    client.force_login(nordwerk_sales)
    client.post(f"{NEW}?po=PO-7001", form(action="submit"))
    again = client.post(f"{NEW}?po=PO-7001", form(action="submit"))
    assert again.status_code == 409 and "already submitted invoice INV-100" in again.content.decode()
    assert Invoice.objects.count() == 1


def test_the_erps_status_shows_on_the_invoice_and_the_order(received, nordwerk_sales, client, erp_client):
    client.force_login(nordwerk_sales)
    client.post(f"{NEW}?po=PO-7001", form(action="submit"))
    invoice = Invoice.objects.get()
    put = erp_client.put("/api/v1/erp/suppliers/NORDWERK/invoices/INV-100/status", content_type="application/json",
                         data=json.dumps({"version": 1, "purchase_order": "PO-7001", "status": "blocked",
                                          "reason": "Price differs from contract"}))
    assert put.status_code == 201
    detail = client.get(reverse("collaboration:invoice-detail", args=[invoice.pk])).content.decode()
    assert "Blocked" in detail and "Price differs from contract" in detail
    erp_client.put("/api/v1/erp/suppliers/NORDWERK/invoices/INV-100/status", content_type="application/json",
                   data=json.dumps({"version": 2, "purchase_order": "PO-7001", "status": "paid", "paid_on": "2027-02-10",
                                    "payment_reference": "PAY-889"}))
    order = client.get(reverse("collaboration:purchase-order-detail", args=["PO-7001"])).content.decode()
    section = order[order.index('id="invoices-heading"'):]
    assert "INV-100" in section and "Paid" in section and "PAY-889" in section and "2027-02-10" in section
    listed = client.get(reverse("collaboration:invoice-list")).content.decode()
    assert "PAY-889" in listed and "PO-7001" in listed


def test_german_amounts_and_decimal_commas(received, nordwerk_sales, client):
    AccountSettings.objects.create(user=nordwerk_sales, language="de")
    client.force_login(nordwerk_sales)
    text = client.post(f"{NEW}?po=PO-7001", form(**{"line-0-unit_price": "3,85", "tax_rate": "19"})).content.decode()
    assert "1.155,00\xa0€" in text and "1.374,45\xa0€" in text


def test_buyers_see_every_suppliers_invoices_and_suppliers_only_theirs(received, nordwerk_sales, alpenguss, alpenguss_sales,
                                                                        admin_user, client):
    client.force_login(nordwerk_sales)
    client.post(f"{NEW}?po=PO-7001", form(action="submit"), follow=True)
    invoice = Invoice.objects.get()
    client.force_login(alpenguss_sales)
    assert "INV-100" not in client.get(reverse("collaboration:invoice-list")).content.decode()
    assert client.get(reverse("collaboration:invoice-detail", args=[invoice.pk])).status_code == 404
    assert client.get(NEW, {"po": "PO-7001"}).status_code == 404
    client.force_login(admin_user)
    listed = client.get(reverse("collaboration:invoice-list")).content.decode()
    assert "INV-100" in listed and "NORDWERK" in listed


def test_an_invoice_of_hundreds_of_lines_fits_in_one_form_post(nordwerk, nordwerk_sales, client):
    create_purchase_order("PO-BIG", supplier=nordwerk, line_count=300)
    client.force_login(nordwerk_sales)
    data = {"number": "INV-BIG", "invoice_date": "2027-01-10", "tax_rate": "0", "action": "preview"}
    for index in range(300):
        data.update({f"line-{index}-quantity": "0", f"line-{index}-unit_price": "3.85", f"line-{index}-reason": "",
                     f"line-{index}-include": "1" if index < 2 else ""})
    response = client.post(f"{NEW}?po=PO-BIG", data)  # 1,204 fields: more than Django's default allows
    assert response.status_code == 400 and "greater than 0" in response.content.decode()  # the form's own answer
