"""E-mails to supplier users: new order, change order, buyer decision, reminder; each links to the PO."""
from datetime import timedelta
from decimal import Decimal

import pytest
from django.utils import timezone

from collaboration import services
from collaboration.actors import Actor
from collaboration.models import ExceptionCase, PurchaseOrder
from collaboration.services import LineResponse
from collaboration.tasks import send_acknowledgement_reminders
from portal.models import AccountSettings
from tests.factories import MembershipFactory, UserFactory, create_purchase_order


@pytest.fixture
def mailbox(mails, nordwerk):
    MembershipFactory(user=UserFactory(username="sales@nordwerk.example", email="sales@nordwerk.example"), supplier=nordwerk)
    MembershipFactory(user=UserFactory(username="qa@nordwerk.example", email="qa@nordwerk.example"), supplier=nordwerk, role="quality")
    return mails


def test_new_and_changed_orders_mail_sales_users_with_a_link(mailbox, nordwerk, django_capture_on_commit_callbacks):
    with django_capture_on_commit_callbacks(execute=True):
        create_purchase_order("PO-7001", supplier=nordwerk, line_count=2)
    assert len(mailbox) == 1
    assert mailbox[0].to == ["sales@nordwerk.example"]  # not the quality user
    assert "New purchase order PO-7001" in mailbox[0].subject
    assert "https://portal.example.com/purchase-orders/PO-7001/" in mailbox[0].body
    with django_capture_on_commit_callbacks(execute=True):
        create_purchase_order("PO-7001", supplier=nordwerk, revision=2, line_count=3)
    assert "changed (revision 2)" in mailbox[1].subject and "Changed lines: 30" in mailbox[1].body


def test_buyer_decision_is_mailed_with_the_comment(mailbox, nordwerk, django_user_model, django_capture_on_commit_callbacks):
    create_purchase_order("PO-7001", supplier=nordwerk)
    sales = django_user_model.objects.get(username="sales@nordwerk.example")
    services.acknowledgement_submit(number="PO-7001", revision=1, actor=Actor.for_user(sales, channel="portal"),
                                    responses=[LineResponse(line=10, action="change", quantity=Decimal("10"))])
    buyer = django_user_model.objects.create_user("buyer@plant.example", is_staff=True)
    with django_capture_on_commit_callbacks(execute=True):
        services.exception_case_decide(case_id=ExceptionCase.objects.get().pk, approve=False,
                                       comment="We need the full quantity.", actor=Actor.for_user(buyer, channel="admin"))
    decided = mailbox[-1]
    assert decided.subject == "PO-7001 line 10: your proposal was declined"
    assert "We need the full quantity." in decided.body and "/purchase-orders/PO-7001/" in decided.body


def test_reminder_is_sent_once_the_day_before_the_answer_is_due(mailbox, nordwerk, django_capture_on_commit_callbacks):
    due_soon = create_purchase_order("PO-1", supplier=nordwerk)
    later = create_purchase_order("PO-2", supplier=nordwerk)
    PurchaseOrder.objects.filter(pk=due_soon.pk).update(acknowledgement_due=timezone.localdate() + timedelta(days=1))
    PurchaseOrder.objects.filter(pk=later.pk).update(acknowledgement_due=timezone.localdate() + timedelta(days=5))
    mailbox.clear()
    with django_capture_on_commit_callbacks(execute=True):
        assert send_acknowledgement_reminders() == 1
    with django_capture_on_commit_callbacks(execute=True):
        assert send_acknowledgement_reminders() == 0
    assert len(mailbox) == 1 and "Reminder: please answer purchase order PO-1" in mailbox[0].subject


def test_each_recipient_reads_the_mail_in_the_language_they_chose(mailbox, nordwerk, django_capture_on_commit_callbacks):
    german = MembershipFactory(user=UserFactory(username="verkauf@nordwerk.example", email="verkauf@nordwerk.example"),
                               supplier=nordwerk).user
    AccountSettings.objects.create(user=german, language="de")
    with django_capture_on_commit_callbacks(execute=True):
        po = create_purchase_order("PO-7001", supplier=nordwerk)
    by_recipient = {tuple(mail.to): mail for mail in mailbox}
    assert set(by_recipient) == {("sales@nordwerk.example",), ("verkauf@nordwerk.example",)}  # one mail per language
    english, deutsch = by_recipient[("sales@nordwerk.example",)], by_recipient[("verkauf@nordwerk.example",)]
    assert english.subject == "New purchase order PO-7001 from your customer"
    assert deutsch.subject == "Neue Bestellung PO-7001 von Ihrem Kunden"
    assert po.acknowledgement_due.isoformat() in english.body
    assert po.acknowledgement_due.strftime("%d.%m.%Y") in deutsch.body and "Lieferantenportal" in deutsch.body
