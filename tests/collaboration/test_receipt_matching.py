"""Receipts from the ERP matched to ASN lines: by order line, scanned SSCC and lot; differences open cases."""
from decimal import Decimal

import pytest
from django.urls import reverse

from collaboration import services
from collaboration.actors import Actor
from collaboration.documents import parse_receipt, parse_shipment
from collaboration.errors import InvalidDocument
from collaboration.models import ExceptionCase, Receipt, ReceiptMatch, Shipment, ShipmentLine
from collaboration.services.shipments import ShipmentClosed
from tests.collaboration.test_shipments import asn

ERP = Actor.system("test", channel="erp")


def receive(reference: str, lines: list[dict], *, po: str = "PO-1", on: str = "2026-11-28") -> Receipt:
    return services.receipt_record(actor=ERP, document=parse_receipt(
        {"reference": reference, "purchase_order": po, "received_on": on, "lines": lines})).obj


def cases(kind: str | None = None, status: str = "open") -> list[ExceptionCase]:
    found = ExceptionCase.objects.filter(kind__startswith="receipt_", status=status)
    return list(found.filter(kind=kind) if kind else found)


@pytest.fixture
def shipped(orders, logistics):  # noqa: F811
    """ASN-1: PO-1 line 10 × 400 in cartons C1 (250) and C2 (150) on pallet P1, PO-2 line 10 × 100 lot L-7 in C2."""
    return services.shipment_submit(document=parse_shipment(asn()), actor=logistics)


def line_of(shipment: Shipment, number: int) -> ShipmentLine:
    return shipment.lines.get(line_number=number)


def test_a_receipt_equal_to_the_asn_matches_it_and_opens_nothing(shipped):
    receive("GR-1", [{"line": 10, "quantity": "400"}])
    receive("GR-2", [{"line": 10, "quantity": "100", "lot": "L-7"}], po="PO-2")
    shipped.refresh_from_db()
    assert shipped.receipt_status == "received"
    assert [line.received_quantity for line in shipped.lines.all()] == [Decimal(400), Decimal(100)]
    assert cases() == []


def test_a_short_receipt_opens_a_short_case_that_the_rest_of_the_goods_close(shipped):
    receive("GR-1", [{"line": 10, "quantity": "300"}])
    shipped.refresh_from_db()
    assert shipped.receipt_status == "partial"  # line 2 not received at all yet
    [short] = cases("receipt_short")
    assert short.shipment == shipped and short.shipment_line == line_of(shipped, 1)
    assert (short.details["announced"], short.details["received"], short.details["difference"]) == ("400", "300", "-100")
    receive("GR-2", [{"line": 10, "quantity": "100", "lot": "L-7"}], po="PO-2")
    shipped.refresh_from_db()
    assert shipped.receipt_status == "differences"
    receive("GR-3", [{"line": 10, "quantity": "100"}])
    shipped.refresh_from_db()
    assert shipped.receipt_status == "received"
    assert cases() == [] and [c.pk for c in cases("receipt_short", status="closed")] == [short.pk]
    assert "GR-3" in ExceptionCase.objects.get(pk=short.pk).decision_comment


def test_an_over_receipt_opens_one_over_case_refreshed_by_later_receipts(shipped):
    receive("GR-1", [{"line": 10, "quantity": "420"}])
    receive("GR-2", [{"line": 10, "quantity": "5"}])
    [over] = cases("receipt_over")
    assert over.details["received"] == "425" and over.receipt.reference == "GR-2"
    assert line_of(shipped, 1).received_quantity == Decimal(425)
    shipped.refresh_from_db()
    assert shipped.receipt_status == "differences"


def test_the_scanned_sscc_picks_the_asn_that_announced_the_package(orders, logistics):  # noqa: F811
    first = services.shipment_submit(document=parse_shipment(asn(
        number="ASN-A", lines=[{"line": 1, "purchase_order": "PO-1", "order_line": 10, "quantity": "200"}],
        packages=[{"reference": "C1", "kind": "carton", "contents": [{"line": 1, "quantity": "200"}]}])), actor=logistics)
    second = services.shipment_submit(document=parse_shipment(asn(
        number="ASN-B", lines=[{"line": 1, "purchase_order": "PO-1", "order_line": 10, "quantity": "200"}],
        packages=[{"reference": "P1", "kind": "pallet"},
                  {"reference": "C1", "kind": "carton", "parent": "P1", "contents": [{"line": 1, "quantity": "200"}]}])),
        actor=logistics)
    pallet = second.packages.get(reference="P1").sscc  # the pallet, not the carton holding the line
    receive("GR-1", [{"line": 10, "quantity": "200", "sscc": pallet}])
    assert (line_of(first, 1).received_quantity, line_of(second, 1).received_quantity) == (0, 200)
    first.refresh_from_db()
    second.refresh_from_db()
    assert (first.receipt_status, second.receipt_status) == ("not_received", "received")


def test_without_an_sscc_the_oldest_despatch_is_filled_first_and_the_rest_spills_over(orders, logistics):  # noqa: F811
    for number, despatch in (("ASN-LATER", "2026-11-26"), ("ASN-EARLIER", "2026-11-24")):
        services.shipment_submit(document=parse_shipment(asn(
            number=number, despatch_date=despatch, expected_arrival="2026-11-27", packages=[],
            lines=[{"line": 1, "purchase_order": "PO-1", "order_line": 10, "quantity": "150"}])), actor=logistics)
    receive("GR-1", [{"line": 10, "quantity": "200"}])
    received = dict(ShipmentLine.objects.values_list("shipment__number", "received_quantity"))
    assert received == {"ASN-EARLIER": Decimal(150), "ASN-LATER": Decimal(50)}
    assert ReceiptMatch.objects.count() == 2


def test_another_lot_than_announced_opens_a_wrong_lot_case(shipped):
    receive("GR-1", [{"line": 10, "quantity": "100", "lot": "L-9"}], po="PO-2")
    [wrong] = cases("receipt_wrong_lot")
    assert wrong.details["received_lot"] == "L-9" and wrong.details["announced_lots"] == ["L-7"]
    assert line_of(shipped, 2).received_quantity == 100  # still counted against the ASN line


def test_goods_no_asn_announced_and_another_item_than_ordered_are_unexpected(shipped):
    receive("GR-1", [{"line": 20, "quantity": "50"}, {"line": 10, "quantity": "400", "item": "BRK-9999"}])
    unexpected = {c.details["order_line"]: c for c in cases("receipt_unexpected")}
    assert set(unexpected) == {10, 20}
    assert unexpected[20].shipment is None and "no ASN announced" in unexpected[20].summary
    assert unexpected[10].details == {"receipt": "GR-1", "order_line": 10, "received_item": "BRK-9999",
                                      "ordered_item": "BRK-2201"}
    assert ReceiptMatch.objects.get(receipt_line__order_line__line_number=20).shipment_line is None
    # Another item does not fill the ASN line: it stays unreceived, and the buyer sees it on the ASN.
    assert unexpected[10].shipment == shipped and line_of(shipped, 1).received_quantity == 0
    assert ReceiptMatch.objects.get(receipt_line__order_line__line_number=10).shipment_line is None


def test_a_receipt_after_the_committed_date_is_late(shipped):
    receive("GR-1", [{"line": 10, "quantity": "400"}], on="2026-12-05")  # committed 2026-12-01
    [late] = cases("receipt_late")
    assert late.details["days_late"] == 4 and late.shipment == shipped
    receive("GR-2", [{"line": 10, "quantity": "100", "lot": "L-7"}], po="PO-2", on="2026-12-01")
    assert len(cases("receipt_late")) == 1


def test_a_return_takes_the_quantity_back_off_the_asn_line(shipped):
    receive("GR-1", [{"line": 10, "quantity": "400"}])
    receive("GR-1-R", [{"line": 10, "quantity": "-30"}])
    assert line_of(shipped, 1).received_quantity == Decimal(370)
    assert [c.details["difference"] for c in cases("receipt_short")] == ["-30"]


def test_a_return_of_more_than_was_received_counts_against_no_asn_line(shipped):
    receive("GR-R", [{"line": 10, "quantity": "-10"}])
    assert line_of(shipped, 1).received_quantity == 0 and cases("receipt_short") == []
    assert ReceiptMatch.objects.get().shipment_line is None


def test_a_received_shipment_can_be_neither_corrected_nor_cancelled(shipped, logistics):  # noqa: F811
    receive("GR-1", [{"line": 10, "quantity": "400"}])
    with pytest.raises(ShipmentClosed, match="has been received"):
        services.shipment_submit(document=parse_shipment(asn(carrier="UPS")), actor=logistics)
    with pytest.raises(ShipmentClosed, match="has been received"):
        services.shipment_cancel(number="ASN-1", supplier_id=shipped.supplier_id, actor=logistics)
    shipped.refresh_from_db()
    assert (shipped.status, shipped.carrier, shipped.revision) == ("submitted", "DHL", 1)


def test_a_receipt_for_an_unknown_order_line_changes_nothing(shipped):
    with pytest.raises(InvalidDocument) as error:
        receive("GR-1", [{"line": 10, "quantity": "400"}, {"line": 99, "quantity": "1"}])
    assert error.value.details == {"lines": {"1": {"line": ["PO-1 has no line 99."]}}}
    assert not Receipt.objects.exists() and line_of(shipped, 1).received_quantity == 0 and cases() == []


def test_a_buyer_resolves_a_receipt_case_in_the_admin_with_a_comment(shipped, client, django_user_model):
    receive("GR-1", [{"line": 10, "quantity": "100", "lot": "L-9"}], po="PO-2")
    [wrong] = cases("receipt_wrong_lot")
    client.force_login(django_user_model.objects.create_superuser("buyer@plant.example", "buyer@plant.example", "x-pass-123"))
    page = client.get(reverse("admin:collaboration_exceptioncase_change", args=[wrong.pk])).content.decode()
    assert "Mark resolved" in page and "Approve proposal" not in page and "L-9" in page
    decide = reverse("admin:collaboration_exceptioncase_decide", args=[wrong.pk])
    client.post(decide, {"resolve": "1", "comment": "  "})
    assert ExceptionCase.objects.get(pk=wrong.pk).status == "open"  # a resolution says what was done
    client.post(decide, {"resolve": "1", "comment": "Lot L-9 accepted after inspection."})
    wrong.refresh_from_db()
    assert (wrong.status, wrong.decision_comment, wrong.decided_by.username) == (
        "resolved", "Lot L-9 accepted after inspection.", "buyer@plant.example")


def test_after_a_short_receipt_the_missing_quantity_can_be_shipped_again(shipped, logistics):  # noqa: F811
    receive("GR-1", [{"line": 10, "quantity": "300"}])
    receive("GR-2", [{"line": 10, "quantity": "100", "lot": "L-7"}], po="PO-2")
    backorder = asn(number="ASN-2", packages=[], lines=[{"line": 1, "purchase_order": "PO-1", "order_line": 10,
                                                         "quantity": "100"}])
    assert services.shipment_submit(document=parse_shipment(backorder), actor=logistics).status == "submitted"
    with pytest.raises(InvalidDocument, match="cannot be shipped"):  # but not more than that
        services.shipment_submit(document=parse_shipment(asn(number="ASN-3", packages=[], lines=[
            {"line": 1, "purchase_order": "PO-1", "order_line": 10, "quantity": "1"}])), actor=logistics)


def test_each_receipt_adds_to_the_order_lines_running_total_returns_subtract(shipped):
    from collaboration.models import PurchaseOrderLine

    receive("GR-1", [{"line": 10, "quantity": "300"}, {"line": 10, "quantity": "50"}])
    receive("GR-2", [{"line": 10, "quantity": "-20"}])
    receive("GR-1", [{"line": 10, "quantity": "300"}, {"line": 10, "quantity": "50"}])  # a repeat changes nothing
    assert PurchaseOrderLine.objects.get(purchase_order__number="PO-1", line_number=10).received_quantity == Decimal(330)
    assert PurchaseOrderLine.objects.get(purchase_order__number="PO-1", line_number=20).received_quantity == 0
