"""Buyers decide proposals in the admin: on the case page, or in bulk from the filtered list."""
from datetime import timedelta
from decimal import Decimal

import pytest
from django.urls import reverse
from django.utils import timezone

from collaboration import services
from collaboration.actors import Actor
from collaboration.models import ExceptionCase, PurchaseOrderLine
from collaboration.services import LineResponse
from tests.factories import create_purchase_order

LATER = timezone.localdate() + timedelta(days=90)


@pytest.fixture
def cases(nordwerk, nordwerk_sales):
    create_purchase_order("PO-7001", supplier=nordwerk, line_count=3)
    services.acknowledgement_submit(
        number="PO-7001", revision=1, actor=Actor.for_user(nordwerk_sales, channel="portal"),
        responses=[
            LineResponse(line=10, action="change", promised_date=LATER),
            LineResponse(line=20, action="change", quantity=Decimal("50")),
            LineResponse(line=30, action="reject", reason_code="capacity"),
        ],
    )
    return list(ExceptionCase.objects.order_by("response__order_line__line_number"))


@pytest.fixture
def buyer_client(client, django_user_model):
    client.force_login(django_user_model.objects.create_superuser("buyer@plant.example", "buyer@plant.example", "x-pass-123"))
    return client


def test_case_page_shows_order_and_proposal_side_by_side(buyer_client, cases):
    page = buyer_client.get(reverse("admin:collaboration_exceptioncase_change", args=[cases[1].pk])).content.decode()
    assert "Ordered" in page and "Proposed" in page
    assert ">400<" in page and ">50<" in page
    assert "Approve proposal" in page and "Decline proposal" in page


def test_approve_from_the_case_page(buyer_client, cases):
    response = buyer_client.post(reverse("admin:collaboration_exceptioncase_decide", args=[cases[0].pk]),
                                 {"approve": "1", "comment": "Fine"}, follow=True)
    assert "approved" in response.content.decode()
    cases[0].refresh_from_db()
    assert cases[0].status == "approved"
    assert PurchaseOrderLine.objects.get(line_number=10).confirmed_date == LATER


def test_decline_without_comment_is_refused(buyer_client, cases):
    response = buyer_client.post(reverse("admin:collaboration_exceptioncase_decide", args=[cases[0].pk]), {"decline": "1"}, follow=True)
    assert "Say why" in response.content.decode()
    cases[0].refresh_from_db()
    assert cases[0].status == "open"


def test_list_filters_and_bulk_approve(buyer_client, cases):
    changelist = reverse("admin:collaboration_exceptioncase_changelist")
    filtered = buyer_client.get(changelist, {"kind__exact": "line_rejected"}).content.decode()
    assert "PO-7001 line 30 rejected: No capacity" in filtered and "PO-7001 line 10" not in filtered
    buyer_client.post(changelist, {"action": "approve_selected", "_selected_action": [cases[0].pk, cases[1].pk]})
    assert [c.status for c in ExceptionCase.objects.order_by("response__order_line__line_number")] == ["approved", "approved", "open"]


def test_bulk_decline_asks_for_a_comment_first(buyer_client, cases):
    changelist = reverse("admin:collaboration_exceptioncase_changelist")
    ask = buyer_client.post(changelist, {"action": "decline_selected", "_selected_action": [cases[2].pk]})
    assert "Comment to the supplier" in ask.content.decode()
    assert ExceptionCase.objects.get(pk=cases[2].pk).status == "open"
    buyer_client.post(changelist, {"action": "decline_selected", "_selected_action": [cases[2].pk], "apply": "1",
                                   "comment": "We cannot move this volume elsewhere."})
    case = ExceptionCase.objects.get(pk=cases[2].pk)
    assert case.status == "declined" and case.decision_comment == "We cannot move this volume elsewhere."
    assert PurchaseOrderLine.objects.get(line_number=30).response_status == "open"


def test_overdue_filter_on_purchase_orders(buyer_client, nordwerk):
    po = create_purchase_order("PO-LATE", supplier=nordwerk)
    po.acknowledgement_due = timezone.localdate() - timedelta(days=1)
    po.save()
    create_purchase_order("PO-FRESH", supplier=nordwerk)
    page = buyer_client.get(reverse("admin:collaboration_purchaseorder_changelist"), {"answer": "overdue"}).content.decode()
    assert "PO-LATE" in page and "PO-FRESH" not in page
