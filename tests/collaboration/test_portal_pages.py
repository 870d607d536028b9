"""Portal pages: PO list (filter, search, pagination), detail, accept, tenancy, pinned query counts."""
from datetime import date, timedelta
from decimal import Decimal

import pytest
from django.urls import reverse

from collaboration import services
from collaboration.actors import Actor
from collaboration.documents import parse_invoice_status, parse_receipt
from collaboration.services import LineResponse, ScheduleInput

from collaboration.models import Acknowledgement, AuditEvent, PurchaseOrder
from erp_bridge.models import OutboxMessage
from tests.factories import MembershipFactory, UserFactory, create_purchase_order, po_document

LIST_URL = reverse("collaboration:purchase-order-list")


def detail_url(number: str) -> str:
    return reverse("collaboration:purchase-order-detail", args=[number])


def accept(client, number: str, revision: int = 1, **extra):
    """'Accept all remaining lines' on the PO page."""
    url = reverse("collaboration:acknowledgement-submit", args=[number])
    return client.post(url, {"revision": revision, "accept_remaining": "1"}, **extra)


@pytest.fixture
def logged_in(client, nordwerk_sales):
    client.force_login(nordwerk_sales)
    return client


def test_anonymous_user_is_sent_to_login(client, db):
    response = client.get(LIST_URL)
    assert response.status_code == 302
    assert response["Location"].startswith(reverse("login"))


def test_list_shows_only_own_supplier_orders(logged_in, nordwerk, alpenguss):
    create_purchase_order("PO-OWN", supplier=nordwerk)
    create_purchase_order("PO-OTHER", supplier=alpenguss)
    content = logged_in.get(LIST_URL).content.decode()
    assert "PO-OWN" in content
    assert "PO-OTHER" not in content


def test_list_filters_by_status_and_searches_number_and_item(logged_in, nordwerk, nordwerk_sales):
    create_purchase_order("PO-100", supplier=nordwerk)
    accepted = create_purchase_order("PO-200", supplier=nordwerk, line_count=2)
    accept(logged_in, accepted.number)
    by_status = logged_in.get(LIST_URL, {"status": "acknowledged"}).content.decode()
    assert "PO-200" in by_status and "PO-100" not in by_status
    by_number = logged_in.get(LIST_URL, {"q": "po-10"}).content.decode()
    assert "PO-100" in by_number and "PO-200" not in by_number
    # BRK-2202 is only on the second line of PO-200.
    by_item = logged_in.get(LIST_URL, {"q": "BRK-2202"}).content.decode()
    assert "PO-200" in by_item and "PO-100" not in by_item


def test_unknown_status_filter_is_ignored(logged_in, nordwerk):
    create_purchase_order("PO-100", supplier=nordwerk)
    assert "PO-100" in logged_in.get(LIST_URL, {"status": "bogus"}).content.decode()


def test_list_paginates(logged_in, nordwerk):
    for n in range(30):
        create_purchase_order(f"PO-{n:03d}", supplier=nordwerk, order_date=f"2026-10-{n % 28 + 1:02d}")
    first = logged_in.get(LIST_URL)
    assert first.context["page"].paginator.num_pages == 2
    assert len(first.context["page"].object_list) == 25
    second = logged_in.get(LIST_URL, {"page": 2})
    assert len(second.context["page"].object_list) == 5
    assert "Page 2 of 2" in second.content.decode()


def test_htmx_request_gets_only_the_results_fragment(logged_in, nordwerk):
    create_purchase_order("PO-100", supplier=nordwerk)
    response = logged_in.get(LIST_URL, {"q": "PO-100"}, HTTP_HX_REQUEST="true")
    content = response.content.decode()
    assert 'id="results"' in content and "PO-100" in content
    assert "<html" not in content


def test_list_query_count_does_not_grow_with_orders(logged_in, nordwerk, django_assert_max_num_queries):
    create_purchase_order("PO-A", supplier=nordwerk)
    with django_assert_max_num_queries(6):
        logged_in.get(LIST_URL)
    for n in range(40):
        create_purchase_order(f"PO-{n:03d}", supplier=nordwerk, line_count=3)
    with django_assert_max_num_queries(6):
        logged_in.get(LIST_URL)
    with django_assert_max_num_queries(6):
        logged_in.get(LIST_URL, {"q": "BRK", "status": "awaiting_acknowledgement", "page": 2})


def test_detail_shows_lines_and_revision_history(logged_in, nordwerk):
    create_purchase_order("PO-7001", supplier=nordwerk, line_count=2)
    revised = po_document("PO-7001", supplier="NORDWERK", revision=2, line_count=2)
    revised["lines"][1]["quantity"] = "444"
    create_purchase_order("PO-7001", supplier=nordwerk, revision=2, line_count=2, lines=revised["lines"])
    content = logged_in.get(detail_url("PO-7001")).content.decode()
    assert "BRK-2201" in content and "BRK-2202" in content
    assert "Revision 2" in content and "Revision 1" in content
    assert "quantity 400 → 444" in content
    assert "Changed — please re-acknowledge" in content


def test_detail_query_count_is_constant(logged_in, nordwerk, nordwerk_sales, django_assert_max_num_queries):
    create_purchase_order("PO-S", supplier=nordwerk, line_count=1)
    create_purchase_order("PO-L", supplier=nordwerk, line_count=60)
    # Responses with split schedules and a draft on the large order must not add queries per line.
    actor = Actor.for_user(nordwerk_sales, channel="portal")
    start = date.today() + timedelta(days=30)  # answers may not promise dates in the past
    services.acknowledgement_submit(number="PO-L", revision=1, actor=actor, responses=[
        LineResponse(line=10 * n, action="change", quantity=Decimal("400"), schedule=(
            ScheduleInput(Decimal("100"), start + timedelta(days=n)),
            ScheduleInput(Decimal("300"), start + timedelta(days=19 + n)))) for n in range(1, 30)])
    services.acknowledgement_draft_save(number="PO-L", revision=1, actor=actor,
                                        response=LineResponse(line=400, action="accept"))
    erp = Actor.system("test", channel="erp")
    for n in range(3):
        services.receipt_record(actor=erp, document=parse_receipt({
            "reference": f"GR-{n}", "purchase_order": "PO-L", "received_on": "2026-12-01",
            "lines": [{"line": 10 * k, "quantity": "10"} for k in range(1, 40)]}))
    services.invoice_status_record(actor=erp, document=parse_invoice_status({
        "supplier": "NORDWERK", "invoice_number": "INV-1", "version": 1, "status": "received", "purchase_order": "PO-L"}))
    # session, user, memberships, order, revisions, acknowledgements, line count, draft count,
    # lines, responses, schedules, receipts, invoices submitted here, invoice statuses, timeline
    for number in ("PO-S", "PO-L"):
        with django_assert_max_num_queries(15):
            assert logged_in.get(detail_url(number)).status_code == 200


def test_other_suppliers_order_is_404_on_every_page(logged_in, alpenguss):
    create_purchase_order("PO-OTHER", supplier=alpenguss)
    assert logged_in.get(detail_url("PO-OTHER")).status_code == 404
    assert accept(logged_in, "PO-OTHER").status_code == 404
    assert PurchaseOrder.objects.get().status == PurchaseOrder.Status.AWAITING_ACKNOWLEDGEMENT
    assert not Acknowledgement.objects.exists()


def test_accept_records_acknowledgement_audit_and_outbox_at_once(logged_in, nordwerk, nordwerk_sales):
    po = create_purchase_order("PO-7001", supplier=nordwerk, line_count=2)
    response = accept(logged_in, "PO-7001", follow=True)
    assert "All remaining lines accepted." in response.content.decode()
    po.refresh_from_db()
    assert po.status == PurchaseOrder.Status.ACKNOWLEDGED
    ack = Acknowledgement.objects.get()
    assert ack.submitted_by == nordwerk_sales and ack.channel == "portal" and ack.revision == 1
    assert ack.lines.count() == 2
    audit = AuditEvent.objects.get(action="acknowledgement.submitted")
    assert audit.actor == nordwerk_sales and audit.purchase_order == "PO-7001"
    message = OutboxMessage.objects.get(destination="erp")
    assert (message.type, message.aggregate, message.sequence) == ("acknowledgement.decided", "PO-7001", 1)
    assert [line["line"] for line in message.payload["lines"]] == [10, 20]
    assert message.payload["lines"][0] == {
        "line": 10, "decision": "accepted", "quantity": "400", "unit_price": "3.85",
        "schedule": [{"quantity": "400", "date": "2026-12-01"}], "reason_code": "", "reason_text": "",
    }


def test_second_accept_is_refused_with_a_message_and_changes_nothing(logged_in, nordwerk):
    create_purchase_order("PO-7001", supplier=nordwerk)
    accept(logged_in, "PO-7001")
    response = accept(logged_in, "PO-7001", follow=True)
    assert "nothing to submit" in response.content.decode()
    assert Acknowledgement.objects.count() == 1
    assert OutboxMessage.objects.filter(destination="erp").count() == 1


def test_accept_for_superseded_revision_is_refused(logged_in, nordwerk):
    create_purchase_order("PO-7001", supplier=nordwerk)
    create_purchase_order("PO-7001", supplier=nordwerk, revision=2, line_count=2)
    response = accept(logged_in, "PO-7001", revision=1, follow=True)
    assert "superseded by revision 2" in response.content.decode()
    assert not Acknowledgement.objects.exists()


def test_quality_role_cannot_accept(client, nordwerk):
    quality = MembershipFactory(user=UserFactory(), supplier=nordwerk, role="quality").user
    client.force_login(quality)
    create_purchase_order("PO-7001", supplier=nordwerk)
    response = accept(client, "PO-7001", follow=True)
    assert "Only a supplier" in response.content.decode()
    assert not Acknowledgement.objects.exists()


def test_accept_needs_post(logged_in, nordwerk):
    create_purchase_order("PO-7001", supplier=nordwerk)
    assert logged_in.get(reverse("collaboration:acknowledgement-submit", args=["PO-7001"])).status_code == 405


def test_changed_order_can_be_accepted_again(logged_in, nordwerk):
    create_purchase_order("PO-7001", supplier=nordwerk)
    accept(logged_in, "PO-7001")
    create_purchase_order("PO-7001", supplier=nordwerk, revision=2, line_count=2)
    assert PurchaseOrder.objects.get().status == PurchaseOrder.Status.CHANGED
    accept(logged_in, "PO-7001", revision=2)
    assert list(Acknowledgement.objects.order_by("id").values_list("revision", flat=True)) == [1, 2]
    # Only the added line 20 needed an answer; line 10 was unchanged and stays confirmed.
    assert [l["line"] for l in OutboxMessage.objects.get(destination="erp", sequence=2).payload["lines"]] == [20]
    assert list(OutboxMessage.objects.filter(destination="erp").order_by("sequence").values_list("sequence", flat=True)) == [1, 2]


def test_large_order_shows_lines_a_hundred_at_a_time(logged_in, nordwerk):
    create_purchase_order("PO-BIG", supplier=nordwerk, line_count=230)
    first = logged_in.get(detail_url("PO-BIG")).content.decode()
    assert first.count('<tr id="line-') == 100 and 'id="line-1000"' in first and 'id="line-1010"' not in first
    assert "Show the next 100 lines" in first and "lines 1–100 of 230 shown" in first
    more = logged_in.get(detail_url("PO-BIG"), {"lines": 3}, HTTP_HX_REQUEST="true").content.decode()
    assert "<html" not in more and more.count('<tr id="line-') == 30 and 'id="line-2300"' in more
    assert "Show the next" not in more
    # A line beyond the first page can still be answered in place.
    row = logged_in.get(reverse("collaboration:line-respond", args=["PO-BIG", 2300]), HTTP_HX_REQUEST="true")
    assert row.status_code == 200 and "Line 2300" in row.content.decode()


def test_detail_shows_receipts_and_invoice_statuses_from_the_erp(logged_in, nordwerk):
    create_purchase_order("PO-R", supplier=nordwerk, line_count=2)
    erp = Actor.system("test", channel="erp")
    services.receipt_record(actor=erp, document=parse_receipt({
        "reference": "GR-77", "purchase_order": "PO-R", "received_on": "2026-12-03",
        "lines": [{"line": 20, "quantity": "120", "lot": "LOT-A1"}]}))
    services.invoice_status_record(actor=erp, document=parse_invoice_status({
        "supplier": "NORDWERK", "invoice_number": "INV-9", "version": 2, "status": "blocked",
        "reason": "Quantity above receipt", "purchase_order": "PO-R"}))
    content = logged_in.get(detail_url("PO-R")).content.decode()
    assert "GR-77" in content and "LOT-A1" in content and "2026-12-03" in content
    assert "INV-9" in content and "Quantity above receipt" in content
