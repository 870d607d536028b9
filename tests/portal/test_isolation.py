"""Tenant isolation on every URL, generated from the URLconf: each route that takes an object
reference is requested for supplier B's object by every role of supplier A (session, and API token
on the API) and anonymously, with every HTTP method; A must get 404 (405 where the route takes no
such method), the anonymous caller a login redirect or 401/403, and nothing of B may change.
A route missing from the tables below fails the test, so a new route cannot slip past it."""
from __future__ import annotations

import json
from dataclasses import dataclass

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.test import Client
from django.urls import URLPattern, URLResolver, get_resolver, reverse
from django.utils import timezone

from collaboration import services
from collaboration.actors import Actor
from collaboration.documents import parse_invoice, parse_quality_incident, parse_receipt, parse_shipment
from collaboration.models import (
    Acknowledgement,
    AuditEvent,
    ForecastBucket,
    IncidentAttachment,
    Invoice,
    PurchaseOrder,
    QualityDocument,
    QualityIncident,
    Shipment,
    SupplierApiToken,
)
from collaboration.services import LineResponse
from erp_bridge.models import OutboxMessage
from tests.collaboration.test_shipments import DESPATCH
from tests.collaboration.test_uploads import pdf_bytes
from tests.factories import MembershipFactory, UserFactory, create_forecast, create_purchase_order

METHODS = ["GET", "POST", "PUT", "PATCH", "DELETE"]
ROLES = ["admin", "sales", "logistics", "quality"]
ERP = Actor.system("erp-test", channel="erp")

# Routes that take a reference to a supplier's object: what B's object is called there.
SUPPLIER_ROUTES = {
    "api-v1:purchase-order-detail": lambda b: {"number": b.order},
    "api-v1:purchase-order-accept": lambda b: {"number": b.open_order},
    "api-v1:acknowledgement-create": lambda b: {"number": b.open_order},
    "api-v1:shipment": lambda b: {"number": b.shipment},
    "api-v1:shipment-cancel": lambda b: {"number": b.shipment},
    "api-v1:quality-document": lambda b: {"pk": b.document},
    "api-v1:quality-document-file": lambda b: {"pk": b.document},
    "api-v1:quality-incident": lambda b: {"reference": b.incident},
    "api-v1:quality-incident-step-answer": lambda b: {"reference": b.incident, "kind": "root_cause"},
    "collaboration:purchase-order-detail": lambda b: {"number": b.open_order},
    "collaboration:acknowledgement-submit": lambda b: {"number": b.open_order},
    "collaboration:line-row": lambda b: {"number": b.open_order, "line_number": 10},
    "collaboration:line-respond": lambda b: {"number": b.open_order, "line_number": 10},
    "collaboration:line-discard": lambda b: {"number": b.open_order, "line_number": 10},
    "collaboration:shipment-detail": lambda b: {"number": b.shipment},
    "collaboration:shipment-edit": lambda b: {"number": b.shipment},
    "collaboration:shipment-cancel": lambda b: {"number": b.shipment},
    "collaboration:shipment-labels": lambda b: {"number": b.shipment},
    "collaboration:shipment-packing-list": lambda b: {"number": b.shipment},
    "collaboration:quality-document-download": lambda b: {"pk": b.document},
    "collaboration:incident-attachment-download": lambda b: {"pk": b.attachment},
    "collaboration:incident-detail": lambda b: {"reference": b.incident},
    "collaboration:incident-step-answer": lambda b: {"reference": b.incident, "kind": "root_cause"},
    "collaboration:api-token-revoke": lambda b: {"token_id": b.token},
    "collaboration:supplier-user-role": lambda b: {"membership_id": b.membership},
    "collaboration:supplier-user-access": lambda b: {"membership_id": b.membership},
    "collaboration:forecast-detail": lambda b: {"pk": b.forecast},
    "collaboration:invoice-detail": lambda b: {"pk": b.invoice},
    "api-v1:forecast": lambda b: {"pk": b.forecast},
    "api-v1:forecast-commitments": lambda b: {"pk": b.forecast},
    "api-v1:invoice": lambda b: {"number": "INV-B"},
}
# The ERP's own endpoints: no supplier user or supplier token may use them at all.
ERP_ROUTES = {
    "api-v1:erp-purchase-order": lambda b: {"number": b.order},
    "api-v1:erp-quality-incident": lambda b: {"reference": b.incident},
    "api-v1:erp-receipt": lambda b: {"reference": "GR-B"},
    "api-v1:erp-invoice-status": lambda b: {"supplier": "ALPENGUSS", "invoice_number": "INV-B"},
    "api-v1:erp-forecast": lambda b: {"supplier": "ALPENGUSS", "ship_to": "PLANT-1", "item": "AL-1"},
    "api-v1:erp-inventory-position": lambda b: {"supplier": "ALPENGUSS", "site": "PLANT-1", "item": "AL-1"},
}
# Buyers' pages: a supplier's user is sent to the admin's login.
STAFF_ROUTES = {
    "purchase-order-timeline": lambda b: {"number": b.order},
    "control-tower-list": lambda b: {"key": "acknowledgement-overdue"},
}
# Parameters that name no supplier's object.
NOT_AN_OBJECT = {
    "password_reset_confirm": "a signed reset link for one user, not a supplier's object",
    "collaboration:open-lines-download": "the file format of the user's own open lines",
    "collaboration:shipment-template": "the file format of an empty template",
    "collaboration:forecast-download": "the file format of the user's own forecasts",
}


def routes(*, all_routes: bool = False) -> list[tuple[str, str, list[str]]]:
    """(name, route, parameter names) of every URL pattern with parameters (or of every one),
    namespaces included."""
    found = []

    def walk(patterns, prefix: str, namespace: str) -> None:
        for pattern in patterns:
            if isinstance(pattern, URLResolver):
                walk(pattern.url_patterns, prefix + str(pattern.pattern),
                     f"{namespace}{pattern.namespace}:" if pattern.namespace else namespace)
            elif isinstance(pattern, URLPattern) and (all_routes or pattern.pattern.regex.groups):
                found.append((f"{namespace}{pattern.name}", prefix + str(pattern.pattern), list(pattern.pattern.regex.groupindex)))

    walk(get_resolver().url_patterns, "", "")
    return found


@dataclass
class SupplierObjects:
    users: dict
    order: str
    open_order: str
    shipment: str
    document: int
    incident: str
    attachment: int
    token: int
    membership: int  # the logistics user's
    forecast: int
    invoice: int


def member(supplier, role: str):
    user = UserFactory(username=f"{role}@{supplier.code.lower()}.example")
    MembershipFactory(user=user, supplier=supplier, role=role)
    return user


def supplier_objects(supplier, tag: str) -> SupplierObjects:
    """Users in every role and everything of the supplier a route can point at: an answered order, an
    open one with a draft, a shipment notice, a quality document, an incident with an attached
    answer, an API token. `tag` keeps the references apart from another supplier's."""
    users = {role: member(supplier, role) for role in ROLES}
    actors = {role: Actor.for_user(user, channel="portal") for role, user in users.items()}
    order, open_order, shipment_number, incident = f"PO-{tag}1", f"PO-{tag}2", f"ASN-{tag}", f"QI-{tag}"
    create_purchase_order(order, supplier=supplier, line_count=2)
    create_purchase_order(open_order, supplier=supplier, line_count=2)
    services.acknowledgement_accept_remaining(number=order, actor=actors["sales"])
    services.acknowledgement_draft_save(number=open_order, revision=1, actor=actors["sales"],
                                        response=LineResponse(line=10, action="accept"))
    shipment = services.shipment_submit(actor=actors["logistics"], document=parse_shipment({
        "number": shipment_number, "ship_to": "PLANT-1", "despatch_date": DESPATCH.isoformat(),
        "expected_arrival": DESPATCH.isoformat(),
        "lines": [{"line": 1, "purchase_order": order, "order_line": 10, "quantity": "400"}],
        "packages": [{"reference": "P1", "kind": "pallet", "contents": [{"line": 1, "quantity": "400"}]}]}))
    document = services.quality_document_upload(
        supplier_id=supplier.pk, actor=actors["quality"], upload=SimpleUploadedFile("coc.pdf", pdf_bytes()),
        document_type="certificate_of_conformity", item="BRK-2201", issued_on=timezone.localdate(), expires_on=None)
    services.quality_incident_open(actor=ERP, document=parse_quality_incident({
        "reference": incident, "supplier": supplier.code, "purchase_order": order, "item": "BRK-2201",
        "quantity_on_hold": "5", "uom": "PCE", "description": "Porosity"}))
    services.incident_step_answer(reference=incident, kind="containment", response="Sorted.", actor=actors["quality"],
                                  attachments=[SimpleUploadedFile("sort.pdf", pdf_bytes(), content_type="application/pdf")])
    token, _ = services.api_token_create(supplier=supplier, name="Its system", scopes=["read"], expires_at=None,
                                         actor=actors["admin"])
    forecast = create_forecast("BRK-2201", supplier=supplier.code)
    services.receipt_record(actor=ERP, document=parse_receipt({
        "reference": f"GR-{tag}", "purchase_order": order, "received_on": DESPATCH.isoformat(),
        "lines": [{"line": 20, "quantity": "400"}]}))  # not the line the shipment notice carries: it stays cancellable
    invoice = services.invoice_submit(supplier_id=supplier.pk, actor=actors["sales"], document=parse_invoice({
        "number": f"INV-{tag}", "invoice_date": DESPATCH.isoformat(), "currency": "EUR",
        "lines": [{"purchase_order": order, "line": 20, "quantity": "400", "unit_price": "3.85"}]}))
    return SupplierObjects(forecast=forecast.pk, invoice=invoice.pk, users=users, order=order, open_order=open_order, shipment=shipment.number, document=document.pk,
                           incident=incident, attachment=IncidentAttachment.objects.get(step__incident__reference=incident).pk,
                           token=token.pk, membership=users["logistics"].memberships.get().pk)


@pytest.fixture
def supplier_b(alpenguss, settings) -> SupplierObjects:
    settings.GS1_COMPANY_PREFIX = "4012345"
    return supplier_objects(alpenguss, "B")


def snapshot(supplier) -> dict:
    """What a request by someone else could have changed of B."""
    return {
        "orders": sorted(PurchaseOrder.objects.filter(supplier=supplier).values_list("number", "status", "revision")),
        "answers": sorted(Acknowledgement.objects.filter(purchase_order__supplier=supplier).values_list("id", "status")),
        "shipments": sorted(Shipment.objects.filter(supplier=supplier).values_list("number", "status", "revision")),
        "documents": sorted(QualityDocument.objects.filter(supplier=supplier).values_list("id", "review_status")),
        "incidents": sorted(QualityIncident.objects.filter(supplier=supplier).values_list("reference", "status", "hold_status")),
        "steps": sorted(QualityIncident.objects.filter(supplier=supplier).values_list("steps__kind", "steps__status")),
        "tokens": sorted(SupplierApiToken.objects.filter(supplier=supplier).values_list("id", "revoked_at")),
        "users": sorted(supplier.memberships.values_list("user__username", "role", "is_active", "user__is_active")),
        "forecasts": sorted(ForecastBucket.objects.filter(version__forecast__supplier=supplier)
                            .values_list("id", "committed_quantity", "commit_reason")),
        "invoices": sorted(Invoice.objects.filter(supplier=supplier).values_list("number", "net_amount")),
        "audit": AuditEvent.objects.filter(supplier=supplier).count(),
        "events": OutboxMessage.objects.count(),
    }


def answer(response) -> tuple[int, str]:
    """The status and, for a JSON problem, its code: what a caller learns besides the words."""
    code = ""
    if response.get("Content-Type", "").startswith(("application/json", "application/problem+json")):
        code = str(response.json().get("code", "")) if isinstance(response.json(), dict) else ""
    return response.status_code, code


def call(client: Client, method: str, url: str, body: dict | None = None):
    return client.generic(method, url, data=json.dumps(body or {}), content_type="application/json")


@pytest.fixture
def supplier_a(nordwerk, settings):
    """A's users in every role (and A's own objects), and an API token of A with every scope."""
    settings.GS1_COMPANY_PREFIX = "4012345"
    objects = supplier_objects(nordwerk, "A")
    _, raw = services.api_token_create(supplier=nordwerk, name="A's system", scopes=["read", "acknowledge", "ship", "quality"],
                                       expires_at=None, actor=Actor.for_user(objects.users["admin"], channel="portal"))
    return objects, raw


def test_every_route_with_a_reference_is_covered():
    named = {name for name, route, _ in routes() if not route.startswith("admin/")}
    covered = set(SUPPLIER_ROUTES) | set(ERP_ROUTES) | set(STAFF_ROUTES) | set(NOT_AN_OBJECT)
    assert named - covered == set(), "new routes need a row in the isolation test"
    assert covered - named == set(), "rows for routes that are gone"


# Writes that check their body before the object: a valid body, so that only the object can refuse them.
BODIES = {
    "api-v1:acknowledgement-create": {"revision": 1, "lines": [{"line": 10, "action": "accept"}]},
    "api-v1:quality-incident-step-answer": {"response": "Root cause found."},
    "api-v1:forecast-commitments": {"version": 1, "commitments": [{"start": "2027-01-04", "quantity": "400"}]},
    # Invoice numbers are each supplier's own: A may use INV-B for itself, never with B's order lines.
    "api-v1:invoice": {"invoice_date": "2027-01-10", "currency": "EUR",
                       "lines": [{"purchase_order": "PO-B1", "line": 20, "quantity": "1", "unit_price": "3.85"}]},
    # Shipment numbers are each supplier's own: A may announce an ASN-B of its own, never with B's order lines.
    "api-v1:shipment": {"number": "ASN-B", "ship_to": "PLANT-1", "despatch_date": DESPATCH.isoformat(),
                        "expected_arrival": DESPATCH.isoformat(), "status": "submitted",
                        "lines": [{"line": 1, "purchase_order": "PO-B1", "order_line": 10, "quantity": "1"}],
                        "packages": [{"reference": "P1", "kind": "pallet", "contents": [{"line": 1, "quantity": "1"}]}]},
}
NOWHERE = {"number": "NO-SUCH-1", "reference": "NO-SUCH-1", "pk": 999_999, "token_id": 999_999, "membership_id": 999_999}


def nowhere(kwargs: dict) -> dict:
    """The same route pointing at nothing: B's object must be answered exactly like it."""
    return {key: NOWHERE.get(key, value) for key, value in kwargs.items()}


def test_no_role_of_another_supplier_reaches_b_on_any_route(supplier_a, supplier_b, alpenguss, client):
    users, raw_token = supplier_a[0].users, supplier_a[1]
    before = snapshot(alpenguss)
    failures, checked = [], 0
    token_client = Client(HTTP_AUTHORIZATION=f"Bearer {raw_token}")
    callers = [(role, user, client) for role, user in users.items()] + [("token", None, token_client)]
    for who, user, caller in callers:
        if user is not None:
            client.force_login(user)
        for name, kwargs in SUPPLIER_ROUTES.items():
            if who == "token" and not name.startswith("api-v1:"):
                continue
            url, absent = reverse(name, kwargs=kwargs(supplier_b)), reverse(name, kwargs=nowhere(kwargs(supplier_b)))
            body = BODIES.get(name, {})
            absent_body = json.loads(json.dumps(body).replace(supplier_b.order, NOWHERE["number"]))
            for method in METHODS:
                seen, expected = answer(call(caller, method, url, body)), answer(call(caller, method, absent, absent_body))
                checked += 1
                # 404, or a refusal that does not depend on B's object being there (405: no such method;
                # 400/422: the body names an order the caller cannot see, said as for one that does not exist;
                # 403: the caller's role may not do this to anything, e.g. invoice as a logistics user)
                if seen != expected or seen[0] not in (404, 405, 400, 403, 422) or (method == "GET" and seen[0] not in (404, 405)):
                    failures.append((who, method, url, seen, f"nothing there: {expected}"))
        client.logout()
    assert failures == [], "\n".join(map(str, failures))
    assert snapshot(alpenguss) == before
    assert checked == (len(ROLES) * len(SUPPLIER_ROUTES) + sum(n.startswith("api-v1:") for n in SUPPLIER_ROUTES)) * len(METHODS)


def test_anonymous_callers_are_sent_to_log_in_or_refused(supplier_b, alpenguss, client):
    before = snapshot(alpenguss)
    failures = []
    for name, kwargs in {**SUPPLIER_ROUTES, **ERP_ROUTES, **STAFF_ROUTES}.items():
        url = reverse(name, kwargs=kwargs(supplier_b))
        for method in METHODS:
            response = call(client, method, url)
            if name.startswith("api-v1:"):
                ok = response.status_code in (401, 403, 405)
            else:
                ok = response.status_code == 405 or (response.status_code == 302 and "login" in response["Location"])
            if not ok:
                failures.append((method, url, response.status_code))
    assert failures == []
    assert snapshot(alpenguss) == before


def test_suppliers_cannot_use_the_erp_endpoints_or_the_buyers_pages(supplier_a, supplier_b, alpenguss, client):
    users, raw_token = supplier_a[0].users, supplier_a[1]
    before = snapshot(alpenguss)
    failures = []
    token_client = Client(HTTP_AUTHORIZATION=f"Bearer {raw_token}")
    for role, user in users.items():
        client.force_login(user)
        for name, kwargs in {**ERP_ROUTES, **STAFF_ROUTES}.items():
            url = reverse(name, kwargs=kwargs(supplier_b))
            for method in METHODS:
                for who, caller in ((role, client), ("token", token_client)):
                    response = call(caller, method, url)
                    if name in ERP_ROUTES:
                        ok = response.status_code in (401, 403, 405)
                    else:
                        ok = response.status_code == 405 or (response.status_code == 302 and "/admin/login/" in response["Location"])
                    if not ok:
                        failures.append((who, method, url, response.status_code))
        client.logout()
    assert failures == []
    assert snapshot(alpenguss) == before


# The admin's own door: its login page is public, its logout ends only the caller's session.
ADMIN_PUBLIC = {"admin:login", "admin:logout"}


def admin_urls(b_pk: int) -> list[str]:
    """Every admin route, an object id pointing at one of B's rows (a new parameter name fails here)."""
    values = {"object_id": str(b_pk), "id": str(b_pk), "pk": b_pk, "case_id": b_pk, "document_id": b_pk, "incident_id": b_pk,
              "content_type_id": "1", "app_label": "collaboration", "url": "anything/"}
    urls = []
    for name, route, parameters in routes(all_routes=True):
        if not route.startswith("admin/") or name in ADMIN_PUBLIC:
            continue
        if name != "admin:None":
            urls.append(reverse(name, kwargs={key: values[key] for key in parameters}))
        elif "<path:object_id>" in route:  # the admin's redirect from an object's bare URL to its change page
            urls.append("/" + route.replace("<path:object_id>", values["object_id"]))
        else:  # the catch-all that sends unknown admin paths to the login
            urls.append("/admin/anything/")
    return urls


def test_the_admin_is_closed_to_every_supplier_role_and_to_anonymous_callers(supplier_a, supplier_b, alpenguss, client):
    users = supplier_a[0].users
    before = snapshot(alpenguss)
    b_order = PurchaseOrder.objects.get(number=supplier_b.order).pk
    urls = admin_urls(b_order)
    assert len(urls) > 140
    failures = []
    for who, user in [("anonymous", None), *users.items()]:
        if user is not None:
            client.force_login(user)
        for url in urls:
            for method in METHODS:
                response = call(client, method, url)
                if not (response.status_code == 302 and "/admin/login/" in response["Location"]):
                    failures.append((who, method, url, response.status_code))
        client.logout()
    assert failures == [], "\n".join(map(str, failures))
    assert snapshot(alpenguss) == before
