"""Every admin list and detail page of the project's models opens for a buyer."""
from datetime import date
from decimal import Decimal

import pytest
from django.contrib import admin
from django.db import transaction
from django.urls import reverse
from django.utils import timezone

from collaboration import services
from collaboration.actors import Actor
from collaboration.documents import (
    parse_invoice,
    parse_invoice_status,
    parse_inventory_position,
    parse_quality_incident,
    parse_receipt,
    parse_shipment,
)
from collaboration.models import ItemRule
from collaboration.services import CommitmentInput, LineResponse
from erp_bridge import outbox, relay
from erp_bridge.models import Drift
from erp_bridge.tokens import erp_token_create
from tests.factories import create_forecast, create_purchase_order

PROJECT_APPS = {"collaboration", "erp_bridge", "edi"}


@pytest.fixture
def buyer(django_user_model):
    return django_user_model.objects.create_superuser("buyer@plant.example", "buyer@plant.example", "x-buyer-password")


def test_admin_pages_open(client, buyer, nordwerk, nordwerk_sales, settings):
    create_purchase_order("PO-7001", supplier=nordwerk, line_count=2)
    services.acknowledgement_submit(
        number="PO-7001", revision=1, actor=Actor.for_user(nordwerk_sales, channel="portal"),
        responses=[LineResponse(line=10, action="accept"), LineResponse(line=20, action="reject", reason_code="capacity")],
    )
    with transaction.atomic():
        message = outbox.publish(type="test", aggregate="PO-9", payload={})
    relay.deliver(message.id)
    erp_token_create(name="erp")
    erp = Actor.system("test-erp", channel="erp")
    services.receipt_record(actor=erp, document=parse_receipt({
        "reference": "GR-1", "purchase_order": "PO-7001", "received_on": "2026-12-01", "lines": [{"line": 10, "quantity": "5"}]}))
    services.invoice_status_record(actor=erp, document=parse_invoice_status({
        "supplier": "NORDWERK", "invoice_number": "INV-1", "version": 1, "status": "received", "purchase_order": "PO-7001"}))
    settings.GS1_COMPANY_PREFIX = "4012345"
    ItemRule.objects.create(item="BRK-2201", lot_controlled=True)
    services.shipment_submit(actor=Actor.for_user(nordwerk_sales, channel="portal"), document=parse_shipment({
        "number": "ASN-1", "ship_to": "PLANT-1", "despatch_date": "2030-01-02", "expected_arrival": "2030-01-03",
        "lines": [{"line": 1, "purchase_order": "PO-7001", "order_line": 10, "quantity": "5", "lot": "L-1"}],
        "packages": [{"reference": "P1", "kind": "pallet", "contents": [{"line": 1, "quantity": "5"}]}]}))
    Drift.objects.create(source="tryton", purchase_order="PO-7001", line=10, field="quantity", portal_value="400",
                         erp_value="390", last_seen_at=timezone.now())
    _quality_document(nordwerk)
    services.quality_incident_open(actor=erp, document=parse_quality_incident({
        "reference": "NC-1", "supplier": "NORDWERK", "purchase_order": "PO-7001", "item": "BRK-2201",
        "quantity_on_hold": "5", "uom": "PCE", "description": "Burrs."}))
    _edi_partner_and_interchange(nordwerk, settings)
    forecast = create_forecast(supplier="NORDWERK")
    services.forecast_commit(supplier_id=nordwerk.pk, item=forecast.item, ship_to=forecast.ship_to, version=1,
                             actor=Actor.for_user(nordwerk_sales, channel="portal"),
                             commitments=[CommitmentInput(date(2027, 1, 4), Decimal("300"), "Die repair")])  # a shortfall case
    services.inventory_position_record(actor=erp, document=parse_inventory_position({
        "supplier": "NORDWERK", "item": "BRK-2201", "site": "PLANT-1", "uom": "PCE", "as_of": "2027-01-04T06:00:00Z",
        "on_hand": "10", "min_level": "100"}))
    services.invoice_submit(supplier_id=nordwerk.pk, actor=Actor.for_user(nordwerk_sales, channel="portal"),
                            document=parse_invoice({"number": "RE-1", "invoice_date": "2027-01-10", "currency": "EUR",
                                                    "lines": [{"purchase_order": "PO-7001", "line": 10, "quantity": "6",
                                                               "unit_price": "3.85", "reason": "one more"}]}))
    client.force_login(buyer)
    checked = 0
    for model, model_admin in admin.site._registry.items():
        if model._meta.app_label not in PROJECT_APPS:
            continue
        opts = model._meta
        changelist = client.get(reverse(f"admin:{opts.app_label}_{opts.model_name}_changelist"))
        assert changelist.status_code == 200, opts.label
        obj = model.objects.first()
        assert obj is not None, f"no {opts.label} to show"
        change = client.get(reverse(f"admin:{opts.app_label}_{opts.model_name}_change", args=[obj.pk]))
        assert change.status_code == 200, opts.label
        checked += 1
    assert checked >= 7  # suppliers, memberships, orders, acknowledgements, audit, outbox, ERP tokens


def _quality_document(supplier) -> None:
    from django.core.files.uploadedfile import SimpleUploadedFile

    from tests.collaboration.test_uploads import pdf_bytes
    from tests.factories import MembershipFactory

    quality = MembershipFactory(supplier=supplier, role="quality").user
    services.quality_document_upload(
        supplier_id=supplier.pk, actor=Actor.for_user(quality, channel="portal"), document_type="certificate_of_conformity",
        item="BRK-2201", issued_on=timezone.localdate(), upload=SimpleUploadedFile("coc.pdf", pdf_bytes()))


def test_supplier_user_cannot_open_the_admin(client, nordwerk_sales):
    client.force_login(nordwerk_sales)
    response = client.get(reverse("admin:index"))
    assert response.status_code == 302 and "login" in response["Location"]


def _edi_partner_and_interchange(supplier, settings) -> None:
    from edi.models import Interchange
    from edi.partners import trading_partner_add

    partner, _ = trading_partner_add(supplier_code=supplier.code, edi_id="4012345000009", qualifier="14",
                                     mailbox=str(settings.PRIVATE_FILES_ROOT.parent / "edi"))
    Interchange.objects.create(partner=partner, direction="in", control_ref="1", status="accepted", raw=b"UNB+UNOC:3'")


def test_a_forecast_shortfall_case_shows_its_periods_as_a_table(client, buyer, nordwerk, nordwerk_sales):
    from collaboration.models import ExceptionCase

    forecast = create_forecast(supplier="NORDWERK")
    services.forecast_commit(supplier_id=nordwerk.pk, item=forecast.item, ship_to=forecast.ship_to, version=1,
                             actor=Actor.for_user(nordwerk_sales, channel="portal"),
                             commitments=[CommitmentInput(date(2027, 1, 4), Decimal("300"), "Die <repair>")])
    case = ExceptionCase.objects.get(kind="forecast_shortfall")
    client.force_login(buyer)
    text = client.get(reverse("admin:collaboration_exceptioncase_change", args=[case.pk])).content.decode()
    assert "<th>start</th><th>forecast</th><th>committed</th><th>reason</th>" in text
    assert "<td>2027-01-04</td><td>400</td><td>300</td><td>Die &lt;repair&gt;</td>" in text  # escaped
