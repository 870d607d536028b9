"""Quality incidents pushed by the ERP: opened once (steps, due dates, e-mail to the supplier's quality
users), repeats are no-ops, changed content is a conflict, bad input changes nothing."""
import json
from datetime import timedelta

import pytest
from django.utils import timezone
from rest_framework.test import APIClient

from collaboration.models import AuditEvent, IncidentStep, QualityIncident
from erp_bridge.models import OutboxMessage
from tests.factories import MembershipFactory, UserFactory, create_purchase_order

URL = "/api/v1/erp/quality-incidents/NC-4711"


def put(client, url, data, **headers):
    return client.put(url, data=json.dumps(data), content_type="application/json", **headers)


def incident(**overrides) -> dict:
    return {"supplier": "NORDWERK", "purchase_order": "PO-7001", "item": "BRK-2201", "lot": "L-77",
            "quantity_on_hold": "120", "uom": "PCE", "description": "Burrs on the mounting holes.", **overrides}


@pytest.fixture
def order(nordwerk):
    return create_purchase_order("PO-7001", supplier=nordwerk)


def test_erp_opens_an_incident_and_the_suppliers_quality_user_is_emailed(erp_client, order, nordwerk, nordwerk_sales, mails,
                                                                         django_capture_on_commit_callbacks):
    MembershipFactory(user=UserFactory(username="qa@nordwerk.example", email="qa@nordwerk.example"), supplier=nordwerk,
                      role="quality")
    with django_capture_on_commit_callbacks(execute=True):
        response = put(erp_client, URL, incident())
    assert response.status_code == 201, response.content
    assert response.json() == {"reference": "NC-4711", "supplier": "NORDWERK", "outcome": "created"}
    stored = QualityIncident.objects.get()
    assert (stored.purchase_order.number, stored.quantity_on_hold, stored.opened_channel) == ("PO-7001", 120, "erp")
    assert stored.steps.count() == 4
    assert [mail.to for mail in mails] == [["qa@nordwerk.example"]]
    assert "https://portal.example.com/quality/incidents/NC-4711/" in mails[0].body
    assert not OutboxMessage.objects.filter(type__startswith="quality.").exists()
    assert AuditEvent.objects.filter(action="quality_incident.opened", purchase_order="PO-7001", channel="erp").count() == 1


def test_a_repeat_is_a_no_op_and_changed_content_is_a_conflict(erp_client, order, mails, django_capture_on_commit_callbacks):
    assert put(erp_client, URL, incident()).status_code == 201
    with django_capture_on_commit_callbacks(execute=True):
        again = put(erp_client, URL, incident(quantity_on_hold="120.000"))  # spelled differently, same amount
    assert again.status_code == 200 and again.json()["outcome"] == "unchanged"
    assert QualityIncident.objects.count() == 1 and IncidentStep.objects.count() == 4
    assert mails == []  # told once
    changed = put(erp_client, URL, incident(quantity_on_hold="80"))
    assert changed.status_code == 409 and changed.json()["code"] == "document_content_conflict"
    assert QualityIncident.objects.get().quantity_on_hold == 120
    assert AuditEvent.objects.filter(action="quality_incident.opened").count() == 1


def test_due_dates_from_the_erp_are_kept(erp_client, order):
    containment = timezone.localdate() + timedelta(days=3)
    response = put(erp_client, URL, incident(due_dates={"containment": containment.isoformat(), "verification": ""}))
    assert response.status_code == 201
    due = dict(IncidentStep.objects.values_list("kind", "due_on"))
    assert due["containment"] == containment
    assert due["verification"] == timezone.localdate() + timedelta(days=30)


@pytest.mark.parametrize(
    ("document", "status", "code", "field"),
    [
        (incident(supplier="NOBODY"), 422, "unknown_supplier", "supplier"),
        (incident(quantity_on_hold="-1"), 400, "invalid_document", "quantity_on_hold"),
        (incident(purchase_order="PO-OTHER"), 422, "supplier_mismatch", "purchase_order"),
        (incident(purchase_order="PO-404"), 422, "unknown_purchase_order", "purchase_order"),
        (incident(description="   "), 400, "invalid_document", "description"),
        (incident(uom=""), 400, "invalid_document", "uom"),
        (incident(reference="NC-OTHER"), 400, "invalid_document", "reference"),
        (incident(due_dates={"containment": "2030-02-01", "root_cause": "2030-01-01"}), 400, "invalid_document", "due_dates"),
        (incident(due_dates={"containment": "2030-02-30"}), 400, "invalid_document", "due_dates"),
    ],
)
def test_bad_incidents_are_refused_and_store_nothing(erp_client, order, alpenguss, document, status, code, field):
    create_purchase_order("PO-OTHER", supplier=alpenguss)
    response = put(erp_client, URL, document)
    assert response.status_code == status, response.content
    body = response.json()
    assert body["code"] == code and field in body.get("errors", {})
    assert not QualityIncident.objects.exists() and not IncidentStep.objects.exists()


def test_only_erp_tokens_open_incidents(order, nordwerk_sales):
    assert put(APIClient(), URL, incident()).status_code in (401, 403)
    supplier = APIClient()
    supplier.force_login(nordwerk_sales)
    assert put(supplier, URL, incident()).status_code in (401, 403)
    assert not QualityIncident.objects.exists()
