"""Inbound DESADV through the shipment service (package hierarchy, SSCC, lots, corrections,
cancellations) and a partner's CONTRL marking our outbound interchange."""
from __future__ import annotations

from decimal import Decimal

import pytest

from collaboration.gs1 import sscc_compose
from collaboration.models import Shipment
from edi.inbound import receive_file
from edi.models import Interchange
from edi.outbound import write_pending
from erp_bridge.models import OutboxMessage
from tests.edi.conftest import day, interchange, ordrsp
from tests.factories import create_purchase_order


def sscc(serial: int) -> str:
    return sscc_compose(extension=0, prefix="4099999", serial=serial)


@pytest.fixture
def confirmed(partner, nordwerk):
    """PO-1 with lines 10 and 20 (400 each), accepted by the partner's own ORDRSP."""
    create_purchase_order("PO-1", supplier=nordwerk, line_count=2)
    [result] = receive_file(interchange(ordrsp("PO-1", "29"), ref="ACK1"), file_name="ack.edi")
    assert result.status == "accepted"


def desadv(number: str = "ASN-1", function: str = "9", *, order: str = "PO-1", levels: list | None = None) -> tuple[str, list]:
    """A pallet (CPS 2) holding two cartons: line 10 x 400 lot L1 in carton 3, line 20 x 400 in carton 4."""
    body = [("BGM", ["351", number, function]), ("DTM", [("11", day(1), "102")]), ("DTM", [("132", day(3), "102")]),
            ("RFF", [("ON", order)]), ("NAD", ["ST", ("PLANT-1", "", "92")]), ("TDT", ["12", "", "30", "", ("DHL", "", "", "DHL Freight")]),
            ("RFF", [("CN", "TRK-99")])]
    if levels is None:
        levels = [
            [("CPS", ["1"])],
            [("CPS", ["2", "1"]), ("PAC", ["1", "", "PX"]), ("PCI", ["33E"]), ("GIN", ["BJ", sscc(1)])],
            [("CPS", ["3", "2"]), ("PAC", ["1", "", "CT"]), ("PCI", ["33E"]), ("GIN", ["BJ", sscc(2)]),
             ("LIN", ["1", "", ("BRK-2201", "BP")]), ("QTY", [("12", "400", "PCE")]), ("RFF", [("ON", order, "10")]), ("GIN", ["BX", "L1"])],
            [("CPS", ["4", "2"]), ("PAC", ["1", "", "CT"]), ("PCI", ["33E"]), ("GIN", ["BJ", sscc(3)]),
             ("LIN", ["2", "", ("BRK-2202", "BP")]), ("QTY", [("12", "400", "PCE")]), ("RFF", [("ON", order, "20")])],
        ]
    for level in levels:
        body += level
    return "DESADV", body


def receive(data: bytes, name: str = "asn.edi"):
    [result] = receive_file(data, file_name=name)
    return result


def test_despatch_advice_becomes_a_submitted_shipment_with_its_package_tree(confirmed):
    result = receive(interchange(desadv()))

    assert result.status == "accepted", result.as_json()
    shipment = Shipment.objects.get(number="ASN-1")
    assert (shipment.status, shipment.carrier, shipment.tracking_number, shipment.ship_to) == ("submitted", "DHL Freight", "TRK-99", "PLANT-1")
    packages = {p.sscc: p for p in shipment.packages.select_related("parent")}
    assert packages[sscc(1)].kind == "pallet" and packages[sscc(1)].parent is None
    assert packages[sscc(2)].parent.sscc == packages[sscc(3)].parent.sscc == sscc(1)
    lines = {l.order_line.line_number: l for l in shipment.lines.select_related("order_line")}
    assert (lines[10].quantity, lines[10].lot, lines[20].quantity) == (Decimal(400), "L1", Decimal(400))
    assert [c.shipment_line.order_line.line_number for c in packages[sscc(2)].contents.select_related("shipment_line__order_line")] == [10]
    assert OutboxMessage.objects.filter(type="shipment.submitted", aggregate="PO-1").count() == 1
    assert shipment.revision == 1


def test_a_line_spread_over_two_packages_is_one_shipment_line(confirmed):
    levels = [
        [("CPS", ["1"]), ("PAC", ["1", "", "CT"]), ("GIN", ["BJ", sscc(5)]),
         ("LIN", ["1"]), ("QTY", [("12", "150", "PCE")]), ("RFF", [("ON", "PO-1", "10")])],
        [("CPS", ["2"]), ("PAC", ["1", "", "CT"]), ("GIN", ["BJ", sscc(6)]),
         ("LIN", ["2"]), ("QTY", [("12", "250", "PCE")]), ("RFF", [("ON", "PO-1", "10")])],
    ]
    result = receive(interchange(desadv(levels=levels)))

    assert result.status == "accepted", result.as_json()
    [line] = Shipment.objects.get().lines.all()
    assert line.quantity == 400 and sorted(c.quantity for c in line.packed.all()) == [150, 250]


def test_replacement_corrects_and_cancellation_cancels(confirmed):
    receive(interchange(desadv()), "1.edi")
    corrected = receive(interchange(desadv(function="5"), ref="IC0002"), "2.edi")
    cancelled = receive(interchange(desadv(function="1", levels=[]), ref="IC0003"), "3.edi")

    assert corrected.status == cancelled.status == "accepted"
    shipment = Shipment.objects.get()
    assert (shipment.status, shipment.revision) == ("cancelled", 2)
    assert [m.type for m in OutboxMessage.objects.filter(type__startswith="shipment").order_by("sequence")] == [
        "shipment.submitted", "shipment.corrected", "shipment.cancelled"]


@pytest.mark.parametrize(("change", "code", "tag", "text"), [
    ((sscc(2), sscc(2)[:-1] + str((int(sscc(2)[-1]) + 1) % 10)), "12", "GIN", "check digit"),
    (("ON:PO-1:20", "ON:PO-1:30"), "12", "LIN", None),
    (("12:400:PCE'RFF+ON:PO-1:20", "12:4000:PCE'RFF+ON:PO-1:20"), "12", "LIN", None),
    (("12:400:PCE'RFF+ON:PO-1:20", "12:4x0:PCE'RFF+ON:PO-1:20"), "37", "QTY", "not a number"),
    (("DTM+11:", "DTM+11:2026"), "12", "DTM", "not a valid date"),
])
def test_bad_despatch_advice_is_rejected_at_its_segment_and_stores_nothing(confirmed, change, code, tag, text):
    data = interchange(desadv())
    old, new = (part.encode() for part in change)
    assert old in data
    result = receive(data.replace(old, new, 1))

    assert result.status == "rejected"
    assert (code, tag) in [(e.code, e.tag) for e in result.messages[0].errors], result.as_json()
    if text:
        assert any(text in e.text for e in result.messages[0].errors)
    assert not Shipment.objects.exists()
    assert not OutboxMessage.objects.filter(type__startswith="shipment").exists()


def test_despatch_advice_for_another_suppliers_order_is_rejected_without_revealing_it(confirmed, alpenguss):
    create_purchase_order("PO-ALP", supplier=alpenguss, line_count=2)
    foreign = receive(interchange(desadv(order="PO-ALP")), "a.edi")
    unknown = receive(interchange(desadv(order="PO-NONE"), ref="IC0002"), "b.edi")

    assert foreign.status == unknown.status == "rejected"
    assert [e.text.replace("PO-ALP", "X") for e in foreign.messages[0].errors] == [
        e.text.replace("PO-NONE", "X") for e in unknown.messages[0].errors]
    assert not Shipment.objects.exists()


# --------------------------------------------------------------------------- CONTRL from the partner


def partner_contrl(reference: str, action: str, *more: tuple[str, list], ref: str = "CT0001") -> bytes:
    body = [("UCI", [reference, ("PORTAL", "ZZZ"), ("4012345000009", "14"), action]), *more]
    return interchange(("CONTRL", body), ref=ref)


def test_partner_contrl_acknowledges_or_refuses_our_interchange_and_is_not_answered(partner, nordwerk):
    create_purchase_order("PO-1", supplier=nordwerk)
    create_purchase_order("PO-2", supplier=nordwerk)
    write_pending()  # the partner answers what it received
    first, second = Interchange.objects.filter(direction="out").order_by("id")

    ack = receive(partner_contrl(first.control_ref, "7"), "c1.edi")
    refusal = receive(partner_contrl(second.control_ref, "7", ("UCM", ["1", ("ORDERS", "D", "96A", "UN"), "4", "12"]),
                                     ("UCS", ["5", "12"]), ref="CT0002"), "c2.edi")

    first.refresh_from_db()
    second.refresh_from_db()
    assert (ack.status, first.status, first.answer_id) == ("accepted", "acknowledged", ack.interchange_id)
    assert (refusal.status, second.status) == ("accepted", "refused")
    assert [e["code"] for e in second.errors] == ["12", "12"] and "segment 5" in second.errors[1]["text"]
    assert ack.contrl is None and refusal.contrl is None  # a CONTRL is never answered with a CONTRL


def test_partner_contrl_for_an_interchange_we_never_sent_is_rejected(partner, nordwerk):
    create_purchase_order("PO-1", supplier=nordwerk)  # ORDERS 00000001 queued, not written yet
    never = receive(partner_contrl("77777777", "7"), "a.edi")
    not_yet = receive(partner_contrl("00000001", "7", ref="CT0002"), "b.edi")

    assert never.status == "rejected" and "no interchange '77777777'" in never.messages[0].errors[0].text
    assert not_yet.status == "rejected"
    assert Interchange.objects.get(direction="out", control_ref="00000001").status == "pending"
