"""Supplier API v1 (session for now): tenancy, detail, accept through the same service."""
import pytest
from rest_framework.test import APIClient

from collaboration.models import Acknowledgement
from tests.factories import create_purchase_order


@pytest.fixture
def api(nordwerk_sales):
    client = APIClient()
    client.force_login(nordwerk_sales)
    return client


def test_list_and_detail_of_own_orders(api, nordwerk, alpenguss):
    create_purchase_order("PO-OWN", supplier=nordwerk, line_count=2)
    create_purchase_order("PO-OTHER", supplier=alpenguss)
    listing = api.get("/api/v1/purchase-orders/").json()
    assert [row["number"] for row in listing["results"]] == ["PO-OWN"]
    detail = api.get("/api/v1/purchase-orders/PO-OWN/").json()
    assert detail["supplier"] == "NORDWERK"
    assert [line["line"] for line in detail["lines"]] == [10, 20]
    assert detail["lines"][0]["quantity"] == "400.0000"


def test_other_suppliers_order_is_404_in_the_api(api, alpenguss):
    create_purchase_order("PO-OTHER", supplier=alpenguss)
    response = api.get("/api/v1/purchase-orders/PO-OTHER/")
    assert response.status_code == 404
    assert response.json()["code"] == "not_found"
    assert api.post("/api/v1/purchase-orders/PO-OTHER/accept/").status_code == 404
    assert not Acknowledgement.objects.exists()


def test_accept_through_api_records_api_channel(api, nordwerk):
    create_purchase_order("PO-7001", supplier=nordwerk)
    response = api.post("/api/v1/purchase-orders/PO-7001/accept/")
    assert response.status_code == 201
    assert response.json()["channel"] == "api"
    again = api.post("/api/v1/purchase-orders/PO-7001/accept/")
    assert again.status_code == 409
    assert again.json()["code"] == "nothing_to_submit"


def test_anonymous_api_call_is_refused(db):
    response = APIClient().get("/api/v1/purchase-orders/")
    assert response.status_code in (401, 403)


def test_openapi_schema_is_valid(api):
    from drf_spectacular.validation import validate_schema
    from drf_spectacular.generators import SchemaGenerator

    schema = SchemaGenerator().get_schema(request=None, public=True)
    validate_schema(schema)
    assert "/api/v1/erp/purchase-orders/{number}" in schema["paths"]
    assert api.get("/api/schema/").status_code == 200
