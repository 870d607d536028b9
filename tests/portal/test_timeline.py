"""A PO's traceability timeline: the ERP's revision, the ORDERS sent by EDIFACT, the supplier's
answers through EDI (with the interchange), the API and the portal, the buyer's decision, each event
with its delivery attempts and the ERP's answers, the receipt and the quality incident — in order."""
from __future__ import annotations

import json

import pytest
from django.urls import reverse

from collaboration import services
from collaboration.actors import Actor
from collaboration.documents import parse_quality_incident, parse_receipt
from collaboration.models import ExceptionCase
from edi.inbound import receive_file
from edi.models import Interchange
from erp_bridge import relay
from erp_bridge.models import OutboxMessage
from portal import correlation
from tests.edi.conftest import interchange, ordrsp, partner  # noqa: F401 (fixture)
from tests.erp_bridge.conftest import http_erp  # noqa: F401 (fixture)
from tests.factories import MembershipFactory, UserFactory, po_document
from tests.support.erp_receiver import Scripted

ERP = Actor.system("erp-test", channel="erp")


@pytest.fixture
def history(client, erp_client, partner, nordwerk, nordwerk_sales, http_erp, settings):  # noqa: F811
    """PO-1 with three lines, each answered through another channel, decided, delivered, received."""
    document = po_document("PO-1", line_count=3, buyer="P-12")
    assert erp_client.put("/api/v1/erp/purchase-orders/PO-1", document, format="json",
                          headers={"X-Correlation-ID": "erp-push-1"}).status_code in (200, 201)
    # line 10 by EDIFACT: less quantity, outside tolerance
    [result] = receive_file(interchange(ordrsp("PO-1", "4", [("LIN", ["10", "3"]), ("QTY", [("21", "350", "PCE")])])),
                            file_name="ordrsp.edi")
    assert result.status == "accepted"
    # line 20 through the API
    admin = MembershipFactory(user=UserFactory(username="admin@nordwerk.example"), supplier=nordwerk, role="admin").user
    _, raw = services.api_token_create(supplier=nordwerk, name="ERP link", scopes=["read", "acknowledge", "ship"], expires_at=None,
                                       actor=Actor.for_user(admin, channel="portal"))
    response = client.post("/api/v1/purchase-orders/PO-1/acknowledgements/", content_type="application/json",
                           data=json.dumps({"revision": 1, "lines": [{"line": 20, "action": "accept"}]}),
                           headers={"Authorization": f"Bearer {raw}"})
    assert response.status_code == 201, response.content
    # line 30 in the portal
    client.force_login(nordwerk_sales)
    assert client.post(reverse("collaboration:acknowledgement-submit", args=["PO-1"]),
                       {"revision": 1, "accept_remaining": "1"}).status_code == 302
    client.logout()
    # the buyer approves line 10's proposal (as the admin's request would, under an id of its own)
    buyer = UserFactory(username="buyer", is_staff=True, is_superuser=True)
    case = ExceptionCase.objects.get(kind="proposal_outside_tolerance")
    with correlation.bound():
        services.exception_case_decide(case_id=case.pk, approve=True, comment="fine this once",
                                       actor=Actor.for_user(buyer, channel="admin"))
    # line 20 shipped, announced through the API
    settings.GS1_COMPANY_PREFIX = "4012345"
    response = client.put("/api/v1/shipments/ASN-1", content_type="application/json", headers={"Authorization": f"Bearer {raw}"},
                          data=json.dumps({"number": "ASN-1", "ship_to": "PLANT-1", "despatch_date": "2026-11-06",
                                           "expected_arrival": "2026-11-08", "status": "submitted",
                                           "lines": [{"line": 1, "purchase_order": "PO-1", "order_line": 20, "quantity": "400"}],
                                           "packages": [{"reference": "P1", "kind": "pallet", "contents": [{"line": 1, "quantity": "400"}]}]}))
    assert response.status_code == 201, response.content
    # the ERP is restarting at the first delivery, then takes everything
    http_erp.fail_next(Scripted(503, body="ERP restarting"))
    for message in OutboxMessage.objects.filter(aggregate="PO-1", destination="erp").order_by("sequence"):
        relay.deliver(message.id)
    for message in OutboxMessage.objects.filter(aggregate="PO-1", destination="erp", status="pending").order_by("sequence"):
        OutboxMessage.objects.filter(pk=message.pk).update(next_attempt_at=message.occurred_at)
        relay.deliver(message.id)
    services.receipt_record(actor=ERP, document=parse_receipt(
        {"reference": "GR-1", "purchase_order": "PO-1", "received_on": "2026-11-09", "lines": [{"line": 20, "quantity": "400"}]}))
    services.quality_incident_open(actor=ERP, document=parse_quality_incident(
        {"reference": "QI-1", "supplier": "NORDWERK", "purchase_order": "PO-1", "item": "BRK-2201", "quantity_on_hold": "20",
         "uom": "PCE", "description": "Burrs on the bore"}))
    client.force_login(buyer)
    return client


def test_the_timeline_shows_every_channel_in_order(history):
    response = history.get(reverse("purchase-order-timeline", args=["PO-1"]))
    assert response.status_code == 200
    entries = response.context["entries"]
    steps = [(e.source, e.title, e.channel) for e in entries if e.source != "delivery"]
    assert steps == [
        ("erp", "Order received from the ERP", "ERP"),
        ("edi", "ORDERS sent to the supplier by EDIFACT", "EDI"),
        ("supplier", "Acknowledgement submitted", "EDI"),
        ("exception", "Exception opened: Proposal outside tolerance", ""),  # what the answer caused, after it
        ("supplier", "Acknowledgement submitted", "API"),
        ("supplier", "Acknowledgement submitted", "Portal"),
        ("buyer", "Buyer approved the proposal", "Admin"),
        ("supplier", "Shipment notice submitted ASN-1", "API"),
        ("receipt", "Goods received (ERP receipt)", "ERP"),  # as announced: no case
        ("quality", "Quality incident opened", "ERP"),
    ]
    # Each event to the ERP follows the action it came from (same correlation id), the decided line after the buyer.
    titles = [e.title for e in entries]
    api, portal, buyer = (titles.index("Acknowledgement submitted", 3), titles.index("Acknowledgement submitted", 5),
                          titles.index("Buyer approved the proposal"))
    assert titles[api + 1].startswith("Event acknowledgement.decided #1 to erp")
    assert titles[portal + 1].startswith("Event acknowledgement.decided #2 to erp")
    assert titles[buyer + 1].startswith("Event acknowledgement.decided #3 to erp")
    # The ERP push's id reached the ORDERS; the EDI answer links its interchange.
    orders_entry, edi_answer = entries[1], entries[2]
    assert orders_entry.correlation_id == "erp-push-1" and entries[0].correlation_id == "erp-push-1"
    inbound = Interchange.objects.get(direction="in")
    assert edi_answer.links == [(f"Interchange {inbound.control_ref} from {inbound.sender}",
                                 reverse("admin:edi_interchange_change", args=[inbound.pk]))]
    assert edi_answer.correlation_id == inbound.correlation_id


def test_each_event_shows_its_delivery_attempts_and_the_erps_answers(history):
    entries = history.get(reverse("purchase-order-timeline", args=["PO-1"])).context["entries"]
    deliveries = [e for e in entries if e.source == "delivery" and e.title.endswith("to erp: delivered")]
    assert [e.title.split(" to ")[0] for e in deliveries] == [
        *(f"Event acknowledgement.decided #{n}" for n in (1, 2, 3)), "Event shipment.submitted #4"]
    first = deliveries[0]
    assert [(a.outcome, a.status_code) for a in first.attempts] == [("retry", 503), ("delivered", 200)]
    assert [(a.outcome, a.status_code) for a in deliveries[1].attempts] == [("delivered", 200)]
    assert first.attempts[0].error == "ERP restarting"
    html = history.get(reverse("purchase-order-timeline", args=["PO-1"])).content.decode()
    assert "ERP restarting" in html and "correlation id <code>erp-push-1</code>" in html


def test_the_admin_links_the_timeline(history):
    from collaboration.models import PurchaseOrder

    po = PurchaseOrder.objects.get(number="PO-1")
    page = history.get(reverse("admin:collaboration_purchaseorder_change", args=[po.pk])).content.decode()
    assert reverse("purchase-order-timeline", args=["PO-1"]) in page
    assert reverse("control-tower") in history.get(reverse("admin:index")).content.decode()


def test_an_unknown_order_has_no_timeline(client, db):
    client.force_login(UserFactory(username="buyer", is_staff=True))
    assert client.get(reverse("purchase-order-timeline", args=["PO-404"])).status_code == 404
