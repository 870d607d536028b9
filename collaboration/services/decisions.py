"""What happens when a line response is decided (within tolerance, or by a buyer), and buyer decisions.

Only decided results leave the portal: `acknowledgement.decided` to the ERP; to the planning
system `commitment.decided` (every decided line with its committed schedule) and, when a committed
date is later than requested, `commitment.slipped` (those lines only).
"""
from __future__ import annotations

from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from collaboration.actors import Actor
from collaboration.audit import audit_record
from collaboration.documents import decimal_text
from collaboration.errors import AlreadyDecided, InvalidDocument, NotFound, PermissionDenied, in_sentence
from collaboration.models import (
    Acknowledgement,
    AcknowledgementLine,
    ExceptionCase,
    PurchaseOrder,
    PurchaseOrderLine,
)
from collaboration.notifications import notify_after_commit
from collaboration.tolerance import Breach
from erp_bridge import outbox

Decision = AcknowledgementLine.Decision
LineStatus = PurchaseOrderLine.ResponseStatus
PLANNING = "planning"


def _schedule(response: AcknowledgementLine) -> list[dict]:
    return [{"quantity": decimal_text(e.quantity), "date": e.date.isoformat()} for e in response.schedule.all()]


def open_exception(*, response: AcknowledgementLine, breaches: list[Breach]) -> ExceptionCase:
    """A buyer case for a proposal outside tolerance or a rejected line; the line waits for it."""
    line = response.order_line
    po = line.purchase_order
    rejected = response.action == AcknowledgementLine.Action.REJECT
    line.response_status = LineStatus.PROPOSED
    line.save(update_fields=["response_status"])
    summary = (
        f"{po.number} line {line.line_number} rejected: {response.reason.label if response.reason else ''}"
        if rejected
        else f"{po.number} line {line.line_number}: " + ", ".join(dict.fromkeys(b.field.replace("_", " ") for b in breaches)) + " outside tolerance"
    )
    return ExceptionCase.objects.create(
        kind=ExceptionCase.Kind.LINE_REJECTED if rejected else ExceptionCase.Kind.PROPOSAL_OUTSIDE_TOLERANCE,
        supplier=po.supplier,
        purchase_order=po,
        response=response,
        summary=summary[:300],
        details={
            "line": line.line_number,
            "item": line.item,
            "ordered": {
                "quantity": decimal_text(line.quantity),
                "unit_price": decimal_text(line.unit_price),
                "schedule": [{"quantity": decimal_text(line.quantity), "date": line.requested_date.isoformat()}],
            },
            "proposed": {
                "action": response.action,
                "quantity": decimal_text(response.quantity),
                "unit_price": decimal_text(response.unit_price),
                "schedule": _schedule(response),
                "reason": response.reason.code if response.reason else "",
                "reason_text": response.reason_text,
            },
            "outside_tolerance": [b.as_json() for b in breaches],
        },
    )


def apply_decided(*, po: PurchaseOrder, responses: list[AcknowledgementLine], decided_by: str, actor: Actor) -> None:
    """Write the decided result onto the order lines and publish it (and any slip) through the outbox."""
    event_lines, commitments, slips = [], [], []
    for response in responses:
        line = response.order_line
        schedule = list(response.schedule.all())
        if response.action == AcknowledgementLine.Action.REJECT:
            line.response_status = LineStatus.REJECTED
            line.confirmed_quantity, line.confirmed_price, line.confirmed_date = 0, None, None
            decision = "rejected"
        else:
            line.response_status = LineStatus.CONFIRMED
            line.confirmed_quantity = response.quantity
            line.confirmed_price = response.unit_price
            line.confirmed_date = schedule[-1].date
            decision = "accepted" if response.action == AcknowledgementLine.Action.ACCEPT else "changed"
        commitment = {
            "line": line.line_number,
            "item": line.item,
            "decision": decision,
            "requested_date": line.requested_date.isoformat(),
            "requested_quantity": decimal_text(line.quantity),
            "committed": [{"quantity": decimal_text(e.quantity), "date": e.date.isoformat()} for e in schedule],
            "days_late": max([(e.date - line.requested_date).days for e in schedule] + [0]),
        }
        commitments.append(commitment)
        if commitment["days_late"] > 0:
            slips.append(commitment)
        line.confirmed_revision = po.revision
        event_lines.append({
            "line": line.line_number,
            "decision": decision,
            "quantity": decimal_text(response.quantity),
            "unit_price": decimal_text(response.unit_price),
            "schedule": _schedule(response),
            "reason_code": response.reason.code if response.reason else "",
            "reason_text": response.reason_text,
        })
    PurchaseOrderLine.objects.bulk_update(
        [response.order_line for response in responses],
        ["response_status", "confirmed_quantity", "confirmed_price", "confirmed_date", "confirmed_revision"],
    )
    common = {"purchase_order": po.number, "revision": po.revision, "supplier": po.supplier.code}
    outbox.publish(
        type="acknowledgement.decided",
        aggregate=po.number,
        payload={
            **common,
            "acknowledgement": responses[0].acknowledgement_id,
            "channel": responses[0].acknowledgement.channel,
            "decided_by": decided_by,
            "lines": event_lines,
        },
    )
    outbox.publish(type="commitment.decided", aggregate=po.number, destination=PLANNING, payload={**common, "lines": commitments})
    if slips:
        outbox.publish(type="commitment.slipped", aggregate=po.number, destination=PLANNING, payload={**common, "lines": slips})


def refresh_statuses(*, po: PurchaseOrder, acknowledgements: list[Acknowledgement]) -> None:
    """Derive the PO's status from its lines and each acknowledgement's from its responses."""
    lines = [line for line in po.lines.all() if not line.is_cancelled]
    statuses = {line.response_status for line in lines}
    if LineStatus.OPEN in statuses:
        changed = any(line.response_status == LineStatus.OPEN and line.changed_in_revision > 1 for line in lines)
        status = PurchaseOrder.Status.CHANGED if changed else PurchaseOrder.Status.AWAITING_ACKNOWLEDGEMENT
    elif LineStatus.PROPOSED in statuses:
        status = PurchaseOrder.Status.AWAITING_BUYER
    else:
        status = PurchaseOrder.Status.ACKNOWLEDGED
    if status != po.status:
        po.status = status
        po.save(update_fields=["status", "updated_at"])
    for ack in acknowledgements:
        if ack.status == Acknowledgement.Status.SUBMITTED and not ack.lines.filter(decision=Decision.PENDING).exists():
            ack.status = Acknowledgement.Status.DECIDED
            ack.save(update_fields=["status"])


def exception_case_decide(*, case_id: int, approve: bool, comment: str, actor: Actor) -> ExceptionCase:
    """A buyer approves (the proposal becomes the commitment) or declines (the line is open again) a case."""
    if not actor.is_staff:
        raise PermissionDenied(_("Only buyers decide exception cases."))
    comment = comment.strip()
    if not approve and not comment:
        raise InvalidDocument(_("Say why the proposal is declined; the supplier sees your comment."),
                              details={"comment": [_("Required when declining.")]})
    with transaction.atomic():
        case = ExceptionCase.objects.select_for_update().filter(pk=case_id).first()
        if case is None:
            raise NotFound(_("Exception case %(case)s not found.") % {"case": case_id})
        if case.status != ExceptionCase.Status.OPEN:
            raise AlreadyDecided(_("Case #%(case)s is already %(status)s.")
                                 % {"case": case.pk, "status": in_sentence(case.get_status_display())})
        if case.response_id is None:
            if case.kind == ExceptionCase.Kind.DELIVERY_FAILED:
                raise InvalidDocument(_("This case has no proposal to decide; replay the failed delivery from the outbox instead."))
            raise InvalidDocument(_("Case #%(case)s has no proposal to decide; open it and mark it resolved with a comment.")
                                  % {"case": case.pk})
        po = PurchaseOrder.objects.select_for_update().select_related("supplier").get(pk=case.purchase_order_id)
        response = AcknowledgementLine.objects.select_related("order_line", "acknowledgement", "reason").get(pk=case.response_id)
        now = timezone.now()
        case.status = ExceptionCase.Status.APPROVED if approve else ExceptionCase.Status.DECLINED
        case.decided_at, case.decided_by, case.decision_comment = now, actor.user, comment
        case.save()
        response.decision = Decision.APPROVED if approve else Decision.DECLINED
        response.decided_at, response.decided_by, response.decision_comment = now, actor.user, comment
        response.save(update_fields=["decision", "decided_at", "decided_by", "decision_comment"])
        if approve:
            apply_decided(po=po, responses=[response], decided_by="buyer", actor=actor)
        else:
            line = response.order_line
            line.response_status = LineStatus.OPEN
            line.save(update_fields=["response_status"])
        refresh_statuses(po=po, acknowledgements=[response.acknowledgement])
        notify_after_commit("decided", [po.pk], line=response.order_line.line_number,
                            decision="approved" if approve else "declined", comment=comment)
        audit_record(
            actor=actor, action="exception.approved" if approve else "exception.declined", obj=case, supplier=po.supplier, purchase_order=po.number,
            before={"status": ExceptionCase.Status.OPEN},
            after={"status": case.status, "comment": comment, "purchase_order": po.number, "line": response.order_line.line_number},
        )
        return case


def exception_case_resolve(*, case_id: int, comment: str, actor: Actor) -> ExceptionCase:
    """A buyer closes a case that has nothing to decide (a receipt difference), saying what was done."""
    if not actor.is_staff:
        raise PermissionDenied(_("Only buyers resolve exception cases."))
    comment = comment.strip()
    if not comment:
        raise InvalidDocument(_("Say how the case was resolved."), details={"comment": [_("Required.")]})
    with transaction.atomic():
        case = ExceptionCase.objects.select_for_update(of=("self",)).select_related("supplier", "purchase_order").filter(pk=case_id).first()
        if case is None:
            raise NotFound(_("Exception case %(case)s not found.") % {"case": case_id})
        if case.status != ExceptionCase.Status.OPEN:
            raise AlreadyDecided(_("Case #%(case)s is already %(status)s.")
                                 % {"case": case.pk, "status": in_sentence(case.get_status_display())})
        if case.response_id is not None:
            raise InvalidDocument(_("This case holds a proposal: approve or decline it."))
        if case.kind == ExceptionCase.Kind.DELIVERY_FAILED:
            raise InvalidDocument(_("A failed delivery closes when it is replayed from the outbox."))
        case.status = ExceptionCase.Status.RESOLVED
        case.decided_at, case.decided_by, case.decision_comment = timezone.now(), actor.user, comment
        case.save(update_fields=["status", "decided_at", "decided_by", "decision_comment"])
        audit_record(actor=actor, action="exception.resolved", obj=case, supplier=case.supplier,
                     purchase_order=case.purchase_order.number if case.purchase_order else "",
                     before={"status": ExceptionCase.Status.OPEN}, after={"status": case.status, "comment": comment})
        return case


def supersede_changed_lines(*, po: PurchaseOrder, changed_line_ids: list[int]) -> list[Acknowledgement]:
    """A change order reopens its changed lines: their pending proposals and cases lapse, their drafts go.
    Returns the acknowledgements that lost pending lines, for the caller's status refresh."""
    if not changed_line_ids:
        return []
    PurchaseOrderLine.objects.filter(pk__in=changed_line_ids).update(
        response_status=LineStatus.OPEN, confirmed_quantity=None, confirmed_price=None, confirmed_date=None,
        confirmed_revision=None,
    )
    pending = AcknowledgementLine.objects.filter(order_line_id__in=changed_line_ids, decision=Decision.PENDING)
    ExceptionCase.objects.filter(response__in=pending, status=ExceptionCase.Status.OPEN).update(
        status=ExceptionCase.Status.CLOSED, decided_at=timezone.now(), decision_comment=f"Superseded by revision {po.revision}."
    )
    affected = list(Acknowledgement.objects.filter(lines__in=pending).distinct())
    pending.update(decision=Decision.SUPERSEDED, decided_at=timezone.now())
    AcknowledgementLine.objects.filter(
        order_line_id__in=changed_line_ids, acknowledgement__status=Acknowledgement.Status.DRAFT
    ).delete()
    Acknowledgement.objects.filter(purchase_order=po, status=Acknowledgement.Status.DRAFT).update(revision=po.revision)
    return affected
