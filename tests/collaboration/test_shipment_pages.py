"""The ASN pages: start from open lines, pack with the builder (htmx or plain posts), submit, see receipts."""
from decimal import Decimal

import pytest
from django.urls import reverse

from collaboration import services
from collaboration.actors import Actor
from collaboration.documents import parse_receipt, parse_shipment
from collaboration.models import Package, PurchaseOrderLine, Shipment
from erp_bridge.models import OutboxMessage
from tests.collaboration.test_shipments import DESPATCH, asn
from tests.factories import create_purchase_order


@pytest.fixture
def dock(client, logistics):  # noqa: F811
    client.force_login(logistics.user)
    return client


def line_pk(po: str, line: int) -> int:
    return PurchaseOrderLine.objects.get(purchase_order__number=po, line_number=line).pk


def start(dock, **picks) -> object:
    data = {"number": "ASN-9", "despatch_date": DESPATCH.isoformat(), "expected_arrival": DESPATCH.isoformat(),
            "carrier": "DHL", "tracking_number": "", "pick": list(picks)}
    data.update({f"quantity-{pk}": quantity for pk, quantity in picks.items()})
    return dock.post(reverse("collaboration:shipment-new"), data)


def editor_post(shipment: Shipment, **changes) -> dict:
    """The builder form as the browser posts it for the stored draft, with `changes` applied."""
    data = {"despatch_date": shipment.despatch_date.isoformat(), "expected_arrival": shipment.expected_arrival.isoformat(),
            "carrier": shipment.carrier, "tracking_number": shipment.tracking_number,
            "line": [], "packages": str(shipment.packages.count())}
    for line in shipment.lines.all():
        data["line"].append(str(line.line_number))
        data[f"line-{line.line_number}-order_line"] = str(line.order_line_id)
        data[f"line-{line.line_number}-quantity"] = str(line.quantity.normalize())
        data[f"line-{line.line_number}-lot"] = line.lot
    for index, package in enumerate(shipment.packages.select_related("parent")):
        data[f"package-{index}-reference"] = package.reference
        data[f"package-{index}-kind"] = package.kind
        data[f"package-{index}-parent"] = package.parent.reference if package.parent else ""
        for content in package.contents.select_related("shipment_line"):
            data[f"package-{index}-line-{content.shipment_line.line_number}"] = str(content.quantity.normalize())
    data.update(changes)
    return data


def test_the_new_page_lists_only_acknowledged_lines_with_quantity_left(orders, dock):
    page = dock.get(reverse("collaboration:shipment-new")).content.decode()
    assert f'value="{line_pk("PO-1", 10)}"' in page and f'value="{line_pk("PO-2", 10)}"' in page
    assert f'value="{line_pk("PO-2", 20)}"' not in page  # rejected


def test_picking_lines_saves_a_draft_and_opens_the_builder(orders, dock):
    response = start(dock, **{str(line_pk("PO-1", 10)): "", str(line_pk("PO-2", 10)): "60"})
    shipment = Shipment.objects.get(number="ASN-9")
    assert response.url == reverse("collaboration:shipment-edit", args=["ASN-9"])
    assert shipment.status == "draft" and shipment.ship_to == "PLANT-1"
    assert [(l.order_line.line_number, l.quantity) for l in shipment.lines.all()] == [(10, Decimal(400)), (10, Decimal(60))]
    assert not OutboxMessage.objects.filter(type__startswith="shipment.").exists()


def test_lines_for_two_ship_tos_are_refused_on_the_start_page(orders, dock, nordwerk, nordwerk_sales):
    create_purchase_order("PO-3", supplier=nordwerk, ship_to="PLANT-2")
    services.acknowledgement_accept_remaining(number="PO-3", revision=1, actor=Actor.for_user(nordwerk_sales, channel="portal"))
    response = start(dock, **{str(line_pk("PO-1", 10)): "", str(line_pk("PO-3", 10)): ""})
    assert response.status_code == 400 and "one ship-to" in response.content.decode()
    assert not Shipment.objects.exists()


def test_the_quick_packer_builds_two_pallets_of_cartons_and_submit_sends_the_asn(orders, dock):
    start(dock, **{str(line_pk("PO-1", 10)): "400"})
    url = reverse("collaboration:shipment-edit", args=["ASN-9"])
    shipment = Shipment.objects.get(number="ASN-9")
    dock.post(url, editor_post(shipment, action="add_packages", **{"quick-count": "2", "quick-kind": "pallet"}))
    for pallet in ("P1", "P2"):
        shipment = Shipment.objects.get(number="ASN-9")
        dock.post(url, editor_post(shipment, action="add_packages", **{
            "quick-count": "2", "quick-kind": "carton", "quick-parent": pallet, "quick-line": "1", "quick-quantity": "100"}))
    shipment = Shipment.objects.get(number="ASN-9")
    tree = {p.reference: (p.kind, p.parent.reference if p.parent else "") for p in shipment.packages.select_related("parent")}
    assert tree == {"P1": ("pallet", ""), "P2": ("pallet", ""), "C1": ("carton", "P1"), "C2": ("carton", "P1"),
                    "C3": ("carton", "P2"), "C4": ("carton", "P2")}
    response = dock.post(url, editor_post(shipment, action="submit"))
    assert response.url == reverse("collaboration:shipment-detail", args=["ASN-9"])
    shipment.refresh_from_db()
    assert shipment.status == "submitted" and len({p.sscc for p in shipment.packages.all()}) == 6
    assert OutboxMessage.objects.filter(type="shipment.submitted", aggregate="PO-1").count() == 1


def test_submitting_unpacked_or_too_much_shows_the_error_on_the_line_and_keeps_the_draft(orders, dock):
    start(dock, **{str(line_pk("PO-1", 10)): "400"})
    shipment = Shipment.objects.get(number="ASN-9")
    url = reverse("collaboration:shipment-edit", args=["ASN-9"])
    partly = editor_post(shipment, action="submit", packages="1", **{
        "package-0-reference": "C1", "package-0-kind": "carton", "package-0-line-1": "300"})
    response = dock.post(url, partly, HTTP_HX_REQUEST="true")
    page = response.content.decode()
    assert response.status_code == 400 and "400 shipped but 300 packed" in page
    assert page.lstrip().startswith('<form id="editor"')  # htmx gets the builder alone
    too_much = editor_post(shipment, action="save", **{"line-1-quantity": "900"})
    page = dock.post(url, too_much).content.decode()
    assert "Open on line 10 of PO-1: 400 PCE" in page
    shipment.refresh_from_db()
    assert shipment.status == "draft" and shipment.lines.get().quantity == 400 and not shipment.packages.exists()


def test_the_detail_page_shows_what_was_received_and_offers_no_correction_after_receipt(orders, logistics, dock):  # noqa: F811
    services.shipment_submit(document=parse_shipment(asn()), actor=logistics)
    services.receipt_record(actor=Actor.system("erp", channel="erp"), document=parse_receipt({
        "reference": "GR-1", "purchase_order": "PO-1", "received_on": DESPATCH.isoformat(),
        "lines": [{"line": 10, "quantity": "380"}]}))
    page = dock.get(reverse("collaboration:shipment-detail", args=["ASN-1"])).content.decode()
    assert "Partly received" in page and "380" in page and "short" in page
    assert "Received less than the ASN announced" in page
    assert reverse("collaboration:shipment-edit", args=["ASN-1"]) not in page
    assert Package.objects.filter(shipment__number="ASN-1").count() == 3 and "labels.pdf?size=a6" in page


def test_labels_and_packing_list_are_pdfs(orders, logistics, dock):  # noqa: F811
    services.shipment_submit(document=parse_shipment(asn()), actor=logistics)
    for url in (reverse("collaboration:shipment-labels", args=["ASN-1"]) + "?size=4x6",
                reverse("collaboration:shipment-packing-list", args=["ASN-1"])):
        response = dock.get(url)
        assert response["Content-Type"] == "application/pdf" and response.content.startswith(b"%PDF")


def test_another_suppliers_shipment_is_not_found_on_any_page(orders, logistics, client, alpenguss_sales):  # noqa: F811
    services.shipment_submit(document=parse_shipment(asn()), actor=logistics)
    client.force_login(alpenguss_sales)
    for name in ("shipment-detail", "shipment-edit", "shipment-labels", "shipment-packing-list"):
        assert client.get(reverse(f"collaboration:{name}", args=["ASN-1"])).status_code == 404
    assert client.post(reverse("collaboration:shipment-cancel", args=["ASN-1"])).status_code == 404
    assert Shipment.objects.get(number="ASN-1").status == "submitted"


def test_a_csv_upload_saves_a_draft_and_a_bad_file_lists_row_errors(orders, dock):
    header = "Shipment,Ship-to,Despatch date,Expected arrival,PO,PO line,Quantity,Package,Package type,On pallet\n"
    good = header + f"ASN-U,PLANT-1,{DESPATCH},{DESPATCH},PO-1,10,400,C1,carton,P1\n"
    response = dock.post(reverse("collaboration:shipment-upload"), {"file": _file(good)})
    assert response.url == reverse("collaboration:shipment-detail", args=["ASN-U"])
    assert Shipment.objects.get(number="ASN-U").status == "draft"
    bad = header + f"ASN-V,PLANT-1,{DESPATCH},{DESPATCH},PO-1,10,9999,C1,carton,\n"
    response = dock.post(reverse("collaboration:shipment-upload"), {"file": _file(bad), "submit": "on"})
    assert response.status_code == 400 and "Nothing was stored" in response.content.decode()
    assert not Shipment.objects.filter(number="ASN-V").exists()


def _file(text: str):
    from django.core.files.uploadedfile import SimpleUploadedFile

    return SimpleUploadedFile("asn.csv", text.encode(), content_type="text/csv")


def test_the_order_page_shows_per_line_what_was_shipped_and_received(orders, logistics, client, nordwerk_sales):  # noqa: F811
    services.shipment_submit(document=parse_shipment(asn()), actor=logistics)
    services.receipt_record(actor=Actor.system("erp", channel="erp"), document=parse_receipt({
        "reference": "GR-1", "purchase_order": "PO-1", "received_on": DESPATCH.isoformat(),
        "lines": [{"line": 10, "quantity": "380"}]}))
    client.force_login(nordwerk_sales)
    page = client.get(reverse("collaboration:purchase-order-detail", args=["PO-1"])).content.decode()
    assert 'data-testid="deliveries-10">Shipped 400 · received 380<' in page
    assert 'data-testid="deliveries-20"' not in page  # nothing shipped or received yet


def test_quick_packing_a_submitted_asn_sends_nothing_until_the_correction_is_submitted(orders, logistics, dock):  # noqa: F811
    shipment = services.shipment_submit(document=parse_shipment(asn()), actor=logistics)
    url = reverse("collaboration:shipment-edit", args=["ASN-1"])
    page = dock.post(url, editor_post(shipment, action="add_packages", **{"quick-count": "2", "quick-kind": "pallet"}))
    assert page.status_code == 200 and 'value="P2"' in page.content.decode()
    shipment.refresh_from_db()
    assert shipment.revision == 1 and shipment.packages.count() == 3
    assert not OutboxMessage.objects.filter(type="shipment.corrected").exists()


def test_a_forged_line_pick_is_ignored_not_an_error(orders, dock):
    response = dock.post(reverse("collaboration:shipment-new"), {
        "number": "ASN-9", "despatch_date": DESPATCH.isoformat(), "expected_arrival": DESPATCH.isoformat(),
        "pick": ["abc", "-1"]})
    assert response.status_code == 400 and "Tick the lines" in response.content.decode()


def test_shipment_pages_take_a_fixed_number_of_queries(orders, logistics, dock, django_assert_max_num_queries):  # noqa: F811
    services.shipment_submit(document=parse_shipment(asn()), actor=logistics)
    for name, args in (("shipment-list", []), ("shipment-detail", ["ASN-1"]), ("shipment-edit", ["ASN-1"]),
                       ("shipment-new", [])):
        with django_assert_max_num_queries(13):
            assert dock.get(reverse(f"collaboration:{name}", args=args)).status_code == 200
