"""Roles inside a supplier, route by route: for every portal action on the supplier's own objects,
each role that may not do it is refused and changes nothing; then a role that may does it. Tokens
on the API likewise by scope. Viewing pages is open to every role of the supplier."""
from __future__ import annotations

import html
from dataclasses import dataclass
from typing import Callable

import pytest
from django.urls import reverse

from collaboration import services
from collaboration.actors import Actor
from collaboration.models import (
    AcknowledgementLine,
    ForecastBucket,
    IncidentStep,
    Membership,
    PurchaseOrder,
    Shipment,
    SupplierApiToken,
)
from tests.factories import create_purchase_order
from tests.portal.test_isolation import ROLES, SUPPLIER_ROUTES, SupplierObjects, snapshot, supplier_objects


@dataclass(frozen=True)
class Action:
    route: str
    allowed: frozenset[str]
    data: dict
    done: Callable[[SupplierObjects], bool]  # whether the action took effect
    refusal: str  # what a role that may not is told
    kwargs: Callable[[SupplierObjects], dict] | None = None  # else the route's own in SUPPLIER_ROUTES

    def url(self, objects: SupplierObjects) -> str:
        return reverse(self.route, kwargs=(self.kwargs or SUPPLIER_ROUTES[self.route])(objects))


def draft_on(number: str, line: int) -> bool:
    return AcknowledgementLine.objects.filter(acknowledgement__purchase_order__number=number, acknowledgement__status="draft",
                                              order_line__line_number=line).exists()


SALES = frozenset({"admin", "sales"})
ACKNOWLEDGE_REFUSAL = "admin or sales users (or an API token with the acknowledge scope) can acknowledge orders"
# In this order, each on the state the one before left.
PORTAL_ACTIONS = [
    Action("collaboration:line-respond", SALES, {"action": "accept", "revision": 1}, lambda o: draft_on(o.open_order, 20),
           ACKNOWLEDGE_REFUSAL, lambda o: {"number": o.open_order, "line_number": 20}),
    Action("collaboration:line-discard", SALES, {}, lambda o: not draft_on(o.open_order, 10), ACKNOWLEDGE_REFUSAL),
    Action("collaboration:acknowledgement-submit", SALES, {"revision": 1, "accept_remaining": "1"},
           lambda o: PurchaseOrder.objects.get(number=o.open_order).status == "acknowledged", ACKNOWLEDGE_REFUSAL),
    Action("collaboration:incident-step-answer", frozenset({"admin", "quality"}), {"response": "Porosity from the new die."},
           lambda o: IncidentStep.objects.get(incident__reference=o.incident, kind="root_cause").status == "answered",
           "quality or admin users answer quality incidents"),
    Action("collaboration:shipment-cancel", frozenset({"admin", "logistics", "sales"}), {},
           lambda o: Shipment.objects.get(number=o.shipment, supplier__code="NORDWERK").status == "cancelled",
           "You may not create or change shipments"),
    Action("collaboration:forecast-detail", SALES, {"version": 1, "action": "full"},
           lambda o: ForecastBucket.objects.filter(version__forecast=o.forecast, committed_quantity__isnull=False).exists(),
           "sales or admin users commit capacity against forecasts"),
    Action("collaboration:api-token-revoke", frozenset({"admin"}), {},
           lambda o: SupplierApiToken.objects.get(pk=o.token).revoked_at is not None, "admin users manage API tokens"),
    Action("collaboration:supplier-user-role", frozenset({"admin"}), {"role": "quality"},
           lambda o: Membership.objects.get(pk=o.membership).role == "quality", "admin users manage its users"),
    Action("collaboration:supplier-user-access", frozenset({"admin"}), {"active": "0"},
           lambda o: not Membership.objects.get(pk=o.membership).is_active, "admin users manage its users"),
]
VIEWS = [name for name in SUPPLIER_ROUTES if name.startswith("collaboration:")
         and name not in {a.route for a in PORTAL_ACTIONS} | {"collaboration:shipment-edit"}]


@pytest.fixture
def own(nordwerk, settings) -> SupplierObjects:
    settings.GS1_COMPANY_PREFIX = "4012345"
    return supplier_objects(nordwerk, "A")


def test_every_role_sees_its_suppliers_pages(own, client):
    for role, user in own.users.items():
        client.force_login(user)
        for name in VIEWS:
            assert client.get(reverse(name, kwargs=SUPPLIER_ROUTES[name](own))).status_code == 200, (role, name)
        client.logout()


def test_each_action_is_refused_to_the_roles_that_may_not_and_done_by_one_that_may(own, nordwerk, client):
    refused = 0
    for action in PORTAL_ACTIONS:
        url = action.url(own)
        for role in sorted(set(ROLES) - action.allowed):
            before = snapshot(nordwerk)
            client.force_login(own.users[role])
            response = client.post(url, action.data, follow=True)
            client.logout()
            assert snapshot(nordwerk) == before and not action.done(own), (action.route, role)
            assert action.refusal in html.unescape(response.content.decode()), (action.route, role, response.status_code)
            refused += 1
        client.force_login(own.users[sorted(action.allowed)[-1]])
        client.post(url, action.data)
        client.logout()
        assert action.done(own), (action.route, "not done by", sorted(action.allowed)[-1])
    assert refused == sum(len(set(ROLES) - a.allowed) for a in PORTAL_ACTIONS) == 20


def test_the_shipment_editor_is_for_those_who_ship(own, client):
    url = reverse("collaboration:shipment-edit", kwargs={"number": own.shipment})
    client.force_login(own.users["quality"])
    assert client.get(url).status_code == 302
    for role in ("admin", "logistics", "sales"):
        client.force_login(own.users[role])
        assert client.get(url).status_code == 200, role


# (scope it needs, path, body, whether it took effect), on the supplier's own objects.
API_ACTIONS = [
    ("acknowledge", "/api/v1/purchase-orders/PO-A3/acknowledgements/", {"revision": 1, "lines": [{"line": 10, "action": "accept"}]},
     lambda o: PurchaseOrder.objects.get(number="PO-A3").status == "acknowledged"),
    ("quality", "/api/v1/quality-incidents/QI-A/steps/root_cause", {"response": "Porosity from the new die."},
     lambda o: IncidentStep.objects.get(incident__reference=o.incident, kind="root_cause").status == "answered"),
    ("ship", "/api/v1/shipments/ASN-A/cancel", {},
     lambda o: Shipment.objects.get(number=o.shipment, supplier__code="NORDWERK").status == "cancelled"),
    ("plan", lambda o: f"/api/v1/forecasts/{o.forecast}/commitments",
     {"version": 1, "commitments": [{"start": "2027-01-04", "quantity": "400"}]},
     lambda o: ForecastBucket.objects.filter(version__forecast=o.forecast, committed_quantity__isnull=False).exists()),
]
SCOPES = ["read", "acknowledge", "ship", "quality", "plan"]


def test_api_tokens_act_by_scope_only(own, nordwerk, client):
    create_purchase_order("PO-A3", supplier=nordwerk)
    admin = Actor.for_user(own.users["admin"], channel="portal")
    tokens = {scope: services.api_token_create(supplier=nordwerk, name=f"{scope} only", scopes=[scope], expires_at=None,
                                               actor=admin)[1] for scope in SCOPES}
    refused = 0
    for needed, path, body, done in API_ACTIONS:
        path = path(own) if callable(path) else path
        for scope in SCOPES:
            if scope == needed:
                continue
            before = snapshot(nordwerk)
            response = client.post(path, body, content_type="application/json", headers={"Authorization": f"Bearer {tokens[scope]}"})
            assert response.status_code == 403 and response.json()["code"], (path, scope, response.status_code)
            assert snapshot(nordwerk) == before and not done(own), (path, scope)
            refused += 1
        response = client.post(path, body, content_type="application/json", headers={"Authorization": f"Bearer {tokens[needed]}"})
        assert response.status_code in (200, 201) and done(own), (path, needed, response.status_code, response.content)
    assert refused == 16
