"""PUT /api/v1/erp/purchase-orders/{number}: ERP token auth, revision rules, problems with codes."""
import json

import pytest
from rest_framework.test import APIClient

from collaboration.models import PurchaseOrder
from erp_bridge.models import ErpApiToken
from erp_bridge.tokens import erp_token_create, erp_token_revoke
from tests.factories import po_document


def put(client, number, data):
    return client.put(f"/api/v1/erp/purchase-orders/{number}", data=json.dumps(data), content_type="application/json")


def test_create_then_repeat_then_revise(erp_client, nordwerk):
    first = put(erp_client, "PO-7001", po_document())
    assert first.status_code == 201, first.content
    assert first.json() == {"number": "PO-7001", "revision": 1, "outcome": "created"}
    repeat = put(erp_client, "PO-7001", po_document())
    assert repeat.status_code == 200
    assert repeat.json()["outcome"] == "unchanged"
    revised = put(erp_client, "PO-7001", po_document(revision=2, line_count=2))
    assert revised.status_code == 200
    assert revised.json() == {"number": "PO-7001", "revision": 2, "outcome": "updated"}
    assert PurchaseOrder.objects.get().revisions.count() == 2


def test_number_may_be_left_out_of_the_body(erp_client, nordwerk):
    data = po_document()
    del data["number"]
    assert put(erp_client, "PO-7001", data).status_code == 201


def test_lower_revision_is_409_problem(erp_client, nordwerk):
    put(erp_client, "PO-7001", po_document(revision=2))
    response = put(erp_client, "PO-7001", po_document(revision=1))
    assert response.status_code == 409
    assert response["Content-Type"] == "application/problem+json"
    assert response.json()["code"] == "stale_revision"
    assert PurchaseOrder.objects.get().revision == 2


def test_same_revision_other_content_is_409(erp_client, nordwerk):
    put(erp_client, "PO-7001", po_document())
    response = put(erp_client, "PO-7001", po_document(line_count=2))
    assert response.status_code == 409
    assert response.json()["code"] == "revision_content_conflict"
    assert PurchaseOrder.objects.get().lines.count() == 1


def test_unknown_supplier_is_422(erp_client, db):
    response = put(erp_client, "PO-7001", po_document(supplier="NOBODY"))
    assert response.status_code == 422
    body = response.json()
    assert body["code"] == "unknown_supplier"
    assert "NOBODY" in body["title"]
    assert not PurchaseOrder.objects.exists()


def test_malformed_document_is_400_with_field_errors(erp_client, nordwerk):
    data = po_document(line_count=2)
    data["lines"][1]["quantity"] = "-3"
    data["currency"] = "eu"
    response = put(erp_client, "PO-7001", data)
    assert response.status_code == 400
    body = response.json()
    assert body["code"] == "invalid_document"
    assert "currency" in body["errors"]
    assert "quantity" in body["errors"]["lines"]["1"]
    assert not PurchaseOrder.objects.exists()


def test_body_that_is_not_json_is_400(erp_client, nordwerk):
    response = erp_client.put("/api/v1/erp/purchase-orders/PO-7001", data="{not json", content_type="application/json")
    assert response.status_code == 400
    assert response.json()["code"] == "malformed_json"


def test_number_in_body_must_match_url(erp_client, nordwerk):
    response = put(erp_client, "PO-9999", po_document("PO-7001"))
    assert response.status_code == 400
    assert "number" in response.json()["errors"]
    assert not PurchaseOrder.objects.exists()


def test_without_token_is_401(db, nordwerk):
    response = put(APIClient(), "PO-7001", po_document())
    assert response.status_code == 401
    assert response.json()["code"] == "not_authenticated"


def test_revoked_token_is_refused_at_once(erp_client, nordwerk):
    erp_token_revoke(token=erp_client.token)
    response = put(erp_client, "PO-7001", po_document())
    assert response.status_code == 401
    assert response.json()["code"] == "authentication_failed"


def test_supplier_session_cannot_use_the_erp_api(client, nordwerk_sales, nordwerk):
    client.force_login(nordwerk_sales)
    response = client.put("/api/v1/erp/purchase-orders/PO-7001", data=json.dumps(po_document()), content_type="application/json")
    assert response.status_code in (401, 403)
    assert not PurchaseOrder.objects.exists()


def test_token_is_stored_hashed_and_records_last_use(erp_client, nordwerk):
    token = ErpApiToken.objects.get()
    raw = erp_client._credentials["HTTP_AUTHORIZATION"].split()[1]
    assert raw not in (token.key_hash, token.prefix) and len(token.key_hash) == 64
    assert token.last_used_at is None
    put(erp_client, "PO-7001", po_document())
    token.refresh_from_db()
    assert token.last_used_at is not None


def test_idempotency_key_on_erp_push_replays_the_first_answer(erp_client, nordwerk):
    headers = {"HTTP_IDEMPOTENCY_KEY": "erp-msg-4711"}
    first = erp_client.put("/api/v1/erp/purchase-orders/PO-7001", data=json.dumps(po_document()),
                           content_type="application/json", **headers)
    again = erp_client.put("/api/v1/erp/purchase-orders/PO-7001", data=json.dumps(po_document()),
                           content_type="application/json", **headers)
    assert first.status_code == again.status_code == 201
    assert again["Idempotent-Replayed"] == "true" and again.json() == first.json()
    other = erp_client.put("/api/v1/erp/purchase-orders/PO-7001", data=json.dumps(po_document(revision=2)),
                           content_type="application/json", **headers)
    assert other.status_code == 422 and other.json()["code"] == "idempotency_key_reused"
    assert PurchaseOrder.objects.get().revision == 1
