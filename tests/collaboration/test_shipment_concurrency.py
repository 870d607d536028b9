"""Shipments and receipts at the same moment, on PostgreSQL: the second waits for the first and then
sees it (no over-shipment, no cancelled ASN with receipts, no status from half the lines)."""
import threading
import time

import pytest
from django.db import connection, transaction

from collaboration import services
from collaboration.actors import Actor
from collaboration.documents import parse_receipt, parse_shipment
from collaboration.errors import InvalidDocument
from collaboration.models import Shipment
from collaboration.services.shipments import ShipmentClosed
from tests.collaboration.test_shipments import DESPATCH, asn

ERP = Actor.system("test", channel="erp")


@pytest.fixture(autouse=True)
def _committed(transactional_db):
    """Each test commits for real (the database is emptied after each, the rows the migrations
    load with it): the rejection reason the `orders` fixture uses comes back here."""
    from collaboration.models import RejectionReason

    RejectionReason.objects.get_or_create(code="capacity", defaults={"label": "No capacity"})


def first_then_second(first, second) -> object:
    """Run `first` in a transaction that stays open a moment after it has done its work, and
    `second` meanwhile in another connection; returns what `second` returned or raised."""
    done, outcome = threading.Event(), {}

    def hold() -> None:
        try:
            with transaction.atomic():
                first()
                done.set()
                time.sleep(0.5)
        finally:
            done.set()
            connection.close()

    holder = threading.Thread(target=hold)
    holder.start()
    done.wait(10)
    try:
        outcome["value"] = second()
    except Exception as error:  # noqa: BLE001 - the caller asserts on it
        outcome["value"] = error
    holder.join()
    return outcome["value"]


def receipt(reference: str, lines: list[dict], po: str = "PO-1"):
    return lambda: services.receipt_record(actor=ERP, document=parse_receipt(
        {"reference": reference, "purchase_order": po, "received_on": DESPATCH.isoformat(), "lines": lines}))


def one_line(number: str, quantity: str) -> dict:
    return asn(number=number, packages=[], lines=[{"line": 1, "purchase_order": "PO-1", "order_line": 10, "quantity": quantity}])


def test_two_asns_at_once_cannot_ship_more_than_is_open(postgres, orders, logistics):  # noqa: F811
    second = first_then_second(
        lambda: services.shipment_submit(document=parse_shipment(one_line("ASN-A", "400")), actor=logistics),
        lambda: services.shipment_submit(document=parse_shipment(one_line("ASN-B", "400")), actor=logistics),
    )
    assert isinstance(second, InvalidDocument) and "Open on line 10 of PO-1: 0" in str(second.details)
    assert list(Shipment.objects.values_list("number", flat=True)) == ["ASN-A"]


def test_a_cancel_during_a_receipt_waits_and_is_refused(postgres, orders, logistics):  # noqa: F811
    shipment = services.shipment_submit(document=parse_shipment(asn()), actor=logistics)
    second = first_then_second(
        receipt("GR-1", [{"line": 10, "quantity": "400"}]),
        lambda: services.shipment_cancel(number="ASN-1", supplier_id=shipment.supplier_id, actor=logistics),
    )
    assert isinstance(second, ShipmentClosed)
    shipment.refresh_from_db()
    assert (shipment.status, shipment.receipt_status) == ("submitted", "partial")


def test_two_receipts_of_one_asn_at_once_leave_the_status_of_both(postgres, orders, logistics):  # noqa: F811
    shipment = services.shipment_submit(document=parse_shipment(asn()), actor=logistics)
    first_then_second(
        receipt("GR-1", [{"line": 10, "quantity": "400"}]),
        receipt("GR-2", [{"line": 10, "quantity": "100", "lot": "L-7"}], po="PO-2"),
    )
    shipment.refresh_from_db()
    assert shipment.receipt_status == "received"
    assert [line.received_quantity for line in shipment.lines.all()] == [400, 100]


@pytest.mark.parametrize("order", ["correction first", "receipt first"])
def test_a_correction_and_a_receipt_run_one_after_the_other(postgres, orders, logistics, order):  # noqa: F811
    shipment = services.shipment_submit(document=parse_shipment(asn()), actor=logistics)
    correct = lambda: services.shipment_submit(document=parse_shipment(asn(carrier="UPS")), actor=logistics)  # noqa: E731
    receive = receipt("GR-1", [{"line": 10, "quantity": "400"}])
    second = first_then_second(correct, receive) if order == "correction first" else first_then_second(receive, correct)
    shipment.refresh_from_db()
    if order == "correction first":  # the receipt matches the corrected lines
        assert shipment.revision == 2 and shipment.lines.get(line_number=1).received_quantity == 400
        assert not isinstance(second, Exception)
    else:  # the correction comes too late
        assert isinstance(second, ShipmentClosed) and shipment.revision == 1
    assert shipment.receipt_status == "partial"
