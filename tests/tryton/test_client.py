"""TrytonClient against a real trytond 8.0 with purchase, stock and purchase_amendment activated."""
from __future__ import annotations

import datetime as dt
from decimal import Decimal
from zoneinfo import ZoneInfo

import pytest

from erp_bridge.tryton.client import TrytonClient, TrytonRefused, TrytonUnavailable
from tests.tryton.conftest import TrytonServer


def _line(purchase: dict, product: str) -> dict:
    return next(line for line in purchase["lines"] if line["product"] == product)


def _purchase(client: TrytonClient, number: str) -> dict:
    return next(p for p in client.confirmed_purchases() if p["number"] == number)


def test_confirmed_purchases_lists_the_demo_orders_with_their_lines(client):
    purchases = client.confirmed_purchases()

    assert [p["number"] for p in purchases] == ["PO-7001", "PO-7002", "PO-7003", "PO-7004", "PO-7005"]
    first = purchases[0]
    assert first["party"] == "NORDWERK"
    assert first["currency"] == "EUR"
    assert first["warehouse"] == "PLANT-1"
    assert first["state"] == "processing"  # confirm queues `process`, which Tryton runs at once
    assert isinstance(first["purchase_date"], dt.date)
    assert isinstance(first["write_date"], dt.datetime)
    bracket = _line(first, "BRK-2201")
    assert bracket["quantity"] == Decimal("400")
    assert bracket["unit_price"] == Decimal("3.85")
    assert bracket["unit"] == "u"
    assert bracket["description"] == "Brake caliper bracket"
    assert isinstance(bracket["delivery_date"], dt.date)
    assert {len(p["lines"]) for p in purchases} == {2, 3}


def test_confirmed_purchases_since_the_high_water_mark_returns_only_new_purchases(client, tryton):
    mark = max(p["write_date"] for p in client.confirmed_purchases())
    assert client.confirmed_purchases(since=mark) == []

    created = tryton.demo("add-purchase", "--supplier", "FOUNDRY-X", "--line", "HSG-3100:12:50")

    fresh = client.confirmed_purchases(since=mark)
    assert [p["number"] for p in fresh] == [created["number"]]
    assert fresh[0]["party"] == "FOUNDRY-X"
    assert _line(fresh[0], "HSG-3100")["quantity"] == Decimal("12")
    assert fresh[0]["write_date"] > mark


def test_promise_dates_moves_the_planned_date_of_pending_moves(client):
    line = _line(_purchase(client, "PO-7003"), "HSG-3100")
    promised = dt.date.today() + dt.timedelta(days=90)

    changed = client.promise_dates("PO-7003", {line["id"]: promised})

    assert [(c["line"], c["planned_date"]) for c in changed] == [(line["id"], promised)]
    assert changed[0]["previous"] == line["delivery_date"]
    snapshot_line = _line(client.purchase_snapshot("PO-7003"), "HSG-3100")
    assert snapshot_line["planned_dates"] == [promised]
    assert snapshot_line["delivery_date"] == promised  # Tryton derives it from the moves
    assert client.promise_dates("PO-7003", {line["id"]: promised}) == []  # idempotent


def test_promise_dates_for_a_line_of_another_purchase_is_refused(client):
    other_line = _purchase(client, "PO-7001")["lines"][0]["id"]

    with pytest.raises(TrytonRefused, match="has no line"):
        client.promise_dates("PO-7003", {other_line: dt.date.today()})


def test_amend_line_changes_quantity_and_price_and_keeps_the_promised_date(client):
    line = _line(_purchase(client, "PO-7001"), "BRK-2201")
    promised = dt.date.today() + dt.timedelta(days=70)
    client.promise_dates("PO-7001", {line["id"]: promised})

    result = client.amend_line("PO-7001", line["id"], quantity=Decimal("350"), unit_price=Decimal("3.70"))

    assert result["revision"] == 1
    assert (result["quantity"], result["unit_price"]) == (Decimal("350"), Decimal("3.70"))
    # The amendment recreates the draft moves from the line's original date; the client restores it.
    assert result["restored_planned_date"] == promised
    snapshot_line = _line(client.purchase_snapshot("PO-7001"), "BRK-2201")
    assert snapshot_line["quantity"] == Decimal("350")
    assert snapshot_line["unit_price"] == Decimal("3.70")
    assert [m["quantity"] for m in snapshot_line["moves"]] == [Decimal("350")]
    assert snapshot_line["planned_dates"] == [promised]


def test_amend_line_refusal_carries_trytons_message_and_leaves_nothing_behind(client):
    line = _line(_purchase(client, "PO-7002"), "SHF-4410")

    with pytest.raises(TrytonRefused) as refused:
        client.amend_line("PO-7002", line["id"], quantity=Decimal("10.5"))  # unit "u" has no decimals

    assert "number of digits" in refused.value.message
    assert refused.value.status == 400
    snapshot = client.purchase_snapshot("PO-7002")
    assert snapshot["revision"] == 0
    assert _line(snapshot, "SHF-4410")["quantity"] == Decimal("120")


def test_amend_line_below_the_received_quantity_is_refused(client, tryton):
    line = _line(_purchase(client, "PO-7002"), "SHF-4410")
    tryton.demo("receive", "--purchase", "PO-7002", "--line", str(line["id"]), "--quantity", "50")

    with pytest.raises(TrytonRefused, match="below the 50 already received"):
        client.amend_line("PO-7002", line["id"], quantity=Decimal("30"))

    assert client.amend_line("PO-7002", line["id"], quantity=Decimal("50"))["quantity"] == Decimal("50")


def test_partial_receipt_shows_as_done_move_and_in_the_snapshot(client, tryton):
    purchase = _purchase(client, "PO-7005")
    line = _line(purchase, "SHF-4410")
    mark = max(p["write_date"] for p in client.confirmed_purchases())
    assert client.done_incoming_moves() == []

    tryton.demo("receive", "--purchase", "PO-7005", "--line", str(line["id"]), "--quantity", "40")

    receipts = client.done_incoming_moves(since=mark)
    assert [(r["purchase"], r["line"], r["product"], r["quantity"]) for r in receipts] == [
        ("PO-7005", line["id"], "SHF-4410", Decimal("40"))]
    # Tryton dates a receipt in its company's time zone (the demo company's is Vienna's), not the test's.
    assert receipts[0]["effective_date"] == dt.datetime.now(ZoneInfo("Europe/Vienna")).date()
    assert client.done_incoming_moves(since=receipts[0]["write_date"]) == []
    snapshot_line = _line(client.purchase_snapshot("PO-7005"), "SHF-4410")
    assert snapshot_line["received_quantity"] == Decimal("40")
    assert sorted((m["state"], m["quantity"]) for m in snapshot_line["moves"]) == [
        ("done", Decimal("40")), ("draft", Decimal("50"))]  # Tryton creates the back-order move


def test_unknown_purchase_is_refused(client):
    with pytest.raises(TrytonRefused, match="no purchase 'PO-0000'"):
        client.purchase_snapshot("PO-0000")


def test_wrong_application_key_is_refused_with_a_clear_message(tryton):
    with pytest.raises(TrytonRefused, match="rejected the application key") as refused:
        tryton.client(key="not-a-key").confirmed_purchases()
    assert refused.value.status == 401


def test_wrong_database_name_is_refused(tryton):
    client = TrytonClient(tryton.base_url, "no-such-db", tryton.key)
    with pytest.raises(TrytonRefused, match="HTTP 404"):
        client.confirmed_purchases()


def test_stopped_server_is_unavailable(tryton: TrytonServer):
    client = tryton.client(timeout=5)
    assert client.confirmed_purchases()
    tryton.stop()

    with pytest.raises(TrytonUnavailable, match="unreachable"):
        client.confirmed_purchases()


# --- supplier shipments --------------------------------------------------------------------------


def _ship(purchase: dict, *products: str, quantity: str = "10") -> list[dict]:
    return [{"purchase": purchase["number"], "line": _line(purchase, product)["id"], "quantity": Decimal(quantity)}
            for product in products]


def _pending_move_ids(client: TrytonClient, number: str, product: str) -> list[int]:
    line = _line(client.purchase_snapshot(number), product)
    return [m["id"] for m in line["moves"] if m["state"] == "draft"]


def _shipment(client: TrytonClient, shipment_id: int) -> dict:
    return client._read("stock.shipment.in", shipment_id, [
        "state", "reference", "supplier.code", "warehouse.code", "planned_date",
        "incoming_moves.state", "incoming_moves.planned_date"])


def test_create_supplier_shipment_attaches_the_pending_moves_and_sets_the_planned_date(client):
    purchase = _purchase(client, "PO-7001")
    arrival = dt.date.today() + dt.timedelta(days=12)

    created = client.create_supplier_shipment("DN-4711", "NORDWERK", arrival, _ship(purchase, "BRK-2201", "FLG-5120"))

    expected_moves = _pending_move_ids(client, "PO-7001", "BRK-2201") + _pending_move_ids(client, "PO-7001", "FLG-5120")
    assert created["reference"] == "DN-4711"
    assert created["number"]
    assert created["moves"] == sorted(expected_moves)
    shipment = _shipment(client, created["id"])
    assert (shipment["state"], shipment["supplier"]["code"], shipment["warehouse"]["code"]) == (
        "draft", "NORDWERK", "PLANT-1")
    assert shipment["planned_date"] == arrival
    assert [(m["state"], m["planned_date"]) for m in shipment["incoming_moves"]] == [("draft", arrival)] * 2
    # Tryton copies the shipment's planned date onto the moves, so the line's delivery date follows.
    assert _line(client.purchase_snapshot("PO-7001"), "BRK-2201")["delivery_date"] == arrival
    # The move keeps the ordered quantity (400), not the shipped 10: receiving adjusts it.
    assert [m["quantity"] for m in _line(client.purchase_snapshot("PO-7001"), "BRK-2201")["moves"]] == [Decimal("400")]


def test_create_supplier_shipment_again_updates_the_same_draft_shipment(client):
    purchase = _purchase(client, "PO-7001")
    first_date = dt.date.today() + dt.timedelta(days=12)
    later = first_date + dt.timedelta(days=3)
    first = client.create_supplier_shipment("DN-4711", "NORDWERK", first_date, _ship(purchase, "BRK-2201", "FLG-5120"))

    again = client.create_supplier_shipment("DN-4711", "NORDWERK", first_date, _ship(purchase, "BRK-2201", "FLG-5120"))
    assert again == first

    changed = client.create_supplier_shipment("DN-4711", "NORDWERK", later, _ship(purchase, "BRK-2201", "BRK-2202"))

    assert changed["id"] == first["id"]
    assert changed["number"] == first["number"]
    assert changed["moves"] == sorted(
        _pending_move_ids(client, "PO-7001", "BRK-2201") + _pending_move_ids(client, "PO-7001", "BRK-2202"))
    shipment = _shipment(client, first["id"])
    assert shipment["planned_date"] == later
    assert {m["planned_date"] for m in shipment["incoming_moves"]} == {later}
    found = client._search("stock.shipment.in", [("reference", "=", "DN-4711")], ["state"])
    assert [s["id"] for s in found] == [first["id"]]
    # FLG-5120's move left the shipment and is pending on the purchase again, free for another shipment.
    flange = _pending_move_ids(client, "PO-7001", "FLG-5120")
    assert client.create_supplier_shipment("DN-4712", "NORDWERK", later, _ship(purchase, "FLG-5120"))["moves"] == flange


def test_same_reference_of_another_supplier_is_another_shipment(client):
    nordwerk = client.create_supplier_shipment(
        "LS-1", "NORDWERK", dt.date.today(), _ship(_purchase(client, "PO-7002"), "SHF-4410"))
    alpenguss = client.create_supplier_shipment(
        "LS-1", "ALPENGUSS", dt.date.today(), _ship(_purchase(client, "PO-7003"), "HSG-3100"))

    assert nordwerk["id"] != alpenguss["id"]


def test_cancel_supplier_shipment_releases_the_moves_to_the_purchase(client):
    purchase = _purchase(client, "PO-7001")
    created = client.create_supplier_shipment(
        "DN-4711", "NORDWERK", dt.date.today() + dt.timedelta(days=5), _ship(purchase, "BRK-2201", "BRK-2202"))

    assert client.cancel_supplier_shipment("DN-4711", "NORDWERK") is True

    shipment = _shipment(client, created["id"])
    assert (shipment["state"], shipment["incoming_moves"]) == ("cancelled", [])
    assert sorted(_pending_move_ids(client, "PO-7001", "BRK-2201") + _pending_move_ids(client, "PO-7001", "BRK-2202")) \
        == created["moves"]
    released = client._search("stock.move", [("id", "in", created["moves"])], ["shipment", "state"])
    assert [(m["shipment"], m["state"]) for m in released] == [(None, "draft")] * 2
    assert client.cancel_supplier_shipment("DN-4711", "NORDWERK") is False  # nothing left to cancel
    again = client.create_supplier_shipment("DN-4711", "NORDWERK", dt.date.today(), _ship(purchase, "BRK-2201"))
    assert again["id"] != created["id"]  # the cancelled one is not reused


def test_cancel_unknown_supplier_shipment_returns_false(client):
    assert client.cancel_supplier_shipment("NO-SUCH", "NORDWERK") is False


def test_cancel_received_supplier_shipment_is_refused(client, tryton):
    line = _line(_purchase(client, "PO-7002"), "SHF-4410")
    tryton.demo("receive", "--purchase", "PO-7002", "--line", str(line["id"]))  # shipment reference RCV-PO-7002

    with pytest.raises(TrytonRefused, match="already done"):
        client.cancel_supplier_shipment("RCV-PO-7002", "NORDWERK")


def test_create_supplier_shipment_refusals(client, tryton):
    po7001 = _purchase(client, "PO-7001")
    po7003 = _purchase(client, "PO-7003")
    today = dt.date.today()

    with pytest.raises(TrytonRefused, match="no purchase 'PO-0000'"):
        client.create_supplier_shipment("X", "NORDWERK", today, [{"purchase": "PO-0000", "line": 1, "quantity": Decimal(1)}])
    with pytest.raises(TrytonRefused, match="has no line"):
        client.create_supplier_shipment(
            "X", "NORDWERK", today, [{"purchase": "PO-7001", "line": po7003["lines"][0]["id"], "quantity": Decimal(1)}])
    with pytest.raises(TrytonRefused, match="belongs to supplier ALPENGUSS, not NORDWERK"):
        client.create_supplier_shipment("X", "NORDWERK", today, _ship(po7003, "HSG-3100"))
    with pytest.raises(TrytonRefused, match="no party with code 'NOBODY'"):
        client.create_supplier_shipment("X", "NOBODY", today, _ship(po7001, "BRK-2201"))

    line = _line(po7001, "BRK-2202")
    tryton.demo("receive", "--purchase", "PO-7001", "--line", str(line["id"]))  # fully received
    with pytest.raises(TrytonRefused, match=f"line {line['id']} has no pending incoming move"):
        client.create_supplier_shipment("X", "NORDWERK", today, _ship(po7001, "BRK-2201", "BRK-2202"))

    client.create_supplier_shipment("DN-1", "NORDWERK", today, _ship(po7001, "FLG-5120"))
    with pytest.raises(TrytonRefused, match="already in another shipment"):
        client.create_supplier_shipment("DN-2", "NORDWERK", today, _ship(po7001, "FLG-5120"))

    assert client._search("stock.shipment.in", [("reference", "in", ["X", "DN-2"])], ["state"]) == []
