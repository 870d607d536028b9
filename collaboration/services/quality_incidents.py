"""Quality incidents (non-conformances): opened by a buyer or the ERP with goods on hold, answered by
the supplier step by step (containment, root cause, corrective action, verification), reviewed by
the buyer, and ended by the buyer's release or scrap of the goods on hold.

Rules:
- Steps are answered in order: a step opens once every step before it is answered or accepted;
  a returned step is answered again. The buyer accepts an answer, or returns it with a comment.
- The hold is decided once (released or scrapped); the decision goes to the ERP through the outbox.
- The incident closes by itself when the hold is decided and every step is accepted; a buyer may
  close it earlier, with a comment, once the hold is decided (goods never stay on hold in a closed
  incident).
- An incident the ERP opened is not sent back to it; one a buyer opens is (`quality.incident_opened`).
"""
from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import date, timedelta

from django.conf import settings
from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from collaboration import uploads
from collaboration.actors import Actor
from collaboration.audit import audit_record
from collaboration.documents import INCIDENT_STEPS, QualityIncidentDocument, decimal_text
from collaboration.errors import (
    AlreadyDecided,
    DocumentContentConflict,
    DomainError,
    InvalidDocument,
    NotFound,
    PermissionDenied,
    in_sentence,
)
from collaboration.models import Channel, IncidentAttachment, IncidentStep, QualityIncident
from collaboration.notifications import notify_incident_after_commit
from collaboration.selectors import visible_to
from collaboration.services.erp_documents import supplier_and_order
from erp_bridge import outbox

Step = IncidentStep.Status
Hold = QualityIncident.Hold
MAX_ATTACHMENTS = 10
MAX_RESPONSE_LENGTH = 10000
DONE = (Step.ANSWERED, Step.ACCEPTED)  # a later step may be answered once these are
OPEN_FOR_ANSWER = (Step.WAITING, Step.RETURNED)


class IncidentClosed(DomainError):
    code = "incident_closed"
    status = 409


class StepOutOfOrder(DomainError):
    code = "step_out_of_order"
    status = 409


class StepNotOpen(DomainError):
    """The step waits for the buyer's review, or is accepted: nothing to answer."""

    code = "step_not_open"
    status = 409


class StepNotAnswered(DomainError):
    code = "step_not_answered"
    status = 409


class HoldNotDecided(DomainError):
    code = "hold_not_decided"
    status = 409


@dataclass(frozen=True)
class OpenResult:
    incident: QualityIncident
    outcome: str  # "created" or "unchanged"


def step_is_answerable(step: IncidentStep, steps: list[IncidentStep]) -> bool:
    """Whether the supplier may answer `step` now, given all steps of its incident."""
    return step.status in OPEN_FOR_ANSWER and all(
        other.status in DONE for other in steps if other.position < step.position
    )


def next_answerable_step(steps: list[IncidentStep]) -> IncidentStep | None:
    return next((step for step in sorted(steps, key=lambda s: s.position) if step_is_answerable(step, steps)), None)


def due_dates(*, document: QualityIncidentDocument, opened_on: date) -> dict[str, date]:
    """Each step's due date: the document's, or QUALITY_STEP_DAYS after opening; never before the step ahead."""
    given = document.due_dates.given()
    result: dict[str, date] = {}
    previous = opened_on
    for kind, days in zip(INCIDENT_STEPS, settings.QUALITY_STEP_DAYS):
        due = given.get(kind) or max(opened_on + timedelta(days=days), previous)
        result[kind] = previous = due
    return result


def quality_incident_reference_next(*, year: int | None = None) -> str:
    """The next free "NC-<year>-<serial>" for an incident a buyer opens without a number."""
    year = year or timezone.localdate().year
    prefix = f"NC-{year}-"
    serials = [
        int(match.group(1))
        for reference in QualityIncident.objects.filter(reference__startswith=prefix).values_list("reference", flat=True)
        if (match := re.fullmatch(re.escape(prefix) + r"(\d+)", reference))
    ]
    return f"{prefix}{max(serials, default=0) + 1:04d}"


def quality_incident_open(*, document: QualityIncidentDocument, actor: Actor) -> OpenResult:
    """Open an incident and its four steps; the ERP sending the same document again is a no-op."""
    if not (actor.is_staff or actor.channel == Channel.ERP):
        raise PermissionDenied(_("Only buyers and the ERP open quality incidents."))
    with transaction.atomic():
        stored = QualityIncident.objects.select_for_update().filter(reference=document.reference).first()
        if stored is not None:
            if stored.content_hash != document.content_hash:
                raise DocumentContentConflict(
                    _("Incident %(reference)s is already open with other content; it cannot be changed by sending it again.")
                    % {"reference": document.reference}
                )
            return OpenResult(stored, "unchanged")
        supplier, po = supplier_and_order(supplier_code=document.supplier, order_number=document.purchase_order)
        incident = QualityIncident.objects.create(
            reference=document.reference, supplier=supplier, purchase_order=po, item=document.item, lot=document.lot,
            quantity_on_hold=document.quantity_on_hold, uom=document.uom, description=document.description,
            opened_by=actor.user, opened_channel=actor.channel, content_hash=document.content_hash,
        )
        due = due_dates(document=document, opened_on=timezone.localdate())
        IncidentStep.objects.bulk_create([
            IncidentStep(incident=incident, kind=kind, position=position, due_on=due[kind])
            for position, kind in enumerate(INCIDENT_STEPS, start=1)
        ])
        after = {**document.canonical, "due_dates": {kind: day.isoformat() for kind, day in due.items()}}
        if actor.channel != Channel.ERP:
            outbox.publish(type="quality.incident_opened", aggregate=_aggregate(incident), payload=after)
        audit_record(actor=actor, action="quality_incident.opened", obj=incident, supplier=supplier, after=after,
                     purchase_order=po.number if po else "")
        notify_incident_after_commit("incident_opened", incident.pk)
        return OpenResult(incident, "created")


def incident_step_answer(*, reference: str, kind: str, response: str, attachments: list, actor: Actor) -> IncidentStep:
    """The supplier's answer to one step, with files (PDF, PNG or JPEG); stored whole or not at all."""
    response = (response or "").strip()
    errors = {}
    if not response:
        errors["response"] = [_("Write your answer; attachments alone are not enough.")]
    elif len(response) > MAX_RESPONSE_LENGTH:
        errors["response"] = [_("At most %(count)s characters; attach a document for more.") % {"count": MAX_RESPONSE_LENGTH}]
    if len(attachments) > MAX_ATTACHMENTS:
        errors["attachments"] = [_("At most %(count)s files per answer.") % {"count": MAX_ATTACHMENTS}]
    stored: list[uploads.StoredUpload] = []
    try:
        with transaction.atomic():
            incident = _incident_for_update(reference=reference, actor=actor)
            if not actor.can_manage_quality(incident.supplier_id):
                raise PermissionDenied(_("Only your company's quality or admin users answer quality incidents."))
            if errors:
                raise InvalidDocument(_("The answer is not complete."), details=errors)
            _refuse_if_closed(incident)
            steps = list(incident.steps.select_for_update().order_by("position"))
            step = _step(steps, kind, reference=reference)
            if step.status not in OPEN_FOR_ANSWER:
                values = {"step": in_sentence(step.get_kind_display()), "status": in_sentence(step.get_status_display())}
                raise StepNotOpen(
                    (_("The %(step)s is %(status)s; the buyer reviews it now.") if step.status == Step.ANSWERED
                     else _("The %(step)s is %(status)s; there is nothing to answer.")) % values
                )
            missing = [other for other in steps if other.position < step.position and other.status not in DONE]
            if missing:
                raise StepOutOfOrder(
                    _("Answer the %(step)s first; the steps are answered in order.")
                    % {"step": in_sentence(missing[0].get_kind_display())},
                    details={"kind": [_("%(kind)s comes first.") % {"kind": missing[0].kind}]},
                )
            for upload in attachments:
                stored.append(uploads.store_upload(upload, folder=f"incidents/{incident.supplier_id}"))
            before = step.status
            step.status = Step.ANSWERED
            step.response = response
            step.responded_by = actor.user
            step.responded_at = timezone.now()
            step.save(update_fields=["status", "response", "responded_by", "responded_at"])
            IncidentAttachment.objects.bulk_create([
                IncidentAttachment(step=step, file=file.name, original_name=file.original_name, content_type=file.content_type,
                                   size=file.size, sha256=file.sha256, uploaded_by=actor.user)
                for file in stored
            ])
            audit_record(actor=actor, action="quality_incident.step_answered", obj=incident, supplier=incident.supplier,
                         before={"step": step.kind, "status": before},
                         after={"step": step.kind, "status": step.status, "attachments": [f.original_name for f in stored]},
                         purchase_order=_po_number(incident))
            return step
    except BaseException:
        # The rows are rolled back; the files stored for them must go too.
        for file in stored:
            uploads.private_storage().delete(file.name)
        raise


def incident_step_review(*, reference: str, kind: str, accept: bool, comment: str, actor: Actor) -> IncidentStep:
    """A buyer accepts a step's answer, or returns it to the supplier with a comment saying why."""
    _require_buyer(actor)
    comment = (comment or "").strip()
    if not accept and not comment:
        raise InvalidDocument(_("Say what is missing; the supplier sees your comment."),
                              details={"comment": [_("Required when returning.")]})
    with transaction.atomic():
        incident = _incident_for_update(reference=reference, actor=actor)
        _refuse_if_closed(incident)
        steps = list(incident.steps.select_for_update().order_by("position"))
        step = _step(steps, kind, reference=reference)
        if step.status != Step.ANSWERED:
            raise StepNotAnswered(_("The %(step)s is %(status)s; only an answered step is reviewed.")
                                  % {"step": in_sentence(step.get_kind_display()),
                                     "status": in_sentence(step.get_status_display())})
        step.status = Step.ACCEPTED if accept else Step.RETURNED
        step.buyer_comment = comment
        step.save(update_fields=["status", "buyer_comment"])
        audit_record(actor=actor, action="quality_incident.step_accepted" if accept else "quality_incident.step_returned",
                     obj=incident, supplier=incident.supplier, before={"step": step.kind, "status": Step.ANSWERED},
                     after={"step": step.kind, "status": step.status, "comment": comment}, purchase_order=_po_number(incident))
        if accept:
            _close_if_complete(incident, steps, actor=actor)
        else:
            notify_incident_after_commit("incident_returned", incident.pk, step=step.kind, comment=comment)
        return step


def incident_hold_decide(*, reference: str, decision: str, comment: str, actor: Actor) -> QualityIncident:
    """A buyer releases the goods on hold or scraps them (saying why); the ERP is told either way."""
    _require_buyer(actor)
    comment = (comment or "").strip()
    if decision not in (Hold.RELEASED, Hold.SCRAPPED):
        raise InvalidDocument(_("Decide released or scrapped."), details={"decision": [_("Use released or scrapped.")]})
    if decision == Hold.SCRAPPED and not comment:
        raise InvalidDocument(_("Say why the goods are scrapped; the supplier sees your comment."),
                              details={"comment": [_("Required when scrapping.")]})
    with transaction.atomic():
        incident = _incident_for_update(reference=reference, actor=actor)
        if incident.hold_status != Hold.ON_HOLD:
            raise AlreadyDecided(
                _("The goods of incident %(reference)s are already %(status)s.")
                % {"reference": incident.reference, "status": in_sentence(incident.get_hold_status_display())}
            )
        incident.hold_status = decision
        incident.hold_decided_by = actor.user
        incident.hold_decided_at = timezone.now()
        incident.hold_comment = comment
        incident.save(update_fields=["hold_status", "hold_decided_by", "hold_decided_at", "hold_comment"])
        outbox.publish(
            type=f"quality.hold_{decision}",
            aggregate=_aggregate(incident),
            payload={
                "reference": incident.reference,
                "supplier": incident.supplier.code,
                "purchase_order": _po_number(incident),
                "item": incident.item,
                "lot": incident.lot,
                "quantity": decimal_text(incident.quantity_on_hold),
                "uom": incident.uom,
                "decision": decision,
                "comment": comment,
            },
        )
        audit_record(actor=actor, action=f"quality_incident.hold_{decision}", obj=incident, supplier=incident.supplier,
                     before={"hold_status": Hold.ON_HOLD}, after={"hold_status": decision, "comment": comment},
                     purchase_order=_po_number(incident))
        notify_incident_after_commit("incident_hold", incident.pk, decision=incident.hold_status,
                                     comment=comment)
        _close_if_complete(incident, list(incident.steps.all()), actor=actor)
        return incident


def incident_close(*, reference: str, comment: str, actor: Actor) -> QualityIncident:
    """A buyer closes an incident before every step is accepted; the hold must be decided first."""
    _require_buyer(actor)
    comment = (comment or "").strip()
    if not comment:
        raise InvalidDocument(_("Say why the incident is closed."), details={"comment": [_("Required.")]})
    with transaction.atomic():
        incident = _incident_for_update(reference=reference, actor=actor)
        _refuse_if_closed(incident)
        if incident.hold_status == Hold.ON_HOLD:
            raise HoldNotDecided(_("Release or scrap the goods of incident %(reference)s before closing it.")
                                 % {"reference": incident.reference})
        _close(incident, actor=actor, comment=comment)
        return incident


def _close_if_complete(incident: QualityIncident, steps: list[IncidentStep], *, actor: Actor) -> None:
    if incident.hold_status != Hold.ON_HOLD and all(step.status == Step.ACCEPTED for step in steps):
        _close(incident, actor=actor, comment="Every step accepted and the hold decided.")


def _close(incident: QualityIncident, *, actor: Actor, comment: str) -> None:
    incident.status = QualityIncident.Status.CLOSED
    incident.save(update_fields=["status"])
    audit_record(actor=actor, action="quality_incident.closed", obj=incident, supplier=incident.supplier,
                 before={"status": QualityIncident.Status.OPEN}, after={"status": incident.status, "comment": comment},
                 purchase_order=_po_number(incident))


def _require_buyer(actor: Actor) -> None:
    if not actor.is_staff:
        raise PermissionDenied(_("Only buyers review quality incidents and decide the hold."))


def _incident_for_update(*, reference: str, actor: Actor) -> QualityIncident:
    """The incident, locked; NotFound also when it belongs to a supplier the actor does not act for."""
    incident = (
        visible_to(QualityIncident.objects.select_for_update(of=("self",)), actor=actor)
        .select_related("supplier", "purchase_order")
        .filter(reference=reference)
        .first()
    )
    if incident is None:
        raise NotFound(_("Quality incident %(reference)s not found.") % {"reference": reference})
    return incident


def _refuse_if_closed(incident: QualityIncident) -> None:
    if incident.status == QualityIncident.Status.CLOSED:
        raise IncidentClosed(_("Incident %(reference)s is closed.") % {"reference": incident.reference})


def _step(steps: list[IncidentStep], kind: str, *, reference: str) -> IncidentStep:
    step = next((step for step in steps if step.kind == kind), None)
    if step is None:
        raise NotFound(_("Incident %(reference)s has no step %(kind)r; the steps are %(steps)s.")
                       % {"reference": reference, "kind": kind, "steps": ", ".join(INCIDENT_STEPS)})
    return step


def _po_number(incident: QualityIncident) -> str:
    return incident.purchase_order.number if incident.purchase_order_id else ""


def _aggregate(incident: QualityIncident) -> str:
    """Events of an incident on an order join that order's sequence; others have their own."""
    return _po_number(incident) or incident.reference
