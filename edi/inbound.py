"""Inbound interchanges: who sent it, never twice, each message through the domain services, a CONTRL back.

Transactions: the interchange record (raw bytes; its reference taken) commits first; then each
message commits on its own with the row saying what became of it (a rejected message changes
nothing; a crash loses at most the message under way, and the file taken up again goes on
after the last one done); last, the outcome and the queued CONTRL. The partner acts through an
`Actor` on the EDI channel with the scopes its enabled message types give, so an ORDRSP meets
exactly the rules a portal user's acknowledgement meets.

A test interchange (UNB 0035 = 1) is checked all the way through the services, then its
effects are rolled back. Duplicates (same partner and control reference) are recorded and
answered with error 26 but have no effect; the unique constraint decides under concurrency.
"""
from __future__ import annotations

import logging
from dataclasses import dataclass, field

from django.conf import settings
from django.db import IntegrityError, transaction
from django.utils.translation import gettext

from collaboration.actors import TOKEN_ROLE, Actor
from collaboration.models import Channel
from edi import codec
from edi.codec import Message
from edi.contrl import MessageResult, Problem, apply_contrl, contrl_identifier, contrl_segments
from edi.desadv import apply_despatch_advice
from edi.invoic import apply_invoice
from edi.models import Interchange, InterchangeMessage, TradingPartner
from edi.orders import fit_text
from edi.ordrsp import apply_order_response
from edi.outbound import UNKNOWN_SENDERS, next_control_ref, outbound_path, partner_party, queue
from edi.segments import ContentError
from edi.syntax_errors import SyntaxErrorCode as Code
from portal import correlation

logger = logging.getLogger(__name__)
DIRECTORY_VERSIONS = {("D", "96A", "UN"), ("D", "01B", "UN")}
VERSIONS = {
    "ORDRSP": DIRECTORY_VERSIONS,
    "DESADV": DIRECTORY_VERSIONS,
    "INVOIC": DIRECTORY_VERSIONS,
    "CONTRL": {("2", "2", "UN"), ("2", "1", "UN"), ("4", "1", "UN"), ("D", "3", "UN")},
}
# What a partner's enabled message types let it do, as API token scopes.
SCOPES = {"ORDRSP": "acknowledge", "DESADV": "ship", "INVOIC": "invoice"}
MAX_CONTROL_REF = 14  # UNB 0020 is an..14


@dataclass
class InterchangeResult:
    file: str
    sender: str
    control_ref: str
    status: str
    messages: list[MessageResult] = field(default_factory=list)
    errors: list[Problem] = field(default_factory=list)
    contrl: str | None = None
    interchange_id: int | None = None

    def as_json(self) -> dict:
        return {"file": self.file, "sender": self.sender, "control_ref": self.control_ref, "status": self.status,
                "messages": [message.as_json() for message in self.messages],
                "errors": [problem.as_json() for problem in self.errors], "contrl": self.contrl}


def partner_actor(partner: TradingPartner) -> Actor:
    return Actor(channel=Channel.EDI, label=f"edi:{partner.supplier.code}", memberships={partner.supplier_id: TOKEN_ROLE},
                 scopes=frozenset(SCOPES[kind] for kind in partner.message_types if kind in SCOPES))


def receive_file(data: bytes, *, file_name: str, resume: bool = False,
                 mailbox_partner: TradingPartner | None = None) -> list[InterchangeResult]:
    """Process every interchange in `data`. With `resume` (a file taken up again after a crash),
    interchanges already recorded from this very file are reported as they were, not redone.
    A file from `mailbox_partner`'s mailbox must come from that partner (else: unknown sender)."""
    return [receive_interchange(parsed, file_name=file_name, resume=resume, mailbox_partner=mailbox_partner)
            for parsed in codec.parse_file(data)]


def _party(identifier: str, qualifier: str) -> str:
    return ":".join(codec.party(identifier, qualifier))


def receive_interchange(parsed: codec.Interchange, *, file_name: str, resume: bool = False,
                        mailbox_partner: TradingPartner | None = None) -> InterchangeResult:
    sender = _party(parsed.sender_id, parsed.sender_qualifier)
    partner = _sender_partner(parsed)
    # A file in one partner's mailbox claiming any other sender (known, inactive or unknown) is refused,
    # and never run again by the reprocess action.
    foreign_mailbox = mailbox_partner is not None and (partner is None or partner.pk != mailbox_partner.pk)
    if foreign_mailbox:
        partner = None
    record = _already_recorded(parsed, file_name=file_name, sender=sender) if resume else None
    unfinished = record is not None and (record.status == Interchange.Status.RECEIVED or (
        record.status == Interchange.Status.DUPLICATE and record.answer_id is None))
    if record is not None and not unfinished:
        return stored_result(record)
    # Each interchange is one piece of work: its audit rows, outbox events and ERP calls carry its id.
    with correlation.bound(record.correlation_id if record is not None else None) as correlation_id:
        if record is None:  # (else: cut off by a crash; it goes on after its last message done)
            with transaction.atomic():
                record = _record(parsed, partner=partner, sender=sender, file_name=file_name, correlation_id=correlation_id)
        logger.info("interchange %s from %s in %s", record.control_ref, record.sender, record.file_name,
                    extra={"interchange": record.pk, "partner": partner.pk if partner else None})
        result = _process(parsed, record=record, partner=partner, foreign_mailbox=foreign_mailbox)
        logger.info("interchange %s from %s: %s", record.control_ref, record.sender, result.status,
                    extra={"interchange": record.pk, "status": result.status})
        return result


def _sender_partner(parsed: codec.Interchange) -> TradingPartner | None:
    """The active trading partner the UNB names as sender (none for a sender id with control characters)."""
    identity = parsed.sender_id + parsed.sender_qualifier
    if not parsed.sender_id or _clean(identity) != identity:
        return None
    return (TradingPartner.objects.select_related("supplier")
            .filter(edi_id=parsed.sender_id, qualifier=parsed.sender_qualifier, is_active=True).first())


def _clean(value: str) -> str:
    """A value from the envelope as it can be stored and shown: without control characters."""
    return codec.CONTROL_CHARACTERS.sub("", value)


def _already_recorded(parsed: codec.Interchange, *, file_name: str, sender: str) -> Interchange | None:
    for stored in Interchange.objects.filter(direction=Interchange.Direction.INBOUND, file_name=_clean(file_name)[-255:],
                                             control_ref=_clean(parsed.control_ref)[:MAX_CONTROL_REF], sender=_clean(sender)[:40]):
        if bytes(stored.raw) == parsed.raw:
            return stored
    return None


def _message_result(stored: InterchangeMessage) -> MessageResult:
    return MessageResult(ref=stored.ref, type=stored.type, identifier=tuple(stored.identifier), group_ref=stored.group_ref or None,
                         status=stored.status, summary=stored.result,
                         errors=[Problem.from_json(error) for error in stored.errors])


def stored_result(stored: Interchange) -> InterchangeResult:
    """The result of an interchange processed before, as it was recorded."""
    answer = stored.answer
    return InterchangeResult(
        file=stored.file_name, sender=stored.sender, control_ref=stored.control_ref, status=stored.status,
        messages=[_message_result(message) for message in stored.results.all()],
        errors=[Problem.from_json(error) for error in stored.errors if error.get("level") == "interchange"],
        contrl=str(outbound_path(answer)) if answer else None, interchange_id=stored.pk,
    )


def _record(parsed: codec.Interchange, *, partner: TradingPartner | None, sender: str, file_name: str,
            correlation_id: str) -> Interchange:
    values = dict(
        correlation_id=correlation_id, partner=partner, direction=Interchange.Direction.INBOUND, control_ref=_clean(parsed.control_ref)[:MAX_CONTROL_REF],
        sender=_clean(sender)[:40], recipient=_clean(_party(parsed.recipient_id, parsed.recipient_qualifier))[:40],
        raw=parsed.raw, file_name=_clean(file_name)[-255:], message_types=sorted({_clean(m.type)[:6] for m in parsed.messages})[:20],
    )
    if partner is None:
        return Interchange.objects.create(status=Interchange.Status.RECEIVED, **values)
    try:
        with transaction.atomic():
            return Interchange.objects.create(status=Interchange.Status.RECEIVED, **values)
    except IntegrityError:
        return Interchange.objects.create(status=Interchange.Status.DUPLICATE, **values)


def _interchange_problems(parsed: codec.Interchange, *, partner: TradingPartner | None, record: Interchange,
                          foreign_mailbox: bool) -> list[Problem]:
    problems = [Problem(str(e.code), e.position, e.tag, e.text, group_ref=e.group_ref if e.tag in {"UNG", "UNE"} else None)
                for e in parsed.errors if e.message_ref is None]
    if record.status == Interchange.Status.DUPLICATE:
        original = (Interchange.objects.filter(partner=partner, direction=Interchange.Direction.INBOUND,
                                               control_ref=record.control_ref).exclude(status=Interchange.Status.DUPLICATE).first())
        problems.insert(0, Problem(Code.DUPLICATE_DETECTED, 1, "UNB",
                                   f"Interchange {record.control_ref} from {record.sender} was already received"
                                   + (f" on {original.created_at:%Y-%m-%d %H:%M} UTC" if original else "") + "; it has no second effect."))
    if partner is not None and not partner.is_active:
        problems.insert(0, Problem(Code.UNKNOWN_INTERCHANGE_SENDER, 1, "UNB", f"Trading partner {partner} is not active."))
    if partner is None and parsed.sender_id:
        problems.insert(0, Problem(Code.UNKNOWN_INTERCHANGE_SENDER, 1, "UNB",
                                   f"Sender {record.sender} is not the owner of the mailbox the file arrived in." if foreign_mailbox
                                   else f"Sender {record.sender} is not a known, active trading partner."))
    if parsed.recipient_id and (parsed.recipient_id != settings.EDI_OWN_ID
                                or parsed.recipient_qualifier not in ("", settings.EDI_OWN_QUALIFIER)):
        problems.append(Problem(Code.RECIPIENT_NOT_ACTUAL_RECIPIENT, 1, "UNB",
                                f"The interchange is addressed to {record.recipient}, not to "
                                f"{_party(settings.EDI_OWN_ID, settings.EDI_OWN_QUALIFIER)}."))
    if len(parsed.control_ref) > MAX_CONTROL_REF:
        problems.append(Problem(Code.DATA_ELEMENT_TOO_LONG, 1, "UNB", "UNB: the control reference has more than 14 characters."))
    return problems


def _message_syntax_problems(parsed: codec.Interchange) -> dict[int, list[Problem]]:
    """Codec errors inside messages, by message index: the message with that reference whose
    segments hold the position (else the last one with the reference)."""
    found: dict[int, list[Problem]] = {}
    # A message reference is unique within the interchange (0062): when one repeats, no message with
    # it can be told apart (in the CONTRL or in the errors), so all of them are refused.
    refs = [message.ref for message in parsed.messages]
    for index, message in enumerate(parsed.messages):
        if refs.count(message.ref) > 1:
            found.setdefault(index, []).append(Problem(Code.DUPLICATE_DETECTED, message.first_segment_number, "UNH",
                                                       f"Message reference {message.ref!r} is used more than once.", 1))
    for error in parsed.errors:
        if error.message_ref is None:
            continue
        candidates = [i for i, m in enumerate(parsed.messages) if m.ref == error.message_ref]
        if not candidates:
            continue
        inside = [i for i in candidates
                  if parsed.messages[i].first_segment_number <= error.position < parsed.messages[i].first_segment_number + len(parsed.messages[i].segments)]
        index = (inside or candidates)[-1]
        found.setdefault(index, []).append(Problem(str(error.code), error.position, error.tag, error.text, error.position_in_message))
    return found


class ReprocessRefused(Exception):
    """The interchange cannot be run again (accepted, a duplicate, outbound, or a spoofed sender)."""


def interchange_reprocess(*, interchange_id: int) -> InterchangeResult:
    """Run a rejected or partly accepted inbound interchange again, once what it needed is put right
    (the partner added or enabled, an order arrived): only its rejected messages, so nothing that
    was accepted is applied twice. The outcome replaces the stored one and a new CONTRL is sent."""
    with transaction.atomic():
        record = Interchange.objects.select_for_update(of=("self",)).select_related("partner__supplier").get(pk=interchange_id)
        if record.direction != Interchange.Direction.INBOUND or record.status not in (
                Interchange.Status.REJECTED, Interchange.Status.PARTIALLY_ACCEPTED):
            raise ReprocessRefused(gettext("Interchange %(reference)s is %(status)s; only rejected or partly accepted inbound "
                                           "interchanges are run again.") % {
                "reference": record.control_ref, "status": record.get_status_display().lower()})
        if any(error.get("foreign_mailbox") for error in record.errors):
            raise ReprocessRefused(gettext("Interchange %(reference)s arrived in another partner's mailbox; it is not run "
                                           "again.") % {"reference": record.control_ref})
        parsed = codec.parse_file(bytes(record.raw))[0]
        partner = record.partner
        if partner is None:
            partner = _sender_partner(parsed)
            if partner is not None and Interchange.objects.filter(
                    partner=partner, direction=Interchange.Direction.INBOUND, control_ref=record.control_ref).exclude(
                    status=Interchange.Status.DUPLICATE).exists():
                raise ReprocessRefused(gettext("Interchange %(reference)s has since been received from %(partner)s.") % {
                    "reference": record.control_ref, "partner": partner})
        record.partner = partner
        record.status = Interchange.Status.RECEIVED  # in progress: a second reprocess waits its turn
        record.save(update_fields=["partner", "status"])
    rerun = {message.position for message in record.results.all() if message.status != "accepted"}
    return _process(parsed, record=record, partner=partner, rerun=rerun)


class _DryRun(Exception):
    """Raised inside a test interchange's savepoint to roll its effects back after a full check."""


def _process(parsed: codec.Interchange, *, record: Interchange, partner: TradingPartner | None, foreign_mailbox: bool = False,
             rerun: set[int] | None = None) -> InterchangeResult:
    """Each message in a transaction of its own with the row recording what became of it (so a
    long interchange holds no order's lock for longer than one message, and one cut off by a crash
    goes on where it stopped); then the outcome and the CONTRL. `rerun`: positions to do again."""
    problems = _interchange_problems(parsed, partner=partner, record=record, foreign_mailbox=foreign_mailbox)
    syntax = _message_syntax_problems(parsed)
    done = {stored.position: stored for stored in record.results.all()}
    actor = partner_actor(partner) if partner and not problems else None
    results: list[MessageResult] = []
    unsaved: set[int] = set()  # rejected without being tried: recorded with the outcome
    for index, message in enumerate(parsed.messages):
        if index in done and (rerun is None or index not in rerun):
            results.append(_message_result(done[index]))
            continue
        result = MessageResult(ref=message.ref, type=message.type, group_ref=message.group_ref,
                               identifier=(message.type, message.version, message.release, message.agency))
        if problems or index in syntax:
            result.status, result.errors = "rejected", syntax.get(index, [])
            results.append(result)
            unsaved.add(index)
            continue
        try:
            with transaction.atomic():
                _apply(message, result=result, partner=partner, actor=actor, record=record, test=parsed.is_test)
                _store_result(record, index, result, replace=index in done)
        except IntegrityError:
            # Another worker taking up the same file after a crash did this message first; its
            # effects stand, ours were rolled back with the transaction.
            first = InterchangeMessage.objects.filter(interchange=record, position=index).first()
            if first is None:
                raise
            result = _message_result(first)
        except Exception as error:  # noqa: BLE001 - a message must never stop the interchange or the mailbox
            logger.exception("EDI message %s of interchange %s failed", message.ref, record.pk)
            result.status, result.summary = "rejected", {}
            result.errors = [Problem(Code.UNSPECIFIED_ERROR, message.first_segment_number, "UNH",
                                     f"The message could not be processed ({type(error).__name__}); nothing of it was applied.", 1)]
            with transaction.atomic():
                _store_result(record, index, result, replace=index in done)
        results.append(result)
    if problems or not results:
        status = Interchange.Status.DUPLICATE if record.status == Interchange.Status.DUPLICATE else Interchange.Status.REJECTED
    elif all(r.status == "accepted" for r in results):
        status = Interchange.Status.ACCEPTED
    elif any(r.status == "accepted" for r in results):
        status = Interchange.Status.PARTIALLY_ACCEPTED
    else:
        status = Interchange.Status.REJECTED
    with transaction.atomic():
        for index in sorted(unsaved & set(done)):
            _store_result(record, index, results[index], replace=True)
        InterchangeMessage.objects.bulk_create(_result_row(record, index, results[index]) for index in sorted(unsaved - set(done)))
        record.status = status
        record.errors = [{**p.as_json(), "level": "interchange", **({"foreign_mailbox": True} if foreign_mailbox else {})}
                         for p in problems] + [
            {**p.as_json(), "level": "message", "message": r.ref} for r in results for p in r.errors]
        answer = None
        if not results or any(r.type != "CONTRL" for r in results):  # a CONTRL is never answered
            answer = _queue_contrl(parsed, partner=partner, record=record, problems=problems, results=results)
        record.answer = answer
        record.save(update_fields=["status", "errors", "answer", "partner"])
    return InterchangeResult(file=record.file_name, sender=record.sender, control_ref=record.control_ref,
                             status=status, messages=results, errors=problems,
                             contrl=str(outbound_path(answer)) if answer else None, interchange_id=record.pk)


def _result_row(record: Interchange, index: int, result: MessageResult) -> InterchangeMessage:
    return InterchangeMessage(interchange=record, position=index, ref=_clean(result.ref)[:14], type=_clean(result.type)[:6],
                              identifier=list(result.identifier), group_ref=_clean(result.group_ref or "")[:14], status=result.status,
                              errors=[p.as_json() for p in result.errors], result=result.summary)


def _store_result(record: Interchange, index: int, result: MessageResult, *, replace: bool) -> None:
    row = _result_row(record, index, result)
    if replace:
        InterchangeMessage.objects.filter(interchange=record, position=index).update(
            status=row.status, errors=row.errors, result=row.result)
    else:
        row.save()


def _apply(message: Message, *, result: MessageResult, partner: TradingPartner, actor: Actor, record: Interchange,
           test: bool) -> None:
    unh = message.segments[0]
    try:
        _require_agreement(message, partner)
        with transaction.atomic():
            if message.type == "ORDRSP":
                result.summary = apply_order_response(message, actor=actor)
            elif message.type == "DESADV":
                result.summary = apply_despatch_advice(message, actor=actor, supplier_id=partner.supplier_id)
            elif message.type == "INVOIC":
                result.summary = apply_invoice(message, actor=actor, supplier_id=partner.supplier_id)
            else:
                result.summary = apply_contrl(message, partner=partner, answer=record)
            if test:
                raise _DryRun
    except _DryRun:
        result.summary = {**result.summary, "test": True, "effects": "rolled back"}
    except ContentError as error:
        result.status = "rejected"
        result.errors = [
            Problem(problem.code, problem.segment.position if problem.segment else unh.position,
                    problem.segment.tag if problem.segment else "UNH", problem.text,
                    problem.segment.position - message.first_segment_number + 1 if problem.segment else None)
            for problem in error.problems
        ]


def _require_agreement(message: Message, partner: TradingPartner) -> None:
    """The partner may send this message type, and the portal reads this version of it."""
    unh = message.segments[0]
    if message.type not in partner.message_types:
        raise ContentError.at(unh, Code.NO_AGREEMENT, f"{message.type} is not enabled for this trading partner.")
    versions = VERSIONS.get(message.type)
    if versions is None:
        raise ContentError.at(unh, Code.VALUE_NOT_SUPPORTED_IN_POSITION, f"The portal does not take {message.type} messages in.")
    if (message.version, message.release, message.agency) not in versions:
        raise ContentError.at(unh, Code.VALUE_NOT_SUPPORTED_IN_POSITION,
                              f"{message.type} {message.version}:{message.release}:{message.agency} is not supported; "
                              f"use {', '.join(sorted(':'.join(v) for v in versions))}.")


def _queue_contrl(parsed: codec.Interchange, *, partner: TradingPartner | None, record: Interchange,
                  problems: list[Problem], results: list[MessageResult]) -> Interchange:
    rejected = record.status in (Interchange.Status.REJECTED, Interchange.Status.DUPLICATE)
    body = contrl_segments(parsed, rejected=rejected, problems=problems, messages=results)
    version = str(partner.syntax_version) if partner is not None else (
        parsed.syntax_version if parsed.syntax_version in codec.SUPPORTED_SYNTAX_VERSIONS else "3")
    identifier = (*contrl_identifier(version), "UN")
    if partner is not None:
        return queue(partner=partner, recipient=partner_party(partner), control_ref=next_control_ref(partner),
                     syntax_id=partner.charset, syntax_version=version,
                     messages=[("CONTRL", identifier, _fit(body, partner.charset))], tag=f"for-{record.control_ref}")
    # Unknown sender: answered into a folder of its own for an operator to look at, never to a partner.
    recipient = tuple(_fit_value(part, "UNOC") for part in (_clean(parsed.sender_id) or "UNKNOWN", _clean(parsed.sender_qualifier)) if part)
    return queue(partner=None, recipient=recipient, control_ref=f"U{record.pk:07d}", syntax_id="UNOC",
                 syntax_version=version, messages=[("CONTRL", identifier, _fit(body, "UNOC"))], tag=UNKNOWN_SENDERS)


def _fit(body: list[tuple[str, list]], syntax_id: str) -> list[tuple[str, list]]:
    """Values copied from the envelope we answer (whatever its sender put there), made writable."""
    def clean(value):
        return _fit_value(value, syntax_id) if isinstance(value, str) else tuple(clean(part) for part in value)
    return [(tag, [clean(element) for element in elements]) for tag, elements in body]


def _fit_value(value: str, syntax_id: str) -> str:
    encoding = codec.CHARSETS[syntax_id]
    return fit_text(_clean(value), syntax_id).encode(encoding, "replace").decode(encoding)[:35]
