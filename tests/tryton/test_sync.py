"""The portal with a real Tryton as its ERP: purchases and receipts pulled in, decided
acknowledgements applied to the purchase (dates on moves, amendments), refusals dead-lettered."""
from __future__ import annotations

import datetime as dt
from decimal import Decimal

import pytest

from collaboration import services
from collaboration.actors import Actor
from collaboration.documents import decimal_text
from collaboration.models import ExceptionCase, PurchaseOrder, Receipt, Supplier, TolerancePolicy
from collaboration.services import LineResponse
from erp_bridge import relay
from erp_bridge.models import OutboxMessage, SyncCursor
from erp_bridge.tryton import sync


@pytest.fixture
def portal_on_tryton(settings, tryton, nordwerk, alpenguss):
    settings.TRYTON_URL = tryton.base_url
    settings.TRYTON_DATABASE = tryton.database
    settings.TRYTON_API_KEY = tryton.key
    settings.TRYTON_POLL_OVERLAP_SECONDS = 0
    sync._client.cache_clear()
    TolerancePolicy.objects.create(supplier=nordwerk, quantity_under_pct=50, days_later=30)
    yield tryton
    sync._client.cache_clear()


def answer(user, number: str, *responses: LineResponse) -> None:
    services.acknowledgement_submit(number=number, revision=PurchaseOrder.objects.get(number=number).revision,
                                    actor=Actor.for_user(user, channel="portal"), responses=list(responses))


def deliver_all() -> list[str]:
    return [relay.deliver(m.id).status for m in OutboxMessage.objects.filter(destination="erp", status="pending")
            .order_by("aggregate", "sequence")]


def test_pull_imports_confirmed_purchases_once_and_reports_unknown_suppliers(portal_on_tryton, tryton):
    report = sync.pull_purchases()
    # PO-7001..7005 in the demo; one of them is for FOUNDRY-X, which the portal does not know.
    assert report.seen == 5 and report.created == 4
    assert len(report.errors) == 1 and "FOUNDRY-X" in report.errors[0]
    po = PurchaseOrder.objects.get(number="PO-7001")
    tryton_lines = {line["id"]: line for line in tryton.client().purchase_snapshot("PO-7001")["lines"]}
    assert {line.line_number for line in po.lines.all()} == set(tryton_lines)
    assert po.supplier.code == "NORDWERK" and po.ship_to == "PLANT-1" and po.revision == 1
    assert SyncCursor.objects.get(name=sync.PURCHASES_CURSOR).value
    # The mark stops before the refused purchase: once the supplier exists, the next poll imports it.
    Supplier.objects.create(code="FOUNDRY-X", name="Foundry X")
    retry = sync.pull_purchases()
    assert retry.created == 1 and not retry.errors and PurchaseOrder.objects.filter(number="PO-7005").exists()
    # Nothing changed in Tryton since: the next poll finds nothing new.
    assert sync.pull_purchases().seen == 0
    created = tryton.demo("add-purchase", "--supplier", "ALPENGUSS", "--line", "HSG-3100:12:50")
    again = sync.pull_purchases()
    assert (again.seen, again.created) == (1, 1)
    assert PurchaseOrder.objects.filter(number=created["number"], supplier__code="ALPENGUSS").exists()


def test_decided_dates_and_quantities_reach_tryton_once(portal_on_tryton, tryton, nordwerk_sales):
    sync.pull_purchases()
    lines = list(PurchaseOrder.objects.get(number="PO-7001").lines.order_by("line_number"))
    later = lines[0].requested_date + dt.timedelta(days=5)
    answer(nordwerk_sales, "PO-7001",
           LineResponse(line=lines[0].line_number, action="change", promised_date=later),
           LineResponse(line=lines[1].line_number, action="change", quantity=lines[1].quantity - 10),
           *[LineResponse(line=line.line_number, action="accept") for line in lines[2:]])
    assert deliver_all() == ["delivered"]
    snapshot = {line["id"]: line for line in tryton.client().purchase_snapshot("PO-7001")["lines"]}
    assert snapshot[lines[0].line_number]["planned_dates"] == [later]
    assert snapshot[lines[1].line_number]["quantity"] == lines[1].quantity - 10
    revision = tryton.client().purchase_snapshot("PO-7001")["revision"]
    # The same event again (a redelivery after a lost answer) changes nothing in Tryton.
    message = OutboxMessage.objects.get(destination="erp", aggregate="PO-7001")
    assert sync.TrytonConnector(sync.client()).send(message.envelope()).delivered
    assert tryton.client().purchase_snapshot("PO-7001")["revision"] == revision
    # The amended purchase comes back as revision 2 and adopts the commitment: nothing to answer again.
    assert sync.pull_purchases().updated == 1
    po = PurchaseOrder.objects.get(number="PO-7001")
    assert po.revision == 2 and po.status == PurchaseOrder.Status.ACKNOWLEDGED


def test_a_change_tryton_refuses_is_a_dead_letter_with_its_message(portal_on_tryton, tryton, alpenguss_sales, admin_user):
    sync.pull_purchases()
    po = PurchaseOrder.objects.filter(supplier__code="ALPENGUSS").order_by("number").first()
    line = po.lines.order_by("line_number").first()
    tryton.demo("receive", "--purchase", po.number, "--line", str(line.line_number), "--quantity", str(line.quantity - 5))
    answer(alpenguss_sales, po.number, *[
        LineResponse(line=other.line_number, action="change", quantity=Decimal("10")) if other == line
        else LineResponse(line=other.line_number, action="accept") for other in po.lines.all()])
    # Outside tolerance: a buyer approves the smaller quantity, which Tryton then refuses.
    case = ExceptionCase.objects.get(kind="proposal_outside_tolerance")
    services.exception_case_decide(case_id=case.pk, approve=True, comment="", actor=Actor.for_user(admin_user, channel="admin"))
    assert deliver_all() == ["delivered", "dead"]  # the accepted lines, then the approved change
    case = ExceptionCase.objects.get(kind="delivery_failed", status="open")
    assert "Tryton" in case.details["error"] and "received" in case.details["error"]
    assert case.purchase_order == po


def test_receipts_are_pulled_once(portal_on_tryton, tryton):
    sync.pull_purchases()
    tryton.demo("receive", "--purchase", "PO-7003")
    report = sync.pull_receipts()
    assert report.created >= 1 and not report.errors
    receipts = Receipt.objects.filter(purchase_order__number="PO-7003")
    assert receipts.count() == report.created
    received = {rl.order_line.line_number: rl.quantity for r in receipts for rl in r.lines.all()}
    ordered = {line.line_number: line.quantity for line in PurchaseOrder.objects.get(number="PO-7003").lines.all()}
    assert received == ordered
    SyncCursor.objects.filter(name=sync.RECEIPTS_CURSOR).update(value="")  # forget the mark: everything again
    assert sync.pull_receipts().created == 0 and receipts.count() == report.created


def test_an_unreachable_tryton_is_retried(portal_on_tryton, tryton, nordwerk_sales):
    sync.pull_purchases()
    line = PurchaseOrder.objects.get(number="PO-7001").lines.first()
    answer(nordwerk_sales, "PO-7001", LineResponse(line=line.line_number, action="accept"))
    tryton.stop()
    assert deliver_all() == ["retry"]
    assert "Tryton" in OutboxMessage.objects.get(destination="erp").last_error


def test_reconciliation_lists_drift_without_overwriting_and_resolves_it_when_fixed(portal_on_tryton, tryton, nordwerk_sales):
    from django.core.management import call_command

    from erp_bridge.models import Drift
    from erp_bridge.reconcile import reconcile

    sync.pull_purchases()
    assert reconcile().differences == []
    po = PurchaseOrder.objects.get(number="PO-7001")
    lines = list(po.lines.order_by("line_number"))
    answer(nordwerk_sales, "PO-7001", *[LineResponse(line=line.line_number, action="accept") for line in lines])
    # In flight: the decided event is not delivered yet, so the order is skipped, not reported.
    assert "PO-7001" in reconcile().skipped
    deliver_all()
    # Someone moves a date in Tryton by hand, and goods arrive that the portal has not pulled yet.
    moved = lines[0].requested_date + dt.timedelta(days=9)
    tryton.client().promise_dates("PO-7001", {lines[0].line_number: moved})
    tryton.demo("receive", "--purchase", "PO-7001", "--line", str(lines[1].line_number))
    report = reconcile(numbers=["PO-7001"])
    found = {(d.line, d.field): (d.portal_value, d.erp_value) for d in report.differences}
    assert found == {
        (lines[0].line_number, "committed_date"): (lines[0].requested_date.isoformat(), moved.isoformat()),
        (lines[1].line_number, "received_quantity"): ("0", decimal_text(lines[1].quantity)),
    }
    assert Drift.objects.filter(status="open").count() == 2
    # Nothing was overwritten in the portal.
    lines[0].refresh_from_db()
    assert lines[0].confirmed_date == lines[0].requested_date
    # A second run refreshes the same drift instead of adding rows.
    reconcile(numbers=["PO-7001"])
    assert Drift.objects.count() == 2
    # Fixed: the receipt is pulled and the date put back; the drift resolves.
    sync.pull_receipts()
    tryton.client().promise_dates("PO-7001", {lines[0].line_number: lines[0].requested_date})
    call_command("reconcile", "--po", "PO-7001", "--fail-on-drift")
    assert set(Drift.objects.values_list("status", flat=True)) == {"resolved"}


def test_reconcile_command_without_a_readable_erp_says_so(db):
    from django.core.management import CommandError, call_command

    with pytest.raises(CommandError, match="TRYTON_URL"):
        call_command("reconcile")


def test_a_submitted_shipment_becomes_a_draft_supplier_shipment_and_cancelling_withdraws_it(
    portal_on_tryton, tryton, nordwerk_sales, nordwerk, settings
):
    from collaboration.documents import parse_shipment

    settings.GS1_COMPANY_PREFIX = "4012345"
    sync.pull_purchases()
    lines = list(PurchaseOrder.objects.get(number="PO-7001").lines.order_by("line_number"))
    answer(nordwerk_sales, "PO-7001", *[LineResponse(line=line.line_number, action="accept") for line in lines])
    assert deliver_all() == ["delivered"]
    shipper = Actor.for_user(nordwerk_sales, channel="portal")
    arrival = dt.date.today() + dt.timedelta(days=10)
    services.shipment_submit(actor=shipper, document=parse_shipment({
        "number": "ASN-77", "ship_to": "PLANT-1", "despatch_date": dt.date.today().isoformat(),
        "expected_arrival": arrival.isoformat(),
        "lines": [{"line": n + 1, "purchase_order": "PO-7001", "order_line": line.line_number, "quantity": str(line.quantity)}
                  for n, line in enumerate(lines[:2])],
    }))
    assert deliver_all() == ["delivered"]
    found = tryton.client()._search("stock.shipment.in", [("reference", "=", "ASN-77")],
                                    ["state", "planned_date", "incoming_moves"])
    assert len(found) == 1 and found[0]["state"] == "draft" and found[0]["planned_date"] == arrival
    assert len(found[0]["incoming_moves"]) == 2
    SyncCursor.objects.filter(name=sync.PURCHASES_CURSOR).update(value="")  # read every purchase again
    # The shipment's dates do not make the order look changed (only FOUNDRY-X stays unknown).
    assert not [error for error in sync.pull_purchases().errors if "PO-7001" in error]
    services.shipment_cancel(number="ASN-77", supplier_id=nordwerk.pk, actor=shipper)
    assert deliver_all() == ["delivered"]
    found = tryton.client()._search("stock.shipment.in", [("reference", "=", "ASN-77")], ["state", "incoming_moves"])
    assert [(s["state"], s["incoming_moves"]) for s in found] == [("cancelled", [])]


def test_goods_received_in_tryton_are_matched_to_the_asn(portal_on_tryton, tryton, alpenguss_sales, settings):
    from collaboration.documents import parse_shipment

    settings.GS1_COMPANY_PREFIX = "4012345"
    sync.pull_purchases()
    lines = list(PurchaseOrder.objects.get(number="PO-7003").lines.order_by("line_number"))
    answer(alpenguss_sales, "PO-7003", *[LineResponse(line=line.line_number, action="accept") for line in lines])
    shipment = services.shipment_submit(actor=Actor.for_user(alpenguss_sales, channel="portal"), document=parse_shipment({
        "number": "ASN-78", "ship_to": "PLANT-1", "despatch_date": dt.date.today().isoformat(),
        "expected_arrival": dt.date.today().isoformat(),
        "lines": [{"line": n + 1, "purchase_order": "PO-7003", "order_line": line.line_number, "quantity": str(line.quantity)}
                  for n, line in enumerate(lines)],
    }))
    assert deliver_all() == ["delivered", "delivered"]
    tryton.demo("receive", "--asn", "ASN-78")  # the dock receives the supplier shipment the ASN filed
    assert sync.pull_receipts().created == len(lines)
    shipment.refresh_from_db()
    assert shipment.receipt_status == "received"
    assert [line.received_quantity for line in shipment.lines.all()] == [line.quantity for line in lines]
    assert not ExceptionCase.objects.filter(kind__startswith="receipt_").exists()


def test_quality_hold_decisions_are_acknowledged_without_effect_and_unknown_events_refused():
    connector = sync.TrytonConnector(tryton=None)  # neither event may reach Tryton
    released = connector.send({"type": "quality.hold_released", "aggregate": "PO-7001", "payload": {}})
    assert released.delivered and not released.error
    unknown = connector.send({"type": "forecast.commitment", "aggregate": "PO-7001", "payload": {}})
    assert (unknown.delivered, unknown.permanent) == (False, True) and "no mapping" in unknown.error


def test_a_submitted_invoice_becomes_a_draft_supplier_invoice_once(portal_on_tryton, tryton, nordwerk_sales, nordwerk):
    from collaboration.documents import parse_invoice

    sync.pull_purchases()
    lines = list(PurchaseOrder.objects.get(number="PO-7001").lines.order_by("line_number"))
    answer(nordwerk_sales, "PO-7001", *[LineResponse(line=line.line_number, action="accept") for line in lines])
    assert deliver_all() == ["delivered"]
    services.invoice_submit(supplier_id=nordwerk.pk, actor=Actor.for_user(nordwerk_sales, channel="portal"),
                            document=parse_invoice({
                                "number": "RE-2027-0042", "invoice_date": dt.date.today().isoformat(), "currency": "EUR",
                                "lines": [{"purchase_order": "PO-7001", "line": line.line_number, "quantity": "10",
                                           "unit_price": str(line.unit_price), "reason": "advance invoice"}
                                          for line in lines[:2]]}))
    assert deliver_all() == ["delivered"], list(OutboxMessage.objects.values_list("type", "last_error"))
    client = tryton.client()
    [invoice] = client._search("account.invoice", [("reference", "=", "RE-2027-0042")],
                               ["type", "state", "party.code", "lines", "untaxed_amount"])
    assert (invoice["type"], invoice["state"], invoice["party"]["code"]) == ("in", "draft", "NORDWERK")
    invoice_lines = client._search("account.invoice.line", [("invoice", "=", invoice["id"])], ["origin", "quantity"])
    assert sorted(line["origin"] for line in invoice_lines) == sorted(f"purchase.line,{line.line_number}" for line in lines[:2])
    assert invoice["untaxed_amount"] == sum(10 * line.unit_price for line in lines[:2])
    # The same event again (a replay) files nothing new.
    again = sync.TrytonConnector(client).send(OutboxMessage.objects.get(type="invoice.submitted").envelope())
    assert again.delivered and len(client._search("account.invoice", [("reference", "=", "RE-2027-0042")], ["id"])) == 1
