"""Inbound INVOIC through the invoice service: a partner's invoice file becomes an invoice with its
match; totals that do not add up, another supplier's order, a duplicate number, a difference
without a reason, another currency are rejected in the CONTRL at their segment and store nothing."""
from __future__ import annotations

from decimal import Decimal
from pathlib import Path

import pytest

from collaboration import services
from collaboration.actors import Actor
from collaboration.documents import parse_receipt
from collaboration.models import ExceptionCase, Invoice
from edi.inbound import receive_file
from edi.models import Interchange
from edi.partners import trading_partner_add
from erp_bridge.models import OutboxMessage
from tests.edi.conftest import PARTNER_ID, interchange
from tests.factories import create_purchase_order

FIXTURES = Path(__file__).parent / "fixtures"
ERP = Actor.system("erp", channel="erp")


@pytest.fixture
def received(partner, nordwerk):
    """PO-7001: lines 10 and 20 (400 each at 3.85); 300 of line 10 received, nothing of line 20 yet."""
    create_purchase_order("PO-7001", supplier=nordwerk, line_count=2)
    services.receipt_record(actor=ERP, document=parse_receipt({
        "reference": "GR-1", "purchase_order": "PO-7001", "received_on": "2027-01-05", "lines": [{"line": 10, "quantity": "300"}]}))


def invoic(number="RE-1", *lines, currency="EUR", totals=(), order="PO-7001") -> tuple[str, list]:
    body = [("BGM", ["380", number, "9"]), ("DTM", [("137", "20270110", "102")]), ("RFF", [("ON", order)]),
            ("CUX", [("2", currency, "4")]), ("TAX", ["7", "VAT", "", "", ("", "", "", "19"), "S"])]
    for line in lines or ([("LIN", ["1", "", ("BRK-2201", "BP")]), ("QTY", [("47", "300", "PCE")]),
                           ("PRI", [("AAA", "3.85")]), ("RFF", [("ON", order, "10")])],):
        body += line
    body.append(("UNS", ["S"]))
    body += [("MOA", [(qualifier, amount)]) for qualifier, amount in totals]
    return "INVOIC", body


def receive(data: bytes, name: str = "invoice.edi"):
    [result] = receive_file(data, file_name=name)
    return result


def test_a_partners_invoice_file_becomes_an_invoice_with_its_match(received):
    result = receive((FIXTURES / "invoic_po7001_two_lines.edi").read_bytes())

    assert result.status == "accepted", result.as_json()
    assert result.messages[0].summary == {"invoice": "RE-2027-0042", "net_amount": "1617", "currency": "EUR", "differences": 1}
    invoice = Invoice.objects.get()
    assert (invoice.channel, invoice.tax_rate, invoice.gross_amount) == ("edi", Decimal("19"), Decimal("1924.23"))
    second = invoice.lines.get(line_number=2)
    assert second.reason == "Remaining 120 delivered 2027-01-08 on DN-1002" and second.differences[0]["field"] == "quantity"
    assert ExceptionCase.objects.get(kind="invoice_difference").invoice == invoice
    assert OutboxMessage.objects.get(type="invoice.submitted").payload["channel"] == "edi"
    assert Interchange.objects.filter(direction="out").exists()  # the CONTRL answering it


def test_totals_that_do_not_add_up_are_rejected_at_their_segment(received):
    result = receive(interchange(invoic(totals=[("79", "1155"), ("77", "1400.00")])))

    message = result.messages[0]
    assert message.status == "rejected"
    assert [(e.code, e.tag) for e in message.errors] == [("12", "MOA")]
    assert "1400" in message.errors[0].text and "1374.45" in message.errors[0].text
    assert not Invoice.objects.exists() and not OutboxMessage.objects.filter(type="invoice.submitted").exists()


def test_an_invoice_for_another_suppliers_order_is_rejected_as_unknown(received, alpenguss):
    create_purchase_order("PO-AL1", supplier=alpenguss)
    result = receive(interchange(invoic(order="PO-AL1")))

    message = result.messages[0]
    assert message.status == "rejected" and [(e.code, e.tag) for e in message.errors] == [("12", "LIN")]
    assert "PO-AL1 is not one of your purchase orders" in message.errors[0].text
    assert not Invoice.objects.exists()


def test_a_difference_without_a_reason_another_currency_and_a_duplicate_are_rejected(received):
    no_reason = [("LIN", ["1"]), ("QTY", [("47", "350", "PCE")]), ("PRI", [("AAA", "3.85")]), ("RFF", [("ON", "PO-7001", "10")])]
    result = receive(interchange(invoic("RE-1", no_reason), ref="IC1"))
    assert result.messages[0].status == "rejected" and "Say why" in result.messages[0].errors[0].text
    result = receive(interchange(invoic("RE-2", currency="USD"), ref="IC2"))
    assert result.messages[0].status == "rejected" and "in EUR, not USD" in result.messages[0].errors[0].text
    assert receive(interchange(invoic("RE-3"), ref="IC3")).status == "accepted"
    duplicate = receive(interchange(invoic("RE-3"), ref="IC4")).messages[0]
    assert duplicate.status == "rejected" and duplicate.errors[0].tag == "BGM"
    assert "already submitted invoice RE-3" in duplicate.errors[0].text
    assert list(Invoice.objects.values_list("number", flat=True)) == ["RE-3"]


@pytest.mark.parametrize("change, tag, words", [
    (lambda body: [s if s[0] != "BGM" else ("BGM", ["381", "RE-1", "9"]) for s in body], "BGM", "commercial invoices (380)"),
    (lambda body: [s for s in body if s[0] != "CUX"], "BGM", "currency is missing"),
    (lambda body: [s for s in body if s[0] != "PRI"], "LIN", "PRI+AAA"),
    (lambda body: [s if s[0] != "QTY" else ("QTY", [("47", "3x0", "PCE")]) for s in body], "QTY", "not a number"),
])
def test_malformed_invoices_are_rejected_with_the_segment(received, change, tag, words):
    kind, body = invoic()
    message = receive(interchange((kind, change(body)))).messages[0]
    assert message.status == "rejected" and message.errors[0].tag == tag and words in message.errors[0].text
    assert not Invoice.objects.exists()


def test_a_partner_without_invoic_enabled_gets_no_agreement(nordwerk, tmp_path):
    trading_partner_add(supplier_code="NORDWERK", edi_id=PARTNER_ID[0], qualifier=PARTNER_ID[1], mailbox=str(tmp_path / "m"),
                        message_types=["ORDERS", "ORDRSP", "DESADV", "CONTRL"])
    create_purchase_order("PO-7001", supplier=nordwerk)
    message = receive(interchange(invoic())).messages[0]
    assert message.status == "rejected" and message.errors[0].code == "17"
