"""The planning feed: every decided commitment and every slip, over HTTP or as CSV rows; late
commitments flagged on the order page and in the admin."""
import csv
from datetime import date, timedelta
from decimal import Decimal

import pytest

from collaboration import services
from collaboration.actors import Actor
from collaboration.models import ExceptionCase, TolerancePolicy
from collaboration.services import LineResponse, ScheduleInput
from erp_bridge import relay
from erp_bridge.models import OutboxMessage
from tests.factories import create_purchase_order

REQUESTED = date.today() + timedelta(days=30)  # line 10 of the order; line 20 is a day later (future: past dates are refused)


@pytest.fixture
def decided(nordwerk, nordwerk_sales, admin_user):
    """PO-7001: line 10 split with its second delivery 4 days late; line 20 accepted; line 30
    rejected (a buyer approves the rejection)."""
    create_purchase_order("PO-7001", supplier=nordwerk, line_count=3, requested=REQUESTED)
    TolerancePolicy.objects.create(supplier=nordwerk, days_later=10)
    actor = Actor.for_user(nordwerk_sales, channel="portal")
    services.acknowledgement_submit(number="PO-7001", revision=1, actor=actor, responses=[
        LineResponse(line=10, action="change", quantity=Decimal("400"), schedule=(
            ScheduleInput(Decimal("100"), REQUESTED), ScheduleInput(Decimal("300"), REQUESTED + timedelta(days=4)))),
        LineResponse(line=20, action="accept"),
        LineResponse(line=30, action="reject", reason_code="capacity"),
    ])
    case = ExceptionCase.objects.get(kind="line_rejected")
    services.exception_case_decide(case_id=case.pk, approve=True, comment="", actor=Actor.for_user(admin_user, channel="admin"))
    return OutboxMessage.objects.filter(destination="planning").order_by("sequence")


def test_every_decision_sends_commitments_and_late_ones_a_slip(decided):
    commitment, slip, rejection = decided
    assert (commitment.type, slip.type, rejection.type) == ("commitment.decided", "commitment.slipped", "commitment.decided")
    lines = {line["line"]: line for line in commitment.payload["lines"] + rejection.payload["lines"]}
    assert [lines[10]["days_late"], lines[20]["days_late"], lines[30]["days_late"]] == [4, 0, 0]
    assert lines[10]["committed"] == [{"quantity": "100", "date": str(REQUESTED)},
                                    {"quantity": "300", "date": str(REQUESTED + timedelta(days=4))}]
    assert lines[30]["decision"] == "rejected" and lines[30]["committed"] == []
    assert [line["line"] for line in slip.payload["lines"]] == [10]


def test_without_a_webhook_the_planning_feed_is_a_csv_file(decided, settings):
    for message in decided:
        assert relay.deliver(message.id).status == "delivered"
    with open(settings.ERP_FILE_DIR / "planning-commitments.csv", newline="") as feed:
        rows = list(csv.DictReader(feed))
    assert [(r["event_type"], r["line"], r["committed_date"], r["committed_quantity"], r["days_late"]) for r in rows] == [
        ("commitment.decided", "10", str(REQUESTED), "100", "4"),
        ("commitment.decided", "10", str(REQUESTED + timedelta(days=4)), "300", "4"),
        ("commitment.decided", "20", str(REQUESTED + timedelta(days=1)), "400", "0"),
        ("commitment.slipped", "10", str(REQUESTED), "100", "4"),
        ("commitment.slipped", "10", str(REQUESTED + timedelta(days=4)), "300", "4"),
        ("commitment.decided", "30", "", "", "0"),
    ]
    assert {r["event_id"] for r in rows} == {str(m.id) for m in decided}
    assert all(r["purchase_order"] == "PO-7001" and r["supplier"] == "NORDWERK" for r in rows)


def test_with_a_webhook_the_planning_system_gets_signed_json(decided, settings, erp_receiver):
    settings.PLANNING_WEBHOOK_URL = erp_receiver.url
    settings.PLANNING_WEBHOOK_SECRET = erp_receiver.secret
    for message in decided:
        relay.deliver(message.id)
    assert [erp_receiver.applied[key]["type"] for key in erp_receiver.order] == [
        "commitment.decided", "commitment.slipped", "commitment.decided"]
    assert erp_receiver.bad_signatures == 0


def test_late_commitment_is_flagged_on_the_order_page_and_in_the_admin(decided, client, nordwerk_sales, admin_client):
    client.force_login(nordwerk_sales)
    page = client.get("/purchase-orders/PO-7001/").content.decode()
    assert 'data-testid="late-alert"' in page and "1 line committed later than requested" in page
    assert "Committed 4 days after the requested date" in page
    late = admin_client.get("/admin/collaboration/purchaseorder/?commitment=late").content.decode()
    assert "PO-7001" in late


def test_on_time_orders_carry_no_alert(nordwerk, nordwerk_sales, client, admin_client):
    create_purchase_order("PO-7002", supplier=nordwerk)
    services.acknowledgement_submit(number="PO-7002", revision=1, actor=Actor.for_user(nordwerk_sales, channel="portal"),
                                    responses=[LineResponse(line=10, action="accept")])
    assert not OutboxMessage.objects.filter(type="commitment.slipped").exists()
    client.force_login(nordwerk_sales)
    assert "late-alert" not in client.get("/purchase-orders/PO-7002/").content.decode()
    assert "PO-7002" not in admin_client.get("/admin/collaboration/purchaseorder/?commitment=late").content.decode()


def test_forecast_commitments_reach_the_planning_csv_feed(nordwerk, nordwerk_sales, settings):
    from collaboration.services import CommitmentInput
    from tests.factories import create_forecast

    forecast = create_forecast()
    services.forecast_commit(supplier_id=nordwerk.pk, item=forecast.item, ship_to=forecast.ship_to, version=1,
                             actor=Actor.for_user(nordwerk_sales, channel="portal"),
                             commitments=[CommitmentInput(date(2027, 1, 4), Decimal("350"), "Tooling change")])
    message = OutboxMessage.objects.get(type="forecast.commitment")
    assert relay.deliver(message.id).status == "delivered"
    with open(settings.ERP_FILE_DIR / "planning-forecast-commitments.csv", newline="") as feed:
        rows = list(csv.DictReader(feed))
    assert [(r["item"], r["ship_to"], r["version"], r["bucket_start"], r["bucket_end"], r["zone"], r["forecast_quantity"],
             r["committed_quantity"], r["reason"]) for r in rows] == [
        ("BRK-2201", "PLANT-1", "1", "2027-01-04", "2027-01-10", "firm", "400", "350", "Tooling change")]
    assert rows[0]["event_id"] == str(message.id)
