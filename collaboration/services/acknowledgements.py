"""Acknowledgements: line responses (accept, change, split, reject), drafts, submission, tolerance.

Portal, API and EDI all arrive at `acknowledgement_submit`; the portal's draft is stored with
`acknowledgement_draft_save` and submitted through the same validation and decision code.
"""
from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date
from decimal import Decimal

from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from collaboration import selectors, tolerance
from collaboration.actors import Actor
from collaboration.audit import audit_record
from collaboration.documents import decimal_text
from collaboration.errors import (
    InvalidDocument,
    in_sentence,
    NothingToSubmit,
    PermissionDenied,
    SupersededRevision,
)
from collaboration.models import (
    Acknowledgement,
    AcknowledgementLine,
    PurchaseOrder,
    PurchaseOrderLine,
    RejectionReason,
    ScheduleLine,
)
from collaboration.money import decimals_of, minor_units
from collaboration.services.decisions import apply_decided, open_exception, refresh_statuses

Action = AcknowledgementLine.Action
Decision = AcknowledgementLine.Decision


@dataclass(frozen=True)
class ScheduleInput:
    quantity: Decimal
    date: date


@dataclass(frozen=True)
class LineResponse:
    """One line's answer as a channel hands it over (portal form, API body, spreadsheet row, ORDRSP)."""

    line: int
    action: str
    quantity: Decimal | None = None
    unit_price: Decimal | None = None
    promised_date: date | None = None
    schedule: tuple[ScheduleInput, ...] = ()
    reason_code: str = ""
    reason_text: str = ""


@dataclass
class _Checked:
    """A response that passed validation, with everything filled in from the order line."""

    order_line: PurchaseOrderLine
    action: str
    quantity: Decimal
    unit_price: Decimal
    schedule: list[ScheduleInput]
    reason: RejectionReason | None = None
    reason_text: str = ""
    errors: dict[str, list[str]] = field(default_factory=dict)


def _require_acknowledge_permission(actor: Actor, po: PurchaseOrder) -> None:
    if not actor.can_acknowledge(po.supplier_id):
        raise PermissionDenied(_("Only a supplier's admin or sales users (or an API token with the acknowledge scope) "
                                 "can acknowledge orders."))


def _check_revision(po: PurchaseOrder, revision: int) -> None:
    if revision != po.revision:
        raise SupersededRevision(
            _("Revision %(revision)s of %(number)s has been superseded by revision %(current)s; "
              "review the changes and answer the current revision.")
            % {"revision": revision, "number": po.number, "current": po.revision},
            details={"revision": [_("The current revision is %(revision)s.") % {"revision": po.revision}]},
        )


def _check_one(response: LineResponse, *, line: PurchaseOrderLine | None, currency: str, reasons: dict[str, RejectionReason]) -> _Checked | dict:
    """Validate one response against its order line; returns the checked response or {field: [errors]}."""
    if line is None or line.is_cancelled:
        return {"line": [_("This line does not exist on the order.")]}
    if line.response_status != PurchaseOrderLine.ResponseStatus.OPEN:
        return {"line": [_("Line %(line)s is already answered (%(status)s).")
                         % {"line": line.line_number, "status": in_sentence(line.get_response_status_display())}]}
    errors: dict[str, list[str]] = {}
    today = timezone.localdate()
    checked = _Checked(
        order_line=line, action=response.action, quantity=line.quantity, unit_price=line.unit_price,
        schedule=[ScheduleInput(line.quantity, line.requested_date)],
    )
    if response.action == Action.ACCEPT:
        if response.quantity is not None or response.unit_price is not None or response.promised_date or response.schedule:
            errors.setdefault("action", []).append(
                _("An acceptance takes the line as ordered; use 'change' to propose other values."))
    elif response.action == Action.REJECT:
        errors.update(_reason_errors(response, reasons, checked))
        checked.quantity, checked.schedule = Decimal(0), []
    elif response.action == Action.CHANGE:
        # A proposal may say why (optional): the buyer reads it beside the numbers.
        if response.reason_code:
            errors.update(_reason_errors(response, reasons, checked))
        checked.reason_text = response.reason_text.strip()
        if response.quantity is not None:
            if response.quantity <= 0:
                errors["quantity"] = [_("Must be greater than zero; to decline the line, reject it.")]
            elif decimals_of(response.quantity) > 4:
                errors["quantity"] = [_("At most 4 decimals.")]
            checked.quantity = response.quantity
        if response.unit_price is not None:
            if response.unit_price < 0:
                errors["unit_price"] = [_("Must not be negative.")]
            elif decimals_of(response.unit_price) > minor_units(currency):
                errors["unit_price"] = [_("%(currency)s allows at most %(decimals)s decimals.")
                                        % {"currency": currency, "decimals": minor_units(currency)}]
            checked.unit_price = response.unit_price
        if response.schedule:
            if response.promised_date is not None:
                errors["promised_date"] = [_("Give either one promised date or a split schedule, not both.")]
            if len(response.schedule) < 2:
                errors["schedule"] = [_("A split needs at least two schedule lines.")]
            for entry in response.schedule:
                if entry.quantity <= 0:
                    errors.setdefault("schedule", []).append(_("Every schedule line needs a quantity above zero."))
                if entry.date < today:
                    errors.setdefault("schedule", []).append(_("%(date)s is in the past.") % {"date": entry.date.isoformat()})
            total = sum((entry.quantity for entry in response.schedule), Decimal(0))
            if total != checked.quantity:
                values = {"total": decimal_text(total), "quantity": decimal_text(checked.quantity)}
                errors.setdefault("schedule", []).append(
                    (_("The split adds up to %(total)s, not the proposed %(quantity)s.") if response.quantity is not None
                     else _("The split adds up to %(total)s, not the ordered %(quantity)s.")) % values
                )
            checked.schedule = sorted(response.schedule, key=lambda entry: entry.date)
        else:
            promised = response.promised_date or line.requested_date
            if response.promised_date is not None and response.promised_date < today:
                errors["promised_date"] = [_("%(date)s is in the past.") % {"date": response.promised_date.isoformat()}]
            checked.schedule = [ScheduleInput(checked.quantity, promised)]
        unchanged = (
            checked.quantity == line.quantity
            and checked.unit_price == line.unit_price
            and [(e.quantity, e.date) for e in checked.schedule] == [(line.quantity, line.requested_date)]
        )
        if unchanged and not errors:
            errors["action"] = [_("The proposal equals the order; accept the line instead.")]
    else:
        errors["action"] = [_("Unknown action %(action)r; use accept, change or reject.") % {"action": response.action}]
    return errors or checked


def _reason_errors(response: LineResponse, reasons: dict, checked: _Checked) -> dict[str, list[str]]:
    """The response's reason checked against the active rejection reasons, and kept on `checked`."""
    reason = reasons.get(response.reason_code)
    checked.reason, checked.reason_text = reason, response.reason_text.strip()
    if reason is None:
        return {"reason_code": [_("Unknown reason %(code)r; use one of: %(codes)s.")
                                % {"code": response.reason_code, "codes": ", ".join(sorted(reasons))}]}
    if reason.needs_text and not checked.reason_text:
        return {"reason_text": [_("Explain the reason '%(reason)s'.") % {"reason": reason.label}]}
    return {}


def _check_all(po: PurchaseOrder, responses: list[LineResponse]) -> list[_Checked]:
    """All responses checked at once; any error anywhere raises InvalidDocument naming each line."""
    lines = {line.line_number: line for line in po.lines.all()}
    reasons = {reason.code: reason for reason in RejectionReason.objects.filter(is_active=True)}
    errors: dict[str, dict] = {}
    checked: list[_Checked] = []
    seen: set[int] = set()
    for response in responses:
        if response.line in seen:
            errors[str(response.line)] = {"line": [_("Answered twice in one submission.")]}
            continue
        seen.add(response.line)
        result = _check_one(response, line=lines.get(response.line), currency=po.currency, reasons=reasons)
        if isinstance(result, dict):
            errors[str(response.line)] = result
        else:
            checked.append(result)
    if errors:
        raise InvalidDocument(_("Some line responses are not valid; nothing was saved."), details={"lines": errors})
    return checked


def _store(ack: Acknowledgement, items: list[_Checked], decisions: list[str]) -> list[AcknowledgementLine]:
    """Write responses and their schedules in two statements; each response's schedule is cached on it."""
    now = timezone.now()
    responses = AcknowledgementLine.objects.bulk_create([
        AcknowledgementLine(
            acknowledgement=ack,
            order_line=item.order_line,
            action=item.action,
            quantity=item.quantity,
            unit_price=item.unit_price,
            promised_date=item.schedule[-1].date if item.schedule else item.order_line.requested_date,
            reason=item.reason,
            reason_text=item.reason_text,
            decision=decision,
            decided_at=now if decision == Decision.AUTO_ACCEPTED else None,
        )
        for item, decision in zip(items, decisions)
    ])
    schedules = [
        [ScheduleLine(response=response, quantity=entry.quantity, date=entry.date) for entry in item.schedule]
        for response, item in zip(responses, items)
    ]
    ScheduleLine.objects.bulk_create([entry for schedule in schedules for entry in schedule])
    for response, schedule in zip(responses, schedules):
        # What prefetch_related("schedule") would have loaded: later reads need no query.
        response._prefetched_objects_cache = {"schedule": schedule}
    return responses


def _response_summary(response: AcknowledgementLine, schedule: list[ScheduleInput]) -> dict:
    return {
        "line": response.order_line.line_number,
        "action": response.action,
        "decision": response.decision,
        "quantity": decimal_text(response.quantity),
        "unit_price": decimal_text(response.unit_price),
        "schedule": [{"quantity": decimal_text(e.quantity), "date": e.date.isoformat()} for e in schedule],
        "reason": response.reason.code if response.reason else "",
    }


def _decide_submitted(ack: Acknowledgement, items: list[_Checked], actor: Actor) -> list[dict]:
    """Store the responses and decide each one: inside tolerance accepted now, otherwise a case for the buyer."""
    po = ack.purchase_order
    policies = tolerance.Policies(supplier_id=po.supplier_id)
    outside_by_item: list[list[tolerance.Breach]] = []
    for item in items:
        outside: list[tolerance.Breach] = []
        if item.action == Action.CHANGE:
            outside = tolerance.breaches(
                policy=policies.for_item(item.order_line.item), line=item.order_line, quantity=item.quantity,
                unit_price=item.unit_price, dates=[entry.date for entry in item.schedule],
            )
        outside_by_item.append(outside)
    needs_buyer = [item.action == Action.REJECT or bool(outside) for item, outside in zip(items, outside_by_item)]
    responses = _store(ack, items, [Decision.PENDING if buyer else Decision.AUTO_ACCEPTED for buyer in needs_buyer])
    decided = []
    for response, outside, buyer in zip(responses, outside_by_item, needs_buyer):
        if buyer:
            open_exception(response=response, breaches=outside)
        else:
            decided.append(response)
    if decided:
        apply_decided(po=po, responses=decided, decided_by="tolerance", actor=actor)
    return [_response_summary(response, [ScheduleInput(e.quantity, e.date) for e in response.schedule.all()])
            for response in responses]


def acknowledgement_submit(*, number: str, revision: int, responses: list[LineResponse], actor: Actor) -> Acknowledgement:
    """Submit line responses for the current revision in one go (API, EDI, spreadsheet)."""
    if not responses:
        raise NothingToSubmit(_("Send at least one line response."))
    with transaction.atomic():
        po = selectors.purchase_order_get(actor=actor, number=number, for_update=True)
        _require_acknowledge_permission(actor, po)
        _check_revision(po, revision)
        items = _check_all(po, responses)
        ack = Acknowledgement.objects.create(
            purchase_order=po, revision=po.revision, status=Acknowledgement.Status.SUBMITTED, channel=actor.channel,
            submitted_by=actor.user, actor_label=actor.label, submitted_at=timezone.now(), due_on=po.acknowledgement_due,
        )
        summary = _decide_submitted(ack, items, actor)
        refresh_statuses(po=po, acknowledgements=[ack])
        audit_record(actor=actor, action="acknowledgement.submitted", obj=ack, supplier=po.supplier, purchase_order=po.number,
                     after={"purchase_order": po.number, "revision": po.revision, "lines": summary})
        return ack


def _draft(po: PurchaseOrder, actor: Actor) -> Acknowledgement:
    draft = po.acknowledgements.filter(status=Acknowledgement.Status.DRAFT).first()
    if draft is None:
        draft = Acknowledgement.objects.create(
            purchase_order=po, revision=po.revision, status=Acknowledgement.Status.DRAFT, channel=actor.channel,
            submitted_by=actor.user, actor_label=actor.label,
        )
    return draft


def acknowledgement_draft_save(*, number: str, revision: int, response: LineResponse, actor: Actor) -> AcknowledgementLine:
    """Save (or replace) one line's response in the PO's draft; nothing is decided or sent yet."""
    with transaction.atomic():
        po = selectors.purchase_order_get(actor=actor, number=number, for_update=True)
        _require_acknowledge_permission(actor, po)
        _check_revision(po, revision)
        [item] = _check_all(po, [response])
        draft = _draft(po, actor)
        before = None
        existing = draft.lines.filter(order_line=item.order_line).first()
        if existing is not None:
            before = _response_summary(existing, [ScheduleInput(e.quantity, e.date) for e in existing.schedule.all()])
            existing.delete()
        [stored] = _store(draft, [item], [Decision.DRAFT])
        audit_record(actor=actor, action="acknowledgement.draft_saved", obj=draft, supplier=po.supplier, purchase_order=po.number,
                     before=before, after=_response_summary(stored, item.schedule))
        return stored


def acknowledgement_draft_discard(*, number: str, line: int, actor: Actor) -> None:
    with transaction.atomic():
        po = selectors.purchase_order_get(actor=actor, number=number, for_update=True)
        _require_acknowledge_permission(actor, po)
        deleted, _ = AcknowledgementLine.objects.filter(
            acknowledgement__purchase_order=po, acknowledgement__status=Acknowledgement.Status.DRAFT,
            order_line__line_number=line,
        ).delete()
        if deleted:
            audit_record(actor=actor, action="acknowledgement.draft_discarded", obj=po, supplier=po.supplier, purchase_order=po.number,
                         before={"line": line})


def acknowledgement_draft_submit(*, number: str, revision: int, actor: Actor, accept_remaining: bool = False) -> Acknowledgement:
    """Submit the draft; with `accept_remaining`, every open line without a draft response is accepted."""
    with transaction.atomic():
        po = selectors.purchase_order_get(actor=actor, number=number, for_update=True)
        _require_acknowledge_permission(actor, po)
        _check_revision(po, revision)
        draft = po.acknowledgements.filter(status=Acknowledgement.Status.DRAFT).first()
        drafted = list(draft.lines.select_related("order_line", "reason").prefetch_related("schedule")) if draft else []
        responses = [
            LineResponse(
                line=r.order_line.line_number, action=r.action,
                quantity=r.quantity if r.action == Action.CHANGE else None,
                unit_price=r.unit_price if r.action == Action.CHANGE else None,
                promised_date=r.promised_date if r.action == Action.CHANGE and len(r.schedule.all()) == 1 else None,
                schedule=tuple(ScheduleInput(e.quantity, e.date) for e in r.schedule.all()) if len(r.schedule.all()) > 1 else (),
                reason_code=r.reason.code if r.reason else "", reason_text=r.reason_text,
            )
            for r in drafted
        ]
        if accept_remaining:
            answered = {r.line for r in responses}
            responses += [
                LineResponse(line=line.line_number, action=Action.ACCEPT)
                for line in po.lines.all()
                if not line.is_cancelled and line.response_status == PurchaseOrderLine.ResponseStatus.OPEN
                and line.line_number not in answered
            ]
        if not responses:
            raise NothingToSubmit(_("There is nothing to submit: no line has a response and no line is open."))
        items = _check_all(po, responses)
        if draft is None:
            draft = _draft(po, actor)
        draft.lines.all().delete()
        draft.status = Acknowledgement.Status.SUBMITTED
        draft.submitted_at, draft.due_on = timezone.now(), po.acknowledgement_due
        draft.submitted_by, draft.actor_label, draft.channel = actor.user, actor.label, actor.channel
        draft.save()
        summary = _decide_submitted(draft, items, actor)
        refresh_statuses(po=po, acknowledgements=[draft])
        audit_record(actor=actor, action="acknowledgement.submitted", obj=draft, supplier=po.supplier, purchase_order=po.number,
                     after={"purchase_order": po.number, "revision": po.revision, "lines": summary})
        return draft


def acknowledgement_accept_remaining(*, number: str, actor: Actor, revision: int | None = None) -> Acknowledgement:
    """'Accept all remaining lines': the draft's responses plus acceptance of every other open line."""
    if revision is None:
        revision = selectors.purchase_order_get(actor=actor, number=number).revision
    return acknowledgement_draft_submit(number=number, revision=revision, actor=actor, accept_remaining=True)
