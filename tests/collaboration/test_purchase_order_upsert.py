"""The revision rules of the canonical PO document, through the one upsert service."""
from decimal import Decimal

import pytest

from collaboration import services
from collaboration.actors import Actor
from collaboration.documents import parse_purchase_order
from collaboration.errors import InvalidDocument, RevisionContentConflict, StaleRevision, SupplierMismatch, UnknownSupplier
from collaboration.models import AuditEvent, Channel, PurchaseOrder, PurchaseOrderRevision
from tests.factories import po_document

ERP = Actor.system("test-erp", channel=Channel.ERP)


def upsert(data: dict):
    return services.purchase_order_upsert(document=parse_purchase_order(data), actor=ERP)


def snapshot() -> list:
    return [
        (po.number, po.revision, po.status, po.content_hash, [(l.line_number, l.quantity, l.is_cancelled) for l in po.lines.all()])
        for po in PurchaseOrder.objects.prefetch_related("lines").order_by("number")
    ] + [list(PurchaseOrderRevision.objects.values_list("purchase_order__number", "revision"))]


def test_new_order_is_created_with_lines_revision_and_audit(nordwerk):
    result = upsert(po_document(line_count=3))
    assert result.outcome == "created"
    po = result.purchase_order
    assert po.status == PurchaseOrder.Status.AWAITING_ACKNOWLEDGEMENT
    assert [l.line_number for l in po.lines.all()] == [10, 20, 30]
    assert po.lines.get(line_number=10).quantity == Decimal("400")
    assert po.revisions.get().revision == 1
    assert AuditEvent.objects.filter(action="purchase_order.received", object_id=str(po.pk), channel="erp").count() == 1


def test_same_revision_same_content_is_a_no_op(nordwerk):
    upsert(po_document())
    before = snapshot()
    # The same amounts spelled differently are the same content.
    again = po_document()
    again["lines"][0]["quantity"] = "400.000"
    again["lines"][0]["unit_price"] = "3.8500"
    assert upsert(again).outcome == "unchanged"
    assert snapshot() == before
    assert AuditEvent.objects.count() == 1


def test_same_revision_other_content_is_refused(nordwerk):
    upsert(po_document())
    before = snapshot()
    changed = po_document()
    changed["lines"][0]["quantity"] = "500"
    with pytest.raises(RevisionContentConflict):
        upsert(changed)
    assert snapshot() == before


def test_higher_revision_records_line_differences_and_asks_for_reacknowledgement(nordwerk):
    upsert(po_document(line_count=3))
    revised = po_document(revision=2, line_count=3)
    revised["lines"][0]["quantity"] = "450"
    revised["lines"][1]["requested_date"] = "2026-12-20"
    del revised["lines"][2]
    revised["lines"].append(
        {"line": 40, "item": "SLV-2290", "description": "Bearing sleeve", "quantity": "20", "uom": "PCE",
         "unit_price": "2.15", "requested_date": "2026-12-05"}
    )
    result = upsert(revised)
    assert result.outcome == "updated"
    po = result.purchase_order
    po.refresh_from_db()
    assert po.revision == 2
    assert po.status == PurchaseOrder.Status.CHANGED
    changes = {c["line"]: c for c in po.revisions.get(revision=2).changes}
    assert changes[10]["fields"] == {"quantity": {"from": "400", "to": "450"}}
    assert changes[20]["fields"] == {"requested_date": {"from": "2026-12-02", "to": "2026-12-20"}}
    assert changes[30]["change"] == "cancelled"
    assert changes[40]["change"] == "added"
    lines = {l.line_number: l for l in po.lines.all()}
    assert lines[30].is_cancelled and lines[30].changed_in_revision == 2
    assert lines[10].changed_in_revision == 2
    assert AuditEvent.objects.filter(action="purchase_order.revised").count() == 1


def test_higher_revision_with_unchanged_lines_keeps_their_revision(nordwerk):
    upsert(po_document(line_count=2))
    revised = po_document(revision=2, line_count=2)
    revised["lines"][1]["quantity"] = "10"
    po = upsert(revised).purchase_order
    lines = {l.line_number: l for l in po.lines.all()}
    assert lines[10].changed_in_revision == 1
    assert lines[20].changed_in_revision == 2


def test_lower_revision_is_refused_and_nothing_changes(nordwerk):
    upsert(po_document(revision=3))
    before = snapshot()
    with pytest.raises(StaleRevision) as error:
        upsert(po_document(revision=2))
    assert error.value.status == 409
    assert snapshot() == before


def test_unknown_supplier_is_refused_and_nothing_is_stored(db):
    with pytest.raises(UnknownSupplier) as error:
        upsert(po_document(supplier="NOBODY"))
    assert error.value.status == 422
    assert "NOBODY" in error.value.message
    assert PurchaseOrder.objects.count() == 0
    assert AuditEvent.objects.count() == 0


def test_revision_cannot_move_order_to_another_supplier(nordwerk, alpenguss):
    upsert(po_document())
    before = snapshot()
    with pytest.raises(SupplierMismatch):
        upsert(po_document(revision=2, supplier="ALPENGUSS"))
    assert snapshot() == before


@pytest.mark.parametrize(
    ("change", "field"),
    [
        ({"revision": 0}, "revision"),
        ({"currency": "euro"}, "currency"),
        ({"order_date": "02.11.2026"}, "order_date"),
        ({"lines": []}, "lines"),
        ({"supplier": ""}, "supplier"),
    ],
)
def test_malformed_header_names_the_field(change, field):
    with pytest.raises(InvalidDocument) as error:
        parse_purchase_order(po_document(**change))
    assert field in error.value.details


@pytest.mark.parametrize(
    ("line_change", "field"),
    [
        ({"quantity": "0"}, "quantity"),
        ({"quantity": "-5"}, "quantity"),
        ({"quantity": "many"}, "quantity"),
        ({"unit_price": "-1"}, "unit_price"),
        ({"unit_price": "1.1234567"}, "unit_price"),
        ({"requested_date": "2026-02-30"}, "requested_date"),
        ({"line": "ten"}, "line"),
        ({"item": None}, "item"),
    ],
)
def test_malformed_line_names_the_line_and_field(line_change, field):
    data = po_document(line_count=2)
    data["lines"][1].update(line_change)
    with pytest.raises(InvalidDocument) as error:
        parse_purchase_order(data)
    assert field in error.value.details["lines"]["1"]


def test_repeated_line_numbers_are_refused():
    data = po_document(line_count=2)
    data["lines"][1]["line"] = 10
    with pytest.raises(InvalidDocument) as error:
        parse_purchase_order(data)
    assert "unique" in str(error.value.details["lines"])


def test_body_number_must_match_url_number():
    with pytest.raises(InvalidDocument) as error:
        parse_purchase_order(po_document("PO-1"), number="PO-2")
    assert "number" in error.value.details


@pytest.mark.parametrize("data", [None, [], "PO-7001", 42])
def test_document_that_is_not_an_object_is_refused(data):
    with pytest.raises(InvalidDocument):
        parse_purchase_order(data)


def test_batch_keeps_good_documents_and_reports_bad_ones_in_order(nordwerk):
    upsert(po_document("PO-OLD", revision=2))
    documents = [
        parse_purchase_order(po_document("PO-A")),
        parse_purchase_order(po_document("PO-B", supplier="NOBODY")),
        parse_purchase_order(po_document("PO-OLD", revision=1)),
        parse_purchase_order(po_document("PO-C", line_count=2)),
    ]
    results = services.purchase_orders_upsert(documents=documents, actor=ERP)
    assert [getattr(r, "outcome", None) or r.code for r in results] == ["created", "unknown_supplier", "stale_revision", "created"]
    assert sorted(PurchaseOrder.objects.values_list("number", flat=True)) == ["PO-A", "PO-C", "PO-OLD"]
    assert PurchaseOrder.objects.get(number="PO-C").lines.count() == 2
    assert AuditEvent.objects.filter(action="purchase_order.received").count() == 3


def test_batch_refuses_repeated_numbers():
    document = parse_purchase_order(po_document("PO-A"))
    with pytest.raises(ValueError):
        services.purchase_orders_upsert(documents=[document, document], actor=ERP)


def test_a_revision_adopting_the_confirmed_commitment_keeps_the_line_confirmed(nordwerk, nordwerk_sales):
    from datetime import date

    from collaboration.services import LineResponse

    from collaboration.models import TolerancePolicy

    TolerancePolicy.objects.create(supplier=nordwerk, quantity_under_pct=5)
    upsert(po_document(line_count=2))
    services.acknowledgement_submit(number="PO-7001", revision=1, actor=Actor.for_user(nordwerk_sales, channel="portal"),
                                    responses=[LineResponse(line=10, action="change", quantity=Decimal("390")),
                                               LineResponse(line=20, action="accept")])
    line10 = PurchaseOrder.objects.get().lines.get(line_number=10)
    assert line10.response_status == "confirmed" and line10.confirmed_quantity == Decimal("390")
    # The ERP amends the order to the committed quantity: nothing to answer again.
    adopted = po_document(revision=2, line_count=2)
    adopted["lines"][0]["quantity"] = "390"
    po = upsert(adopted).purchase_order
    po.refresh_from_db()
    assert po.status == PurchaseOrder.Status.ACKNOWLEDGED
    assert po.revisions.get(revision=2).changes[0]["change"] == "adopted"
    line10.refresh_from_db()
    assert (line10.response_status, line10.confirmed_revision) == ("confirmed", 2)
    # Any other change (here the same line's date as well) asks the supplier again.
    other = po_document(revision=3, line_count=2)
    other["lines"][0].update(quantity="390", requested_date=date(2027, 1, 5).isoformat())
    po = upsert(other).purchase_order
    po.refresh_from_db()
    assert po.status == PurchaseOrder.Status.CHANGED
    assert po.lines.get(line_number=10).response_status == "open"
