"""Fixtures the shipment, receipt and quality tests share."""
import pytest
from django.contrib.auth import get_user_model

from collaboration import services
from collaboration.actors import Actor
from collaboration.models import ExceptionCase
from collaboration.services import LineResponse
from tests.factories import MembershipFactory, UserFactory, create_purchase_order


@pytest.fixture
def logistics(nordwerk):
    user = UserFactory(username="dock@nordwerk.example")
    MembershipFactory(user=user, supplier=nordwerk, role="logistics")
    return Actor.for_user(user, channel="portal")


@pytest.fixture
def orders(nordwerk, nordwerk_sales, settings):
    """PO-1 (2 lines of 400, accepted) and PO-2 (line 10 accepted, line 20 rejected), both to PLANT-1."""
    settings.GS1_COMPANY_PREFIX = "4012345"
    sales = Actor.for_user(nordwerk_sales, channel="portal")
    create_purchase_order("PO-1", supplier=nordwerk, line_count=2)
    create_purchase_order("PO-2", supplier=nordwerk, line_count=2)
    services.acknowledgement_submit(number="PO-1", revision=1, actor=sales, responses=[
        LineResponse(line=10, action="accept"), LineResponse(line=20, action="accept")])
    services.acknowledgement_submit(number="PO-2", revision=1, actor=sales, responses=[
        LineResponse(line=10, action="accept"), LineResponse(line=20, action="reject", reason_code="capacity")])
    buyer = get_user_model().objects.create_user("buyer", is_staff=True)
    for case in ExceptionCase.objects.filter(status="open"):
        services.exception_case_decide(case_id=case.pk, approve=True, comment="", actor=Actor.for_user(buyer, channel="admin"))


@pytest.fixture
def qa_user(nordwerk):
    user = UserFactory(username="qa@nordwerk.example", email="qa@nordwerk.example")
    MembershipFactory(user=user, supplier=nordwerk, role="quality")
    return user


@pytest.fixture
def qa(qa_user):
    return Actor.for_user(qa_user, channel="portal")
