"""Line responses through the one acknowledgement service: rules, tolerance, buyer decisions, change orders."""
from datetime import date, timedelta
from decimal import Decimal

import pytest
from django.utils import timezone

from collaboration import services
from collaboration.actors import Actor
from collaboration.errors import AlreadyDecided, InvalidDocument, NotFound, PermissionDenied, SupersededRevision
from collaboration.models import (
    Acknowledgement,
    AcknowledgementLine,
    AuditEvent,
    ExceptionCase,
    PurchaseOrder,
    PurchaseOrderLine,
    TolerancePolicy,
)
from collaboration.services import LineResponse, ScheduleInput
from erp_bridge.models import OutboxMessage
from tests.factories import MembershipFactory, UserFactory, create_purchase_order, po_document

D = Decimal
FUTURE = timezone.localdate() + timedelta(days=40)


def requested(days: int = 0) -> str:
    return (FUTURE + timedelta(days=days)).isoformat()


@pytest.fixture
def po(nordwerk):
    lines = [
        {"line": 10 * (i + 1), "item": f"BRK-{2201 + i}", "description": "Bracket", "quantity": "400", "uom": "PCE",
         "unit_price": "3.85", "requested_date": requested()}
        for i in range(3)
    ]
    return create_purchase_order("PO-7001", supplier=nordwerk, line_count=3, lines=lines)


@pytest.fixture
def sales(nordwerk_sales):
    return Actor.for_user(nordwerk_sales, channel="api")


@pytest.fixture
def buyer(django_user_model):
    user = django_user_model.objects.create_user("buyer@plant.example", password="x-buyer-pass", is_staff=True)
    return Actor.for_user(user, channel="admin")


def submit(actor, *responses, revision=1, number="PO-7001"):
    return services.acknowledgement_submit(number=number, revision=revision, responses=list(responses), actor=actor)


def line(po, number) -> PurchaseOrderLine:
    return po.lines.get(line_number=number)


def state(po):
    po.refresh_from_db()
    return (
        po.status,
        [(l.line_number, l.response_status) for l in po.lines.order_by("line_number")],
        Acknowledgement.objects.count(), AcknowledgementLine.objects.count(), ExceptionCase.objects.count(),
        OutboxMessage.objects.count(),
    )


def test_accept_all_lines_decides_and_sends_one_event(po, sales):
    ack = submit(sales, *[LineResponse(line=n, action="accept") for n in (10, 20, 30)])
    assert ack.status == Acknowledgement.Status.DECIDED
    po.refresh_from_db()
    assert po.status == PurchaseOrder.Status.ACKNOWLEDGED
    assert {l.response_status for l in po.lines.all()} == {"confirmed"}
    message = OutboxMessage.objects.get(destination="erp")
    assert message.type == "acknowledgement.decided"
    assert OutboxMessage.objects.get(destination="planning").type == "commitment.decided"
    assert [l["decision"] for l in message.payload["lines"]] == ["accepted"] * 3
    assert message.payload["decided_by"] == "tolerance"


def test_partial_submission_leaves_other_lines_open(po, sales):
    submit(sales, LineResponse(line=10, action="accept"))
    po.refresh_from_db()
    assert po.status == PurchaseOrder.Status.AWAITING_ACKNOWLEDGEMENT
    assert line(po, 20).response_status == "open"


def test_change_inside_tolerance_is_accepted_automatically(po, sales, nordwerk):
    TolerancePolicy.objects.create(supplier=nordwerk, quantity_under_pct=10, quantity_over_pct=10, days_later=5)
    submit(sales, LineResponse(line=10, action="change", quantity=D("420"), promised_date=FUTURE + timedelta(days=3)))
    l10 = line(po, 10)
    assert l10.response_status == "confirmed"
    assert (l10.confirmed_quantity, l10.confirmed_date) == (D("420"), FUTURE + timedelta(days=3))
    assert not ExceptionCase.objects.exists()
    decided = OutboxMessage.objects.get(type="acknowledgement.decided")
    assert decided.payload["lines"][0]["decision"] == "changed"
    assert decided.payload["lines"][0]["schedule"] == [{"quantity": "420", "date": (FUTURE + timedelta(days=3)).isoformat()}]
    slipped = OutboxMessage.objects.get(type="commitment.slipped")
    assert slipped.destination == "planning" and slipped.payload["lines"][0]["days_late"] == 3


def test_change_outside_tolerance_opens_exception_with_proposal_beside_order(po, sales):
    submit(sales, LineResponse(line=10, action="change", promised_date=FUTURE + timedelta(days=10), unit_price=D("4.10")))
    case = ExceptionCase.objects.get()
    assert case.kind == "proposal_outside_tolerance" and case.status == "open"
    assert case.details["ordered"]["unit_price"] == "3.85" and case.details["proposed"]["unit_price"] == "4.1"
    assert {b["field"] for b in case.details["outside_tolerance"]} == {"date", "unit_price"}
    assert line(po, 10).response_status == "proposed"
    po.refresh_from_db()
    assert po.status == PurchaseOrder.Status.AWAITING_ACKNOWLEDGEMENT  # lines 20, 30 still open
    assert not OutboxMessage.objects.exists()  # nothing decided, nothing sent


def test_item_policy_beats_supplier_policy_beats_default(po, sales, nordwerk):
    TolerancePolicy.objects.create(supplier=nordwerk, days_later=30)
    TolerancePolicy.objects.create(item="BRK-2201", days_later=1)
    submit(sales,
           LineResponse(line=10, action="change", promised_date=FUTURE + timedelta(days=5)),
           LineResponse(line=20, action="change", promised_date=FUTURE + timedelta(days=5)))
    assert line(po, 10).response_status == "proposed"  # item policy: 1 day
    assert line(po, 20).response_status == "confirmed"  # supplier policy: 30 days


def test_price_absolute_tolerance(po, sales, nordwerk):
    TolerancePolicy.objects.create(supplier=nordwerk, price_abs=D("0.10"))
    submit(sales, LineResponse(line=10, action="change", unit_price=D("3.95")),
           LineResponse(line=20, action="change", unit_price=D("3.96")))
    assert line(po, 10).response_status == "confirmed"
    assert line(po, 20).response_status == "proposed"


def test_split_must_add_up_and_is_stored_as_schedule(po, sales):
    with pytest.raises(InvalidDocument) as error:
        submit(sales, LineResponse(line=10, action="change", schedule=(
            ScheduleInput(D("100"), FUTURE), ScheduleInput(D("200"), FUTURE + timedelta(days=7)))))
    assert "adds up to 300, not the ordered 400" in str(error.value.details["lines"]["10"]["schedule"])
    submit(sales, LineResponse(line=10, action="change", quantity=D("300"), schedule=(
        ScheduleInput(D("100"), FUTURE), ScheduleInput(D("200"), FUTURE + timedelta(days=7)))))
    response = AcknowledgementLine.objects.get()
    assert [(e.quantity, e.date) for e in response.schedule.all()] == [(D("100"), FUTURE), (D("200"), FUTURE + timedelta(days=7))]
    assert response.is_split and response.decision == "pending"


def test_reject_needs_a_known_reason_and_goes_to_the_buyer(po, sales):
    with pytest.raises(InvalidDocument) as error:
        submit(sales, LineResponse(line=10, action="reject", reason_code="bored"))
    assert "Unknown reason" in str(error.value.details)
    with pytest.raises(InvalidDocument) as error:
        submit(sales, LineResponse(line=10, action="reject", reason_code="other"))
    assert "reason_text" in error.value.details["lines"]["10"]
    submit(sales, LineResponse(line=10, action="reject", reason_code="capacity"))
    case = ExceptionCase.objects.get()
    assert case.kind == "line_rejected" and "No capacity" in case.summary


@pytest.mark.parametrize(
    ("response", "field"),
    [
        (LineResponse(line=10, action="change", quantity=D("0")), "quantity"),
        (LineResponse(line=10, action="change", quantity=D("-5")), "quantity"),
        (LineResponse(line=10, action="change", promised_date=date(2020, 1, 1)), "promised_date"),
        (LineResponse(line=10, action="change", unit_price=D("3.851")), "unit_price"),
        (LineResponse(line=10, action="change", unit_price=D("3.85")), "action"),
        (LineResponse(line=10, action="accept", quantity=D("5")), "action"),
        (LineResponse(line=10, action="maybe"), "action"),
        (LineResponse(line=99, action="accept"), "line"),
        (LineResponse(line=10, action="change", schedule=(ScheduleInput(D("400"), FUTURE),)), "schedule"),
        (LineResponse(line=10, action="change", schedule=(ScheduleInput(D("200"), date(2020, 1, 1)), ScheduleInput(D("200"), FUTURE))), "schedule"),
    ],
)
def test_bad_response_is_refused_and_nothing_changes(po, sales, response, field):
    before = state(po)
    with pytest.raises(InvalidDocument) as error:
        submit(sales, LineResponse(line=20, action="accept"), response)
    assert field in error.value.details["lines"][str(response.line)]
    assert state(po) == before


def test_line_answered_twice_in_one_submission_is_refused(po, sales):
    with pytest.raises(InvalidDocument):
        submit(sales, LineResponse(line=10, action="accept"), LineResponse(line=10, action="accept"))
    assert not Acknowledgement.objects.exists()


def test_second_submission_of_decided_line_is_refused(po, sales):
    submit(sales, LineResponse(line=10, action="accept"))
    before = state(po)
    with pytest.raises(InvalidDocument) as error:
        submit(sales, LineResponse(line=10, action="change", quantity=D("1")))
    assert "already answered" in str(error.value.details)
    assert state(po) == before


def test_other_suppliers_order_is_not_found(po, alpenguss_sales):
    with pytest.raises(NotFound):
        submit(Actor.for_user(alpenguss_sales, channel="api"), LineResponse(line=10, action="accept"))
    assert not Acknowledgement.objects.exists()


def test_logistics_role_may_not_acknowledge(po, nordwerk):
    logistics = MembershipFactory(user=UserFactory(), supplier=nordwerk, role="logistics").user
    with pytest.raises(PermissionDenied):
        submit(Actor.for_user(logistics, channel="portal"), LineResponse(line=10, action="accept"))


def test_buyer_approves_proposal_which_then_goes_to_the_erp(po, sales, buyer):
    submit(sales, LineResponse(line=10, action="change", promised_date=FUTURE + timedelta(days=10)))
    case = ExceptionCase.objects.get()
    services.exception_case_decide(case_id=case.pk, approve=True, comment="ok, line 3 can wait", actor=buyer)
    l10 = line(po, 10)
    assert l10.response_status == "confirmed" and l10.confirmed_date == FUTURE + timedelta(days=10)
    response = AcknowledgementLine.objects.get()
    assert response.decision == "approved" and response.decision_comment == "ok, line 3 can wait"
    decided = OutboxMessage.objects.get(type="acknowledgement.decided")
    assert decided.payload["decided_by"] == "buyer" and decided.payload["lines"][0]["line"] == 10
    assert OutboxMessage.objects.filter(type="commitment.slipped").count() == 1
    assert AuditEvent.objects.filter(action="exception.approved", purchase_order="PO-7001").exists()


def test_buyer_declines_with_comment_and_line_is_open_again(po, sales, buyer):
    submit(sales, LineResponse(line=10, action="change", quantity=D("100")))
    case = ExceptionCase.objects.get()
    with pytest.raises(InvalidDocument):
        services.exception_case_decide(case_id=case.pk, approve=False, comment=" ", actor=buyer)
    services.exception_case_decide(case_id=case.pk, approve=False, comment="We need all 400.", actor=buyer)
    assert line(po, 10).response_status == "open"
    assert AcknowledgementLine.objects.get().decision == "declined"
    assert not OutboxMessage.objects.exists()
    with pytest.raises(AlreadyDecided):
        services.exception_case_decide(case_id=case.pk, approve=True, comment="", actor=buyer)
    # The supplier answers again; the order stands as it was.
    submit(sales, LineResponse(line=10, action="accept"))
    assert line(po, 10).response_status == "confirmed"


def test_supplier_cannot_decide_cases(po, sales):
    submit(sales, LineResponse(line=10, action="change", quantity=D("100")))
    with pytest.raises(PermissionDenied):
        services.exception_case_decide(case_id=ExceptionCase.objects.get().pk, approve=True, comment="", actor=sales)


def test_draft_is_saved_then_submitted_with_accept_remaining(po, nordwerk_sales):
    portal = Actor.for_user(nordwerk_sales, channel="portal")
    services.acknowledgement_draft_save(
        number="PO-7001", revision=1, actor=portal,
        response=LineResponse(line=20, action="change", promised_date=FUTURE - timedelta(days=2)))
    # Saving again replaces the line's draft.
    services.acknowledgement_draft_save(
        number="PO-7001", revision=1, actor=portal,
        response=LineResponse(line=20, action="change", promised_date=FUTURE - timedelta(days=1)))
    assert AcknowledgementLine.objects.filter(decision="draft").count() == 1
    assert not OutboxMessage.objects.exists()
    ack = services.acknowledgement_accept_remaining(number="PO-7001", actor=portal)
    assert ack.status == "decided"
    po.refresh_from_db()
    assert po.status == "acknowledged"
    assert line(po, 20).confirmed_date == FUTURE - timedelta(days=1)
    assert Acknowledgement.objects.filter(status="draft").count() == 0
    assert AuditEvent.objects.filter(action="acknowledgement.draft_saved").count() == 2


def test_superseded_revision_is_refused(po, sales, nordwerk):
    data = po_document("PO-7001", supplier="NORDWERK", revision=2, line_count=3)
    data["lines"] = [dict(l) for l in po.revisions.get().document["lines"]]
    data["lines"][1]["quantity"] = "500"
    create_purchase_order("PO-7001", supplier=nordwerk, revision=2, lines=data["lines"])
    with pytest.raises(SupersededRevision) as error:
        submit(sales, LineResponse(line=10, action="accept"), revision=1)
    assert error.value.status == 409
    submit(sales, LineResponse(line=10, action="accept"), revision=2)


def test_change_order_reopens_only_changed_lines(po, sales, nordwerk):
    submit(sales, *[LineResponse(line=n, action="accept") for n in (10, 20)],
           LineResponse(line=30, action="change", quantity=D("100")))
    assert ExceptionCase.objects.get().status == "open"
    lines = [dict(l) for l in po.revisions.get().document["lines"]]
    lines[1]["quantity"] = "500"  # line 20 changes
    lines[2]["requested_date"] = requested(5)  # line 30 changes while its proposal waits
    create_purchase_order("PO-7001", supplier=nordwerk, revision=2, lines=lines)
    po.refresh_from_db()
    assert po.status == PurchaseOrder.Status.CHANGED
    assert [(l.line_number, l.response_status) for l in po.lines.order_by("line_number")] == [
        (10, "confirmed"), (20, "open"), (30, "open")]
    assert ExceptionCase.objects.get().status == "closed"
    assert AcknowledgementLine.objects.get(order_line__line_number=30).decision == "superseded"
    submit(sales, LineResponse(line=20, action="accept"), LineResponse(line=30, action="accept"), revision=2)
    po.refresh_from_db()
    assert po.status == PurchaseOrder.Status.ACKNOWLEDGED
