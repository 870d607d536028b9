"""Supplier API v1 with tokens: scopes, revocation, acknowledgements, Idempotency-Key, throttling, cursors."""
import json
from datetime import timedelta

import pytest
from django.urls import reverse
from django.utils import timezone
from rest_framework.test import APIClient

from collaboration import services
from collaboration.actors import Actor
from collaboration.errors import PermissionDenied
from collaboration.models import Acknowledgement, ExceptionCase, Membership, SupplierApiToken
from erp_bridge.models import OutboxMessage
from portal.models import IdempotencyRecord
from tests.factories import MembershipFactory, UserFactory, create_purchase_order

LATER = (timezone.localdate() + timedelta(days=70)).isoformat()


@pytest.fixture
def nordwerk_admin(nordwerk):
    return MembershipFactory(user=UserFactory(username="admin@nordwerk.example"), supplier=nordwerk, role="admin").user


def make_token(supplier, admin, scopes=("read", "acknowledge"), **kwargs):
    return services.api_token_create(supplier=supplier, name="ERP link", scopes=list(scopes), expires_at=kwargs.get("expires_at"),
                                     actor=Actor.for_user(admin, channel="portal"))


def client_for(raw: str) -> APIClient:
    client = APIClient()
    client.credentials(HTTP_AUTHORIZATION=f"Bearer {raw}")
    return client


@pytest.fixture
def api(nordwerk, nordwerk_admin):
    create_purchase_order("PO-7001", supplier=nordwerk, line_count=2)
    return client_for(make_token(nordwerk, nordwerk_admin)[1])


def body(revision=1, **line_changes):
    lines = [{"line": 10, "action": "accept"}, {"line": 20, "action": "change", "promised_date": LATER}]
    lines[1].update(line_changes)
    return {"revision": revision, "lines": lines}


def post_ack(client, data, key=None):
    headers = {"HTTP_IDEMPOTENCY_KEY": key} if key else {}
    return client.post("/api/v1/purchase-orders/PO-7001/acknowledgements/", data=json.dumps(data),
                       content_type="application/json", **headers)


def test_token_is_hashed_shown_once_and_only_admins_create_it(nordwerk, nordwerk_admin, nordwerk_sales):
    token, raw = make_token(nordwerk, nordwerk_admin)
    assert raw.startswith("sup_") and raw not in token.key_hash and token.prefix == raw[:10]
    with pytest.raises(PermissionDenied):
        make_token(nordwerk, nordwerk_sales)


def test_submit_acknowledgement_through_the_api(api):
    response = post_ack(api, body())
    assert response.status_code == 201, response.content
    data = response.json()
    assert data["channel"] == "api" and data["status"] == "submitted"
    assert [(l["line"], l["decision"]) for l in data["lines"]] == [(10, "auto_accepted"), (20, "pending")]
    assert ExceptionCase.objects.count() == 1
    assert Acknowledgement.objects.get().actor_label.startswith("api-token:sup_")


def test_a_proposal_through_the_api_keeps_its_reason(api):
    assert post_ack(api, body(reason_code="capacity", reason_text="Furnace relining")).status_code == 201
    proposed = ExceptionCase.objects.get().details["proposed"]
    assert (proposed["reason"], proposed["reason_text"]) == ("capacity", "Furnace relining")


def test_api_errors_are_problems_with_codes_and_change_nothing(api, nordwerk):
    malformed = post_ack(api, {"lines": [{"line": "ten", "action": "accept"}]})
    assert malformed.status_code == 400 and malformed["Content-Type"] == "application/problem+json"
    assert malformed.json()["code"] == "invalid" and "revision" in malformed.json()["errors"]
    bad = post_ack(api, body(quantity="-1"))
    assert bad.status_code == 400 and bad.json()["code"] == "invalid_document"
    assert "quantity" in bad.json()["errors"]["lines"]["20"]
    reason = post_ack(api, body(reason_code="no-such-reason", reason_text="because"))
    assert reason.status_code == 400 and "reason_code" in reason.json()["errors"]["lines"]["20"]
    split = post_ack(api, body(schedule=[{"quantity": "100", "date": LATER}, {"quantity": "100", "date": LATER}]))
    assert split.status_code == 400 and split.json()["code"] == "invalid_document"
    assert "schedule" in split.json()["errors"]["lines"]["20"]
    create_purchase_order("PO-7001", supplier=nordwerk, revision=2, line_count=3)
    stale = post_ack(api, body(revision=1))
    assert stale.status_code == 409 and stale.json()["code"] == "superseded_revision"
    assert not Acknowledgement.objects.exists()


def test_read_only_token_cannot_acknowledge_and_ack_only_token_cannot_read(nordwerk, nordwerk_admin):
    create_purchase_order("PO-7001", supplier=nordwerk, line_count=2)
    reader = client_for(make_token(nordwerk, nordwerk_admin, scopes=["read"])[1])
    assert reader.get("/api/v1/purchase-orders/").status_code == 200
    refused = post_ack(reader, body())
    assert refused.status_code == 403 and refused.json()["code"] == "permission_denied"
    writer = client_for(make_token(nordwerk, nordwerk_admin, scopes=["acknowledge"])[1])
    assert writer.get("/api/v1/purchase-orders/").status_code == 403
    assert not Acknowledgement.objects.exists()


def test_revoked_and_expired_tokens_are_refused_at_once(nordwerk, nordwerk_admin):
    token, raw = make_token(nordwerk, nordwerk_admin)
    client = client_for(raw)
    assert client.get("/api/v1/purchase-orders/").status_code == 200
    services.api_token_revoke(token_id=token.pk, actor=Actor.for_user(nordwerk_admin, channel="portal"))
    assert client.get("/api/v1/purchase-orders/").status_code == 401
    token, raw = make_token(nordwerk, nordwerk_admin, expires_at=timezone.now() + timedelta(days=1))
    SupplierApiToken.objects.filter(pk=token.pk).update(expires_at=timezone.now() - timedelta(seconds=1))
    assert client_for(raw).get("/api/v1/purchase-orders/").json()["code"] == "authentication_failed"


def test_a_token_records_when_it_was_last_used(nordwerk, nordwerk_admin):
    token, raw = make_token(nordwerk, nordwerk_admin)
    assert token.last_used_at is None
    before = timezone.now()
    assert client_for(raw).get("/api/v1/purchase-orders/").status_code == 200
    token.refresh_from_db()
    assert token.last_used_at is not None and token.last_used_at >= before


def test_supplier_and_erp_tokens_do_not_open_each_others_api(nordwerk, nordwerk_admin, erp_client):
    _, raw = make_token(nordwerk, nordwerk_admin, scopes=("read", "acknowledge", "ship", "quality"))
    order = {"number": "PO-1", "revision": 1, "supplier": "NORDWERK", "currency": "EUR", "order_date": "2026-11-02",
             "ship_to": "PLANT-1", "lines": [{"line": 10, "item": "X", "quantity": "1", "uom": "PCE", "unit_price": "1",
                                              "requested_date": "2026-12-01"}]}
    supplier_on_erp = client_for(raw).put("/api/v1/erp/purchase-orders/PO-1", order, format="json")
    assert supplier_on_erp.status_code in (401, 403)
    assert erp_client.get("/api/v1/purchase-orders/").status_code in (401, 403)
    assert not nordwerk.purchase_orders.exists()


def test_token_of_one_supplier_never_sees_another(api, alpenguss):
    create_purchase_order("PO-9001", supplier=alpenguss)
    numbers = [row["number"] for row in api.get("/api/v1/purchase-orders/").json()["results"]]
    assert numbers == ["PO-7001"]
    assert api.get("/api/v1/purchase-orders/PO-9001/").status_code == 404
    assert api.post("/api/v1/purchase-orders/PO-9001/accept/").status_code == 404


def test_same_idempotency_key_and_body_gets_the_same_response_once(api):
    first = post_ack(api, body(), key="ack-7001-1")
    again = post_ack(api, body(), key="ack-7001-1")
    assert first.status_code == again.status_code == 201
    assert again.json() == first.json() and again["Idempotent-Replayed"] == "true"
    assert Acknowledgement.objects.count() == 1 and ExceptionCase.objects.count() == 1
    assert OutboxMessage.objects.filter(destination="erp").count() == 1


def test_same_idempotency_key_with_another_body_is_422(api):
    post_ack(api, body(), key="k-1")
    other = post_ack(api, body(promised_date=(timezone.localdate() + timedelta(days=71)).isoformat()), key="k-1")
    assert other.status_code == 422 and other.json()["code"] == "idempotency_key_reused"
    assert Acknowledgement.objects.count() == 1


def test_client_errors_are_replayed_too_and_keys_are_per_token(api, nordwerk, nordwerk_admin):
    bad = post_ack(api, body(quantity="0"), key="k-2")
    assert post_ack(api, body(quantity="0"), key="k-2").json() == bad.json()
    other_client = client_for(make_token(nordwerk, nordwerk_admin)[1])
    assert post_ack(other_client, body(), key="k-2").status_code == 201
    assert IdempotencyRecord.objects.count() == 2


def test_throttling_per_token_answers_429_with_retry_after(api, settings, nordwerk, nordwerk_admin):
    from django.core.cache import cache

    cache.clear()
    settings.API_THROTTLE_RATE = "3/min"
    statuses = [api.get("/api/v1/purchase-orders/").status_code for _ in range(4)]
    assert statuses == [200, 200, 200, 429]
    limited = api.get("/api/v1/purchase-orders/")
    assert limited.json()["code"] == "throttled" and int(limited["Retry-After"]) > 0
    other = client_for(make_token(nordwerk, nordwerk_admin)[1])
    assert other.get("/api/v1/purchase-orders/").status_code == 200
    cache.clear()


def test_cursor_pagination_walks_every_order_once(nordwerk, nordwerk_admin):
    for n in range(7):
        create_purchase_order(f"PO-{n}", supplier=nordwerk, order_date=f"2026-10-{n % 3 + 1:02d}")
    client = client_for(make_token(nordwerk, nordwerk_admin)[1])
    seen, url = [], "/api/v1/purchase-orders/?page_size=3"
    while url:
        page = client.get(url).json()
        seen += [row["number"] for row in page["results"]]
        url = page["next"]
    assert sorted(seen) == sorted(f"PO-{n}" for n in range(7)) and len(seen) == 7


def test_docs_page_is_served_without_a_cdn(client, nordwerk_sales):
    client.force_login(nordwerk_sales)
    page = client.get(reverse("api-docs")).content.decode()
    assert "swagger-ui" in page and "cdn" not in page.lower()


def test_portal_token_page_creates_shows_once_and_revokes(client, nordwerk, nordwerk_admin, nordwerk_sales):
    client.force_login(nordwerk_sales)
    assert "Only a supplier's admin users" in client.get(reverse("collaboration:api-tokens")).content.decode()
    client.force_login(nordwerk_admin)
    created = client.post(reverse("collaboration:api-tokens"), {"supplier": nordwerk.pk, "name": "MES", "scopes": ["read"]})
    raw = created.context["created_value"]
    assert raw.startswith("sup_") and raw in created.content.decode()
    assert raw not in client.get(reverse("collaboration:api-tokens")).content.decode()
    token = SupplierApiToken.objects.get()
    client.post(reverse("collaboration:api-token-revoke", args=[token.pk]))
    token.refresh_from_db()
    assert token.revoked_at is not None
    assert client_for(raw).get("/api/v1/purchase-orders/").status_code == 401


def test_another_suppliers_admin_cannot_revoke(client, nordwerk, nordwerk_admin, alpenguss):
    token, _ = make_token(nordwerk, nordwerk_admin)
    other_admin = MembershipFactory(user=UserFactory(), supplier=alpenguss, role=Membership.Role.ADMIN).user
    client.force_login(other_admin)
    assert client.post(reverse("collaboration:api-token-revoke", args=[token.pk])).status_code == 404
    token.refresh_from_db()
    assert token.revoked_at is None


def test_old_idempotency_keys_are_forgotten(api):
    from portal.tasks import purge_idempotency_records

    post_ack(api, body(), key="old-key")
    IdempotencyRecord.objects.update(created_at=timezone.now() - timedelta(hours=25))
    assert purge_idempotency_records() == 1
    assert not IdempotencyRecord.objects.exists()
