"""ASNs through the one shipment service: the rules against the orders, SSCCs, nesting, events."""
from datetime import date, timedelta

import pytest

from collaboration import services
from collaboration.actors import Actor
from collaboration.documents import parse_shipment
from collaboration.errors import InvalidDocument, PermissionDenied
from collaboration.gs1 import sscc_compose
from collaboration.models import ItemRule, Package, PackageContent, Shipment, ShipmentLine, TolerancePolicy
from collaboration.services.shipments import ShipmentClosed
from erp_bridge.models import OutboxMessage
from tests.factories import MembershipFactory, UserFactory, create_purchase_order

DESPATCH = date.today() + timedelta(days=1)


def asn(**overrides) -> dict:
    document = {
        "number": "ASN-1", "ship_to": "PLANT-1", "despatch_date": DESPATCH.isoformat(),
        "expected_arrival": (DESPATCH + timedelta(days=2)).isoformat(), "carrier": "DHL", "tracking_number": "JD0001",
        "lines": [
            {"line": 1, "purchase_order": "PO-1", "order_line": 10, "quantity": "400"},
            {"line": 2, "purchase_order": "PO-2", "order_line": 10, "quantity": "100", "lot": "L-7"},
        ],
        "packages": [
            {"reference": "P1", "kind": "pallet"},
            {"reference": "C1", "kind": "carton", "parent": "P1", "contents": [{"line": 1, "quantity": "250"}]},
            {"reference": "C2", "kind": "carton", "parent": "P1",
             "contents": [{"line": 1, "quantity": "150"}, {"line": 2, "quantity": "100"}]},
        ],
    }
    return {**document, **overrides}


def test_submitted_asn_stores_lines_nested_packages_with_allocated_ssccs_and_tells_the_erp_per_order(orders, logistics):
    shipment = services.shipment_submit(document=parse_shipment(asn()), actor=logistics)
    assert (shipment.status, shipment.revision) == ("submitted", 1)
    packages = {p.reference: p for p in Package.objects.filter(shipment=shipment)}
    assert [packages[r].sscc for r in ("P1", "C1", "C2")] == [
        sscc_compose(extension=0, prefix="4012345", serial=n) for n in (1, 2, 3)]
    assert packages["C1"].parent == packages["P1"] and packages["P1"].parent is None
    assert PackageContent.objects.filter(package=packages["C2"]).count() == 2
    events = {m.aggregate: m for m in OutboxMessage.objects.filter(type="shipment.submitted")}
    assert set(events) == {"PO-1", "PO-2"}
    po1 = events["PO-1"].payload
    assert po1["shipment"] == "ASN-1" and [l["quantity"] for l in po1["lines"]] == ["400"]
    assert {p["sscc"] for p in po1["lines"][0]["packages"]} == {packages["C1"].sscc, packages["C2"].sscc}
    assert events["PO-2"].payload["lines"][0]["lot"] == "L-7"
    assert [(l["purchase_order"], l["order_line"]) for l in events["PO-2"].payload["shipment_lines"]] == [
        ("PO-1", 10), ("PO-2", 10)]


def test_a_draft_saved_again_keeps_its_ssccs_and_a_correction_is_a_new_revision(orders, logistics):
    draft = services.shipment_save_draft(document=parse_shipment(asn()), actor=logistics)
    first = dict(Package.objects.filter(shipment=draft).values_list("reference", "sscc"))
    assert not OutboxMessage.objects.filter(type__startswith="shipment").exists()
    services.shipment_save_draft(document=parse_shipment(asn(carrier="UPS")), actor=logistics)
    assert dict(Package.objects.filter(shipment=draft).values_list("reference", "sscc")) == first
    services.shipment_submit(document=parse_shipment(asn()), actor=logistics)
    corrected = asn(lines=[{"line": 1, "purchase_order": "PO-1", "order_line": 10, "quantity": "390"}],
                    packages=[{"reference": "P1", "kind": "pallet", "contents": [{"line": 1, "quantity": "390"}]}])
    shipment = services.shipment_submit(document=parse_shipment(corrected), actor=logistics)
    assert shipment.revision == 2 and ShipmentLine.objects.get(shipment=shipment).quantity == 390
    assert OutboxMessage.objects.filter(type="shipment.corrected", aggregate="PO-1").exists()
    with pytest.raises(ShipmentClosed, match="submitted"):
        services.shipment_save_draft(document=parse_shipment(asn()), actor=logistics)


def test_cancel_tells_the_erp_and_closes_the_number(orders, logistics, nordwerk):
    services.shipment_submit(document=parse_shipment(asn()), actor=logistics)
    services.shipment_cancel(number="ASN-1", supplier_id=nordwerk.pk, actor=logistics)
    assert Shipment.objects.get().status == "cancelled"
    assert OutboxMessage.objects.filter(type="shipment.cancelled").count() == 2
    with pytest.raises(ShipmentClosed):
        services.shipment_submit(document=parse_shipment(asn()), actor=logistics)


@pytest.mark.parametrize(("lines", "field", "message"), [
    ([{"line": 1, "purchase_order": "PO-1", "order_line": 10, "quantity": "401"}], "quantity", "Open on line 10 of PO-1: 400"),
    ([{"line": 1, "purchase_order": "PO-2", "order_line": 20, "quantity": "1"}], "order_line", "was rejected"),
    ([{"line": 1, "purchase_order": "PO-1", "order_line": 30, "quantity": "1"}], "order_line", "no open line 30"),
    ([{"line": 1, "purchase_order": "PO-1", "order_line": 10, "quantity": "300"},
      {"line": 2, "purchase_order": "PO-1", "order_line": 10, "quantity": "101", "lot": "B"}], "quantity", "Open on line 10"),
])
def test_lines_that_cannot_be_shipped_are_refused_and_nothing_is_stored(orders, logistics, lines, field, message):
    with pytest.raises(InvalidDocument) as refused:
        services.shipment_submit(document=parse_shipment(asn(lines=lines, packages=[])), actor=logistics)
    problems = refused.value.details["lines"]
    assert any(message in text for entry in problems.values() for text in entry.get(field, []))
    assert not Shipment.objects.exists() and not OutboxMessage.objects.filter(type__startswith="shipment").exists()


def test_over_delivery_tolerance_and_earlier_shipments_set_the_open_quantity(orders, logistics, nordwerk):
    TolerancePolicy.objects.create(supplier=nordwerk, quantity_over_pct=5)
    one = [{"line": 1, "purchase_order": "PO-1", "order_line": 20, "quantity": "300"}]
    services.shipment_submit(document=parse_shipment(asn(number="ASN-A", lines=one, packages=[])), actor=logistics)
    rest = [{"line": 1, "purchase_order": "PO-1", "order_line": 20, "quantity": "105"}]  # 100 open + 5 %
    services.shipment_submit(document=parse_shipment(asn(number="ASN-B", lines=rest, packages=[])), actor=logistics)
    more = [{"line": 1, "purchase_order": "PO-1", "order_line": 20, "quantity": "1"}]
    with pytest.raises(InvalidDocument, match="cannot be shipped"):
        services.shipment_submit(document=parse_shipment(asn(number="ASN-C", lines=more, packages=[])), actor=logistics)


def test_unacknowledged_lines_and_other_suppliers_orders_are_refused(orders, logistics, nordwerk, alpenguss):
    create_purchase_order("PO-3", supplier=nordwerk)
    create_purchase_order("PO-X", supplier=alpenguss)
    with pytest.raises(InvalidDocument) as open_line:
        services.shipment_submit(document=parse_shipment(asn(
            lines=[{"line": 1, "purchase_order": "PO-3", "order_line": 10, "quantity": "1"}], packages=[])), actor=logistics)
    assert "not acknowledged yet" in str(open_line.value.details)
    with pytest.raises(InvalidDocument) as foreign:
        services.shipment_submit(document=parse_shipment(asn(
            lines=[{"line": 1, "purchase_order": "PO-X", "order_line": 10, "quantity": "1"}], packages=[])), actor=logistics)
    assert foreign.value.details == {"lines": {"0": {"purchase_order": ["No purchase order PO-X of yours."]}}}


def test_lots_and_serial_numbers_where_the_item_requires_them(orders, logistics):
    ItemRule.objects.create(item="BRK-2201", lot_controlled=True)
    ItemRule.objects.create(item="BRK-2202", serial_controlled=True)
    lines = [{"line": 1, "purchase_order": "PO-1", "order_line": 10, "quantity": "5"},
             {"line": 2, "purchase_order": "PO-1", "order_line": 20, "quantity": "2", "serial_numbers": ["S1", "S1"]}]
    with pytest.raises(InvalidDocument) as refused:
        services.shipment_submit(document=parse_shipment(asn(lines=lines, packages=[])), actor=logistics)
    assert "lot-controlled" in refused.value.details["lines"]["0"]["lot"][0]
    assert "2 different serial numbers" in refused.value.details["lines"]["1"]["serial_numbers"][0]
    lines[0]["lot"], lines[1]["serial_numbers"] = "L-1", ["S1", "S2"]
    services.shipment_submit(document=parse_shipment(asn(lines=lines, packages=[])), actor=logistics)


def test_supplied_ssccs_are_validated_and_unique_across_the_system(orders, logistics):
    valid = sscc_compose(extension=1, prefix="0614141", serial=42)
    one = [{"line": 1, "purchase_order": "PO-1", "order_line": 10, "quantity": "10"}]
    packed = lambda sscc: [{"reference": "P1", "kind": "pallet", "sscc": sscc, "contents": [{"line": 1, "quantity": "10"}]}]  # noqa: E731
    services.shipment_submit(document=parse_shipment(asn(number="ASN-A", lines=one, packages=packed(valid))), actor=logistics)
    for sscc, message in [(valid, "already used by another shipment"), (valid[:-1] + "0", "check digit"), ("123", "18 digits")]:
        with pytest.raises(InvalidDocument) as refused:
            services.shipment_submit(document=parse_shipment(asn(number="ASN-B", lines=one, packages=packed(sscc))),
                                     actor=logistics)
        assert message in str(refused.value.details["packages"])
    assert Shipment.objects.count() == 1


@pytest.mark.parametrize(("packages", "message"), [
    ([{"reference": "P1", "kind": "pallet", "parent": "P1", "contents": [{"line": 1, "quantity": "10"}]}], "nested in itself"),
    ([{"reference": "A", "kind": "carton", "parent": "B", "contents": [{"line": 1, "quantity": "10"}]},
      {"reference": "B", "kind": "carton", "parent": "A"}], "nested in itself"),
    ([{"reference": "A", "kind": "carton", "parent": "Z", "contents": [{"line": 1, "quantity": "10"}]}], "not in the shipment"),
    ([{"reference": "A", "kind": "carton", "contents": [{"line": 1, "quantity": "10"}, {"line": 5, "quantity": "1"}]}],
     "holds line 5"),
])
def test_package_structure_errors_are_refused_by_the_document(packages, message):
    with pytest.raises(InvalidDocument) as refused:
        parse_shipment(asn(lines=[{"line": 1, "purchase_order": "PO-1", "order_line": 10, "quantity": "10"}], packages=packages))
    assert message in str(refused.value.details)


def test_a_draft_may_be_packed_bit_by_bit_but_a_submitted_shipment_must_add_up(orders, logistics):
    partly = asn(lines=[{"line": 1, "purchase_order": "PO-1", "order_line": 10, "quantity": "10"}],
                 packages=[{"reference": "A", "kind": "carton", "contents": [{"line": 1, "quantity": "9"}]}])
    draft = services.shipment_save_draft(document=parse_shipment(partly), actor=logistics)
    with pytest.raises(InvalidDocument) as refused:
        services.shipment_submit(document=parse_shipment(partly), actor=logistics)
    assert refused.value.details == {"lines": {"0": {"quantity": ["10 shipped but 9 packed."]}}}
    draft.refresh_from_db()
    assert draft.status == "draft" and not OutboxMessage.objects.filter(type__startswith="shipment.").exists()


def test_only_the_suppliers_logistics_sales_or_admin_users_ship(orders, nordwerk, alpenguss_sales):
    quality = UserFactory(username="qa@nordwerk.example")
    MembershipFactory(user=quality, supplier=nordwerk, role="quality")
    with pytest.raises(PermissionDenied):
        services.shipment_submit(document=parse_shipment(asn()), actor=Actor.for_user(quality, channel="portal"))
    with pytest.raises(InvalidDocument):  # another supplier's user does not even see the orders
        services.shipment_submit(document=parse_shipment(asn()), actor=Actor.for_user(alpenguss_sales, channel="portal"))
    assert not Shipment.objects.exists()


def test_without_any_tolerance_policy_the_open_quantity_is_the_limit(orders, logistics):
    TolerancePolicy.objects.all().delete()  # no default policy: every limit zero
    one = [{"line": 1, "purchase_order": "PO-1", "order_line": 10, "quantity": "400"}]
    assert services.shipment_submit(document=parse_shipment(asn(lines=one, packages=[])), actor=logistics).status == "submitted"
    with pytest.raises(InvalidDocument, match="cannot be shipped"):
        services.shipment_submit(document=parse_shipment(asn(number="ASN-2", lines=[{**one[0], "quantity": "1"}],
                                                             packages=[])), actor=logistics)


def test_ssccs_under_the_portals_prefix_are_allocated_not_typed_and_allocation_skips_used_serials(
    orders, logistics, nordwerk
):
    one = [{"line": 1, "purchase_order": "PO-1", "order_line": 10, "quantity": "10"}]
    next_serial = sscc_compose(extension=0, prefix="4012345", serial=1)  # what the portal would hand out next
    taken = asn(number="ASN-A", lines=one, packages=[
        {"reference": "C1", "kind": "carton", "sscc": next_serial, "contents": [{"line": 1, "quantity": "10"}]}])
    with pytest.raises(InvalidDocument, match="cannot be used") as refused:
        services.shipment_submit(document=parse_shipment(taken), actor=logistics)
    assert "allocates from" in str(refused.value.details)
    # Under its own registered prefix a supplier may label itself; the portal then skips those serials.
    nordwerk.gs1_company_prefix = "4099999"
    nordwerk.save()
    own = sscc_compose(extension=0, prefix="4099999", serial=1)
    services.shipment_submit(document=parse_shipment(asn(number="ASN-B", lines=one, packages=[
        {"reference": "C1", "kind": "carton", "sscc": own, "contents": [{"line": 1, "quantity": "10"}]}])), actor=logistics)
    allocated = services.shipment_submit(document=parse_shipment(asn(number="ASN-C", lines=one, packages=[
        {"reference": "C1", "kind": "carton", "contents": [{"line": 1, "quantity": "10"}]}])), actor=logistics)
    assert allocated.packages.get().sscc == sscc_compose(extension=0, prefix="4099999", serial=2)


def test_a_draft_sent_back_with_the_ssccs_it_was_given_keeps_them(orders, logistics):
    draft = services.shipment_save_draft(document=parse_shipment(asn()), actor=logistics)
    given = {p.reference: p.sscc for p in draft.packages.all()}
    again = asn(packages=[{**package, "sscc": given[package["reference"]]} for package in asn()["packages"]])
    submitted = services.shipment_submit(document=parse_shipment(again), actor=logistics)
    assert {p.reference: p.sscc for p in submitted.packages.all()} == given
