"""Shipments through the supplier API: the same service as every channel, problems with codes."""
import json

import pytest
from rest_framework.test import APIClient

from collaboration import services
from collaboration.actors import Actor
from collaboration.models import Shipment
from erp_bridge.models import OutboxMessage
from tests.collaboration.test_shipments import asn
from tests.factories import MembershipFactory, UserFactory, create_purchase_order


@pytest.fixture
def accepted(nordwerk, nordwerk_sales, settings):
    settings.GS1_COMPANY_PREFIX = "4012345"
    for number in ("PO-1", "PO-2"):
        create_purchase_order(number, supplier=nordwerk, line_count=2)
        services.acknowledgement_accept_remaining(number=number, actor=Actor.for_user(nordwerk_sales, channel="portal"))


@pytest.fixture
def api(nordwerk_sales):
    client = APIClient()
    client.force_login(nordwerk_sales)
    return client


def put(client, number, data, **headers):
    return client.put(f"/api/v1/shipments/{number}", data=json.dumps(data), content_type="application/json", **headers)


def test_draft_then_submit_then_read_and_cancel(api, accepted):
    draft = put(api, "ASN-1", asn())
    assert draft.status_code == 201, draft.content
    body = draft.json()
    assert body["status"] == "draft" and body["revision"] == 0
    assert [p["reference"] for p in body["packages"]] == ["P1", "C1", "C2"]
    assert body["packages"][1]["parent"] == "P1" and len(body["packages"][0]["sscc"]) == 18
    submitted = put(api, "ASN-1", {**asn(), "status": "submitted"})
    assert submitted.status_code == 200 and submitted.json()["status"] == "submitted"
    assert OutboxMessage.objects.filter(type="shipment.submitted").count() == 2
    detail = api.get("/api/v1/shipments/ASN-1").json()
    assert [(l["purchase_order"], l["order_line"], l["quantity"]) for l in detail["lines"]] == [
        ("PO-1", 10, "400.0000"), ("PO-2", 10, "100.0000")]
    assert [row["number"] for row in api.get("/api/v1/shipments/").json()["results"]] == ["ASN-1"]
    cancelled = api.post("/api/v1/shipments/ASN-1/cancel")
    assert cancelled.status_code == 200 and cancelled.json()["status"] == "cancelled"
    again = put(api, "ASN-1", asn())
    assert again.status_code == 409 and again.json()["code"] == "shipment_closed"


@pytest.mark.parametrize(("document", "status_code", "code"), [
    (asn(lines=[{"line": 1, "purchase_order": "PO-1", "order_line": 10, "quantity": "999"}], packages=[]), 400, "invalid_document"),
    (asn(number="OTHER"), 400, "invalid_document"),
    ({**asn(), "status": "shipped"}, 400, "invalid_document"),
    (asn(expected_arrival="2020-01-01"), 400, "invalid_document"),
    (["not", "an", "object"], 400, "invalid_document"),
])
def test_bad_shipments_are_refused_and_store_nothing(api, accepted, document, status_code, code):
    response = put(api, "ASN-1", document)
    assert response.status_code == status_code, response.content
    assert response.json()["code"] == code
    assert not Shipment.objects.exists()


def test_another_suppliers_shipment_is_404_and_a_quality_user_is_403(api, accepted, nordwerk, alpenguss_sales, client):
    put(api, "ASN-1", asn())
    other = APIClient()
    other.force_login(alpenguss_sales)
    assert other.get("/api/v1/shipments/ASN-1").status_code == 404
    assert other.post("/api/v1/shipments/ASN-1/cancel").status_code == 404
    quality = UserFactory(username="qa@nordwerk.example")
    MembershipFactory(user=quality, supplier=nordwerk, role="quality")
    qa = APIClient()
    qa.force_login(quality)
    response = put(qa, "ASN-2", asn(number="ASN-2"))
    assert response.status_code == 403 and response.json()["code"] == "permission_denied"
    assert Shipment.objects.get().status == "draft"


def test_tokens_need_the_ship_scope(accepted, nordwerk, nordwerk_sales):
    from collaboration.models import SupplierApiToken
    from portal.api_tokens import new_token

    def token(scopes):
        raw, prefix, key_hash = new_token("sup")
        SupplierApiToken.objects.create(supplier=nordwerk, name=f"t{len(scopes)}", prefix=prefix, key_hash=key_hash,
                                        scopes=scopes)
        client = APIClient()
        client.credentials(HTTP_AUTHORIZATION=f"Bearer {raw}")
        return client

    assert put(token(["read"]), "ASN-1", asn()).status_code == 403
    assert put(token(["read", "ship"]), "ASN-1", asn()).status_code == 201
