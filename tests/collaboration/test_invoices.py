"""Invoices: the match against the order price and the received quantity, differences that need a
reason and open a case, the rules that refuse an invoice whole (duplicate number, another
supplier's order, another currency, a shipment that did not carry the line), and the ERP event."""
from __future__ import annotations

from decimal import Decimal

import pytest

from collaboration import services
from collaboration.actors import Actor
from collaboration.documents import parse_invoice, parse_receipt
from collaboration.errors import InvalidDocument, PermissionDenied
from collaboration.models import AuditEvent, ExceptionCase, Invoice, InvoiceLine, TolerancePolicy
from collaboration.services import DuplicateInvoice
from erp_bridge.models import OutboxMessage
from tests.factories import MembershipFactory, UserFactory, create_purchase_order

ERP = Actor.system("erp", channel="erp")


def invoice(number="INV-1", lines=None, **overrides) -> dict:
    return {"number": number, "invoice_date": "2027-01-10", "currency": "EUR", "tax_rate": "19",
            "lines": lines if lines is not None else [{"purchase_order": "PO-7001", "line": 10, "quantity": "300",
                                                       "unit_price": "3.85"}], **overrides}


def receive(reference: str, quantity: str, number="PO-7001", line=10) -> None:
    services.receipt_record(actor=ERP, document=parse_receipt({
        "reference": reference, "purchase_order": number, "received_on": "2027-01-05",
        "lines": [{"line": line, "quantity": quantity}]}))


@pytest.fixture
def sales(nordwerk_sales):
    return Actor.for_user(nordwerk_sales, channel="portal")


@pytest.fixture
def received(nordwerk):
    """PO-7001 line 10: 400 ordered at 3.85; 300 received. Line 20: nothing received."""
    create_purchase_order("PO-7001", supplier=nordwerk, line_count=2)
    receive("GR-1", "300")


def submit(actor, supplier, **kwargs) -> Invoice:
    return services.invoice_submit(supplier_id=supplier.pk, document=parse_invoice(invoice(**kwargs)), actor=actor)


def test_an_invoice_that_matches_goes_to_the_erp_once_with_totals(received, nordwerk, sales):
    stored = submit(sales, nordwerk)
    assert (stored.net_amount, stored.tax_amount, stored.gross_amount) == (Decimal("1155.00"), Decimal("219.45"), Decimal("1374.45"))
    event = OutboxMessage.objects.get(type="invoice.submitted")
    assert event.destination == "erp" and event.aggregate == "PO-7001"
    assert event.payload["lines"] == [{"line": 1, "purchase_order": "PO-7001", "order_line": 10, "item": "BRK-2201",
                                       "quantity": "300", "uom": "PCE", "unit_price": "3.85", "amount": "1155",
                                       "reason": "", "differences": []}]
    assert event.payload["gross_amount"] == "1374.45" and event.payload["channel"] == "portal"
    assert not ExceptionCase.objects.filter(kind="invoice_difference").exists()
    assert AuditEvent.objects.filter(action="invoice.submitted", purchase_order="PO-7001").count() == 1


def test_the_preview_shows_each_difference_before_anything_is_stored(received, nordwerk):
    TolerancePolicy.objects.create(supplier=nordwerk, price_over_pct=Decimal("2"), quantity_over_pct=Decimal("0"))
    preview = services.invoice_match(supplier_id=nordwerk.pk, document=parse_invoice(invoice(lines=[
        {"purchase_order": "PO-7001", "line": 10, "quantity": "320", "unit_price": "3.90"},   # +1.3 % price, 20 over
        {"purchase_order": "PO-7001", "line": 20, "quantity": "10", "unit_price": "4.50"},    # nothing received
    ])))
    first, second = preview.lines
    assert (first.ordered_price, first.received, first.open_to_invoice) == (Decimal("3.85"), 300, 300)
    assert [d["field"] for d in first.differences] == ["quantity"]  # the price is inside 2 %
    assert {d["field"] for d in second.differences} == {"quantity", "unit_price"}
    assert preview.differences == 2 and preview.net_amount == Decimal("1293.00")
    assert set(preview.errors()["lines"]) == {"0", "1"}  # both need a reason
    assert not Invoice.objects.exists()


def test_differences_need_a_reason_then_open_a_case_for_the_buyer(received, nordwerk, sales):
    lines = [{"purchase_order": "PO-7001", "line": 10, "quantity": "350", "unit_price": "3.85"}]
    with pytest.raises(InvalidDocument) as refused:
        submit(sales, nordwerk, lines=lines)
    assert "Say why" in str(refused.value.details["lines"]["0"]["reason"])
    assert not Invoice.objects.exists() and not OutboxMessage.objects.filter(type="invoice.submitted").exists()
    lines[0]["reason"] = "50 more delivered on 2027-01-09, receipt not booked yet"
    stored = submit(sales, nordwerk, lines=lines)
    case = ExceptionCase.objects.get(kind="invoice_difference")
    assert case.invoice == stored and case.details["lines"][0]["reason"].startswith("50 more")
    assert InvoiceLine.objects.get().differences[0]["field"] == "quantity"


def test_earlier_invoices_count_against_the_received_quantity(received, nordwerk, sales):
    submit(sales, nordwerk, number="INV-1", lines=[{"purchase_order": "PO-7001", "line": 10, "quantity": "200", "unit_price": "3.85"}])
    preview = services.invoice_match(supplier_id=nordwerk.pk, document=parse_invoice(invoice(number="INV-2", lines=[
        {"purchase_order": "PO-7001", "line": 10, "quantity": "150", "unit_price": "3.85"}])))
    assert preview.lines[0].invoiced_before == 200 and preview.lines[0].open_to_invoice == 100
    assert preview.lines[0].differences[0]["field"] == "quantity"


def test_a_duplicate_number_is_refused_and_the_first_invoice_stays(received, nordwerk, sales):
    submit(sales, nordwerk)
    with pytest.raises(DuplicateInvoice):
        submit(sales, nordwerk, lines=[{"purchase_order": "PO-7001", "line": 10, "quantity": "1", "unit_price": "3.85"}])
    assert Invoice.objects.get().net_amount == Decimal("1155.00")
    assert OutboxMessage.objects.filter(type="invoice.submitted").count() == 1


def test_another_suppliers_order_another_currency_and_unknown_lines_are_refused(received, nordwerk, alpenguss, sales):
    create_purchase_order("PO-AL1", supplier=alpenguss)
    create_purchase_order("PO-USD", supplier=nordwerk, currency="USD")
    receive("GR-2", "400", number="PO-USD")
    with pytest.raises(InvalidDocument) as refused:
        submit(sales, nordwerk, lines=[
            {"purchase_order": "PO-AL1", "line": 10, "quantity": "1", "unit_price": "3.85"},
            {"purchase_order": "PO-USD", "line": 10, "quantity": "1", "unit_price": "3.85"},
            {"purchase_order": "PO-7001", "line": 99, "quantity": "1", "unit_price": "3.85"},
        ])
    lines = refused.value.details["lines"]
    assert "not one of your purchase orders" in lines["0"]["line"][0]  # nothing said about whose it is
    assert "in USD, not EUR" in lines["1"]["line"][0]
    assert "no line 99" in lines["2"]["line"][0]
    assert not Invoice.objects.exists()


def test_an_invoice_for_a_shipment_covers_only_what_it_carried(received, nordwerk, sales):
    with pytest.raises(InvalidDocument) as refused:
        submit(sales, nordwerk, shipment="ASN-NONE")
    assert "not a submitted shipment" in str(refused.value.details["shipment"])


def test_only_sales_and_admin_users_invoice(received, nordwerk):
    logistics = Actor.for_user(MembershipFactory(user=UserFactory(username="dock@nordwerk.example"), supplier=nordwerk,
                                                 role="logistics").user, channel="portal")
    with pytest.raises(PermissionDenied):
        submit(logistics, nordwerk)
    assert not Invoice.objects.exists()


def test_bad_documents_are_refused_by_field(db):
    for bad, field in (({"currency": "eur"}, "currency"), ({"lines": []}, "lines"),
                       ({"lines": [{"purchase_order": "PO-1", "line": 10, "quantity": "0", "unit_price": "1"}]}, "lines"),
                       ({"lines": [{"purchase_order": "PO-1", "line": 10, "quantity": "1", "unit_price": "1"}] * 2}, "lines"),
                       ({"tax_rate": "-1"}, "tax_rate")):
        with pytest.raises(InvalidDocument) as refused:
            parse_invoice(invoice(**bad))
        assert field in refused.value.details, bad


def test_an_invoice_for_a_submitted_shipment_of_its_lines(received, nordwerk, sales, settings):
    from collaboration.documents import parse_shipment
    from tests.collaboration.test_shipments import DESPATCH

    settings.GS1_COMPANY_PREFIX = "4012345"
    services.acknowledgement_accept_remaining(number="PO-7001", actor=sales)
    services.shipment_submit(actor=sales, document=parse_shipment({
        "number": "ASN-1", "ship_to": "PLANT-1", "despatch_date": DESPATCH.isoformat(), "expected_arrival": DESPATCH.isoformat(),
        "lines": [{"line": 1, "purchase_order": "PO-7001", "order_line": 10, "quantity": "300"}],
        "packages": [{"reference": "P1", "kind": "pallet", "contents": [{"line": 1, "quantity": "300"}]}]}))
    with pytest.raises(InvalidDocument) as refused:
        submit(sales, nordwerk, shipment="ASN-1", lines=[
            {"purchase_order": "PO-7001", "line": 20, "quantity": "1", "unit_price": "3.85", "reason": "extra"}])
    assert "did not carry PO-7001 line 20" in str(refused.value.details["lines"]["0"]["line"])
    assert submit(sales, nordwerk, shipment="ASN-1").shipment.number == "ASN-1"
