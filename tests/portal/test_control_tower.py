"""The control tower: every count against constructed data, the list behind each count, the
supplier and buyer filters, the htmx refresh, the trend charts, staff only, and its query count."""
from __future__ import annotations

from datetime import timedelta

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse
from django.utils import timezone

from collaboration.models import (
    Acknowledgement,
    ExceptionCase,
    IncidentStep,
    PurchaseOrder,
    QualityDocument,
    QualityIncident,
    Shipment,
)
from edi.models import Interchange
from erp_bridge.models import DeliveryAttempt, OutboxMessage
from portal import control_tower
from tests.factories import SupplierFactory, UserFactory

NOW = timezone.now()
TODAY = timezone.localdate(NOW)


def order(number, supplier, *, status="awaiting_acknowledgement", due_in=5, buyer=""):
    return PurchaseOrder.objects.create(
        number=number, supplier=supplier, revision=1, currency="EUR", order_date=TODAY, ship_to="PLANT-1",
        status=status, content_hash="x", acknowledgement_due=TODAY + timedelta(days=due_in), buyer=buyer)


def case(kind, supplier, po=None, *, age_days=0, status="open"):
    made = ExceptionCase.objects.create(kind=kind, supplier=supplier, purchase_order=po, summary=f"{kind} case", status=status)
    ExceptionCase.objects.filter(pk=made.pk).update(opened_at=NOW - timedelta(days=age_days, minutes=5))
    return made


def shipment(number, supplier, *, receipt_status="not_received", arrival_in=1, status="submitted"):
    return Shipment.objects.create(supplier=supplier, number=number, status=status, ship_to="PLANT-1",
                                   despatch_date=TODAY + timedelta(days=arrival_in - 2), expected_arrival=TODAY + timedelta(days=arrival_in),
                                   receipt_status=receipt_status)


def document(supplier, *, review="pending", expires_in=None):
    return QualityDocument.objects.create(
        supplier=supplier, document_type="certificate_of_conformity", item="BRK-1", issued_on=TODAY - timedelta(days=100),
        expires_on=TODAY + timedelta(days=expires_in) if expires_in is not None else None, review_status=review,
        file="quality/x.pdf", original_name="x.pdf", content_type="application/pdf", size=1, sha256="0" * 64)


def incident(reference, supplier, *, hold="on_hold", status="open", answered=False):
    made = QualityIncident.objects.create(reference=reference, supplier=supplier, item="BRK-1", quantity_on_hold=5,
                                          description="scratches", status=status, hold_status=hold, opened_channel="admin")
    IncidentStep.objects.create(incident=made, kind="containment", position=1, due_on=TODAY,
                                status="answered" if answered else "waiting")
    return made


def interchange(ref, partner_supplier, *, direction="in", status="rejected", days_ago=0):
    from edi.partners import trading_partner_add

    partner = getattr(partner_supplier, "trading_partner", None) or trading_partner_add(
        supplier_code=partner_supplier.code, edi_id=f"ID{partner_supplier.code}", qualifier="ZZZ", message_types=["ORDRSP"])[0]
    made = Interchange.objects.create(partner=partner, direction=direction, control_ref=ref, status=status, raw=b"UNA",
                                      errors=[{"code": "12", "text": "bad quantity"}])
    Interchange.objects.filter(pk=made.pk).update(created_at=NOW - timedelta(days=days_ago))
    return made


def event(aggregate, *, status="pending", minutes_ago=10, sequence=1):
    return OutboxMessage.objects.create(type="acknowledgement.decided", aggregate=aggregate, sequence=sequence,
                                        occurred_at=NOW - timedelta(minutes=minutes_ago), payload={}, status=status,
                                        next_attempt_at=NOW, attempt_count=3 if status == "dead" else 0,
                                        last_error="422 unknown item" if status == "dead" else "")


@pytest.fixture
def world(db):
    """Two suppliers and two buyers with a known number of each thing the tower counts."""
    a, b = SupplierFactory(code="ALPHA"), SupplierFactory(code="BETA")
    order("A-OVERDUE-1", a, due_in=-3, buyer="P-1")
    order("A-OVERDUE-2", a, due_in=-1, buyer="P-2", status="changed")
    order("A-SOON", a, due_in=0, buyer="P-1")
    order("A-SOON-2", a, due_in=2, buyer="P-1")
    order("A-LATER", a, due_in=9, buyer="P-1")
    order("A-DONE", a, due_in=-9, buyer="P-1", status="acknowledged")
    waiting = order("A-BUYER", a, due_in=-9, buyer="P-1", status="awaiting_buyer")
    b_overdue = order("B-OVERDUE", b, due_in=-2, buyer="P-2")
    case("proposal_outside_tolerance", a, waiting, age_days=0)
    case("proposal_outside_tolerance", a, waiting, age_days=3)
    case("receipt_short", a, waiting, age_days=10)
    case("receipt_short", b, b_overdue, age_days=2)
    case("line_rejected", a, waiting, age_days=1, status="approved")  # decided: not counted
    shipment("ASN-A1", a, arrival_in=-2)
    shipment("ASN-A2", a, arrival_in=3)
    shipment("ASN-A3", a, receipt_status="partial")
    shipment("ASN-A4", a, receipt_status="received")
    shipment("ASN-A5", a, status="draft", arrival_in=-5)
    shipment("ASN-B1", b, arrival_in=-1)
    document(a)
    document(a, review="approved", expires_in=10)
    document(a, review="approved", expires_in=45)
    document(b, review="approved", expires_in=0)
    document(b, review="rejected")
    incident("QI-1", a, answered=True)
    incident("QI-2", a, hold="released")
    incident("QI-3", b)
    incident("QI-4", b, status="closed", hold="released")
    interchange("IC1", a)
    interchange("IC2", a, status="accepted")
    interchange("IC3", a, status="partially_accepted", days_ago=2)
    interchange("IC4", b, direction="out", status="refused")
    interchange("IC5", b, days_ago=9)  # older than the window
    event("A-OVERDUE-1", status="dead")
    event("B-OVERDUE", status="dead")
    event("A-SOON", minutes_ago=42)
    return a, b


def counts(filters=control_tower.Filters()):
    return control_tower.figures(filters, now=NOW).counts


def test_each_count_matches_the_constructed_data(world):
    assert counts() == {
        "acknowledgement_open": 6, "acknowledgement_due_soon": 2, "acknowledgement_overdue": 3, "awaiting_buyer": 1,
        "receipt_differences": 2,
        "shipments_unreceived": 3, "shipments_overdue": 2, "shipments_partial": 1,
        "documents_review": 1, "documents_expiring": 2,
        "incidents_open": 3, "incidents_hold": 2, "incident_answers": 1,
        "edi_failed": 3, "dead_letters": 2,
    }


def test_exceptions_are_counted_by_type_and_age(world):
    figures = control_tower.figures(control_tower.Filters(), now=NOW)
    by_kind = {row.kind: (row.total, {label: n for _, label, n in row.by_age}) for row in figures.exceptions}
    assert by_kind == {
        "proposal_outside_tolerance": (2, {"under a day": 1, "1–7 days": 1, "over a week": 0}),
        "receipt_short": (2, {"under a day": 0, "1–7 days": 1, "over a week": 1}),
    }
    assert figures.exceptions_total == 4


def test_sync_lag_and_delivery_rate(world):
    message = OutboxMessage.objects.get(aggregate="A-SOON")
    for outcome in ("retry", "retry", "delivered"):
        DeliveryAttempt.objects.create(message=message, attempted_at=NOW - timedelta(minutes=5), outcome=outcome, latency_ms=5)
    figures = control_tower.figures(control_tower.Filters(), now=NOW)
    assert 42 * 60 <= figures.lag_seconds < 43 * 60 and figures.lag_text == "42 min"
    assert figures.pending == 1
    assert (figures.delivered_last_hour, figures.failed_last_hour, figures.delivery_percent) == (1, 2, "33.3")


def test_the_supplier_filter_counts_only_that_suppliers_things(world):
    _, beta = world
    assert counts(control_tower.Filters(supplier=beta)) == {
        "acknowledgement_open": 1, "acknowledgement_due_soon": 0, "acknowledgement_overdue": 1, "awaiting_buyer": 0,
        "receipt_differences": 1,
        "shipments_unreceived": 1, "shipments_overdue": 1, "shipments_partial": 0,
        "documents_review": 0, "documents_expiring": 1,
        "incidents_open": 1, "incidents_hold": 1, "incident_answers": 0,
        "edi_failed": 1, "dead_letters": 1,
    }


def test_the_buyer_filter_counts_their_orders_and_their_suppliers_things(world):
    figures = counts(control_tower.Filters(buyer="P-2"))
    # P-2 buys A-OVERDUE-2 from ALPHA and B-OVERDUE from BETA: orders are theirs alone, supplier-level
    # things (ASNs, documents, incidents) are those of both suppliers, cases those of their orders.
    assert (figures["acknowledgement_open"], figures["acknowledgement_overdue"], figures["awaiting_buyer"]) == (2, 2, 0)
    assert figures["receipt_differences"] == 1 and figures["dead_letters"] == 1
    assert figures["shipments_unreceived"] == 3 and figures["incidents_open"] == 3
    p1 = counts(control_tower.Filters(buyer="P-1"))
    assert (p1["acknowledgement_open"], p1["acknowledgement_overdue"], p1["shipments_unreceived"]) == (4, 1, 2)


def list_rows(client, key, **params):
    response = client.get(reverse("control-tower-list", args=[key]), params)
    assert response.status_code == 200
    return [row.reference for row in response.context["rows"]]


@pytest.fixture
def buyer(client, db):
    client.force_login(UserFactory(username="buyer", is_staff=True, is_superuser=True))
    return client


def test_each_count_leads_to_the_list_behind_it(world, buyer):
    assert list_rows(buyer, "acknowledgement-overdue") == ["A-OVERDUE-1", "B-OVERDUE", "A-OVERDUE-2"]  # oldest due first
    assert list_rows(buyer, "acknowledgement-overdue", supplier="BETA") == ["B-OVERDUE"]
    overdue = buyer.get(reverse("control-tower-list", args=["acknowledgement-overdue"])).context["rows"]
    assert [row.relative for row in overdue] == ["3 days ago", "2 days ago", "1 day ago"]
    assert [row.relative for row in buyer.get(reverse("control-tower-list", args=["acknowledgement-due-soon"])).context["rows"]] \
        == ["today", "in 2 days"]
    assert list_rows(buyer, "acknowledgement-due-soon") == ["A-SOON", "A-SOON-2"]
    assert list_rows(buyer, "awaiting-buyer") == ["A-BUYER"]
    assert list_rows(buyer, "shipments-overdue") == ["ASN-A1", "ASN-B1"]
    assert list_rows(buyer, "shipments-partial") == ["ASN-A3"]
    assert list_rows(buyer, "incidents-hold") == ["QI-1", "QI-3"] or list_rows(buyer, "incidents-hold") == ["QI-3", "QI-1"]
    assert list_rows(buyer, "incident-answers") == ["QI-1"]
    assert list_rows(buyer, "edi-failed") == ["IC4", "IC1", "IC3"]  # newest first
    assert sorted(list_rows(buyer, "dead-letters")) == ["acknowledgement.decided #1"] * 2
    assert len(list_rows(buyer, "documents-expiring")) == 2
    assert len(list_rows(buyer, "exceptions", kind="receipt_short")) == 2
    assert len(list_rows(buyer, "exceptions", kind="proposal_outside_tolerance", age="today")) == 1
    assert len(list_rows(buyer, "receipt-differences", buyer="P-2")) == 1
    assert buyer.get(reverse("control-tower-list", args=["no-such-list"])).status_code == 404


def test_every_count_on_the_page_equals_the_length_of_its_list(world, buyer):
    figures = counts()
    for key in control_tower.DRILLDOWNS:
        if key == "exceptions":
            continue
        response = buyer.get(reverse("control-tower-list", args=[key]))
        assert response.context["page"].paginator.count == figures[key.replace("-", "_")], key


def test_the_page_shows_counts_filters_and_charts_and_refreshes_its_figures_with_htmx(world, buyer):
    page = buyer.get(reverse("control-tower"), {"supplier": "ALPHA"})
    html = page.content.decode()
    assert page.status_code == 200
    assert 'hx-trigger="every 60s"' in html and 'hx-get="/control-tower/?supplier=ALPHA"' in html
    assert f'{reverse("control-tower-list", args=["acknowledgement-overdue"])}?supplier=ALPHA">2<' in html
    assert html.count("<svg") == 3 and "Acknowledgements per day" in html
    fragment = buyer.get(reverse("control-tower"), {"supplier": "ALPHA"}, headers={"HX-Request": "true"})
    text = fragment.content.decode()
    assert text.lstrip().startswith('<div id="figures"') and "<svg" not in text and "<html" not in text


def test_suppliers_and_anonymous_users_cannot_open_the_control_tower(world, client):
    user = UserFactory(username="clerk")
    for url in (reverse("control-tower"), reverse("control-tower-list", args=["acknowledgement-overdue"]),
                reverse("purchase-order-timeline", args=["A-SOON"])):
        assert client.get(url).status_code == 302
        client.force_login(user)
        response = client.get(url)
        assert response.status_code == 302 and "/admin/login/" in response["Location"]
        client.logout()


def test_the_acknowledgement_trend_splits_answers_on_time_and_late(world):
    po = PurchaseOrder.objects.get(number="A-SOON")
    for days_ago, due_days_ago in ((1, 0), (1, 3), (2, 2)):
        ack = Acknowledgement.objects.create(purchase_order=po, revision=1, status="decided", channel="portal",
                                             due_on=TODAY - timedelta(days=due_days_ago))
        Acknowledgement.objects.filter(pk=ack.pk).update(submitted_at=NOW - timedelta(days=days_ago))
    ExceptionCase.objects.filter(status="approved").update(decided_at=NOW - timedelta(days=1))
    acks, exceptions, lag = control_tower.trend_charts(control_tower.Filters(), now=NOW)
    on_time = {rect.title for rect in acks.rects if rect.css == "series-good"}
    late = {rect.title for rect in acks.rects if rect.css == "series-bad"}
    yesterday, before = TODAY - timedelta(days=1), TODAY - timedelta(days=2)
    assert on_time == {f"{yesterday:%d %b}: on time 1", f"{before:%d %b}: on time 1"}
    assert late == {f"{yesterday:%d %b}: late 1"}
    assert "5 opened" in exceptions.summary  # the decided case was opened in the window too
    assert "1 closed" in exceptions.summary


def test_the_control_tower_query_count_does_not_grow_with_the_data(world, buyer, django_assert_max_num_queries):
    with CaptureQueriesContext(connection) as small:
        buyer.get(reverse("control-tower"))
    for n in range(30):
        order(f"MORE-{n}", world[0], due_in=-1)
        case("receipt_over", world[1], age_days=n % 9)
    with django_assert_max_num_queries(len(small.captured_queries)):
        buyer.get(reverse("control-tower"))
    with django_assert_max_num_queries(22):
        buyer.get(reverse("control-tower"))
