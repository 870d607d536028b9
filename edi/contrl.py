"""CONTRL: the syntax and service report, both ways.

Out: every inbound interchange (except one holding only CONTRL messages, which ISO 9735 says
is never answered) gets a CONTRL: UCI with the interchange's action, then per message a UCM
(inside a UCF per functional group when groups were used) and, for errors located in a
segment, UCS with that segment's position in the message.

In: a partner's CONTRL marks the outbound interchange it names acknowledged or refused and
keeps the error codes it reported.
"""
from __future__ import annotations

from dataclasses import dataclass, field

from edi import codec
from edi.codec import Message, party
from edi.models import Interchange, TradingPartner
from edi.segments import ContentError, integer_of, required
from edi.syntax_errors import SyntaxErrorCode as Code

# Action, coded (0083).
REJECTED = "4"
ACKNOWLEDGED = "7"
RECEIVED = "8"
# CONTRL's own message identifier for each syntax version we write.
CONTRL_VERSION = {"4": ("4", "1")}
CONTRL_DEFAULT_VERSION = ("2", "2")


@dataclass
class Problem:
    """One error of an inbound interchange: code (0085), segment number in the interchange, tag, text."""

    code: str
    position: int
    tag: str
    text: str
    position_in_message: int | None = None
    group_ref: str | None = None  # for an envelope error of a functional group (UNG/UNE)

    def as_json(self) -> dict:
        return {"code": self.code, "segment": self.position, "tag": self.tag, "text": self.text}

    @classmethod
    def from_json(cls, data: dict) -> Problem:
        return cls(data["code"], data["segment"], data.get("tag", ""), data["text"])


@dataclass
class MessageResult:
    ref: str
    type: str
    identifier: tuple[str, str, str, str]
    group_ref: str | None
    status: str = "accepted"
    errors: list[Problem] = field(default_factory=list)
    summary: dict = field(default_factory=dict)

    def as_json(self) -> dict:
        return {"type": self.type, "ref": self.ref, "status": self.status,
                "errors": [problem.as_json() for problem in self.errors], **({"result": self.summary} if self.summary else {})}


def contrl_segments(parsed: codec.Interchange, *, rejected: bool, problems: list[Problem],
                    messages: list[MessageResult]) -> list[tuple[str, list]]:
    """The body of the CONTRL answering `parsed`: UCI (with the first envelope error), then the
    messages outside groups, then per functional group a UCF (with its first UNG/UNE error) and the
    UCMs of its messages, each followed by UCS for errors located in one of its segments."""
    def action(is_rejected: bool) -> str:
        return REJECTED if is_rejected else ACKNOWLEDGED

    uci: list = [parsed.control_ref, party(parsed.sender_id, parsed.sender_qualifier),
                 party(parsed.recipient_id, parsed.recipient_qualifier), action(rejected)]
    envelope = next((p for p in problems if p.group_ref is None), None)
    if envelope is not None:
        uci += [envelope.code, envelope.tag or "UNB"]
    body: list[tuple[str, list]] = [("UCI", uci)]
    body += _message_reports([m for m in messages if m.group_ref is None])
    for group in parsed.groups:
        members = [m for m in messages if m.group_ref == group.ref]
        group_problem = next((p for p in problems if p.group_ref == group.ref), None)
        ucf: list = [group.ref, group.sender, group.recipient,
                     action(rejected or group_problem is not None or all(m.status == "rejected" for m in members))]
        if group_problem is not None:
            ucf += [group_problem.code, group_problem.tag]
        body.append(("UCF", ucf))
        body += _message_reports(members)
    return body


def _message_reports(results: list[MessageResult]) -> list[tuple[str, list]]:
    body: list[tuple[str, list]] = []
    for result in results:
        ucm: list = [result.ref, result.identifier, REJECTED if result.status == "rejected" else ACKNOWLEDGED]
        trailer = next((p for p in result.errors if p.tag in {"UNH", "UNT"}), None)
        unlocated = next((p for p in result.errors if not p.position_in_message), None)
        if trailer is not None:
            ucm += [trailer.code, trailer.tag]
        elif unlocated is not None:
            ucm += [unlocated.code]
        body.append(("UCM", ucm))
        body += [("UCS", [str(p.position_in_message), p.code]) for p in result.errors
                 if p.position_in_message and p.tag not in {"UNH", "UNT"}]
    return body


def contrl_identifier(syntax_version: str) -> tuple[str, str]:
    return CONTRL_VERSION.get(syntax_version, CONTRL_DEFAULT_VERSION)


def apply_contrl(message: Message, *, partner: TradingPartner, answer: Interchange | None) -> dict:
    """A partner's CONTRL for one of our interchanges: acknowledged (7 or 8) or refused (4)."""
    uci = required(message, "UCI")
    reference = uci.component(1)
    sent = (Interchange.objects.select_for_update()
            .filter(partner=partner, direction=Interchange.Direction.OUTBOUND, control_ref=reference,
                    status__in=[Interchange.Status.SENT, Interchange.Status.ACKNOWLEDGED, Interchange.Status.REFUSED]).first())
    if sent is None:
        raise ContentError.at(uci, Code.INVALID_VALUE, f"UCI: no interchange {reference!r} was sent to you.")
    action = uci.component(4)
    if action not in {REJECTED, ACKNOWLEDGED, RECEIVED}:
        raise ContentError.at(uci, Code.VALUE_NOT_SUPPORTED_IN_POSITION, f"UCI: action {action!r} is not 4, 7 or 8.")
    reported = []
    if uci.component(5):
        reported.append(Problem(uci.component(5), 0, uci.component(6) or "UNB", f"Interchange: {_meaning(uci.component(5))}"))
    refused = action == REJECTED
    current_message = ""
    for segment in message.body:
        if segment.tag in {"UCM", "UCF"}:
            current_message = segment.component(1)
            refused = refused or segment.component(3 if segment.tag == "UCM" else 4) == REJECTED
            code = segment.component(4 if segment.tag == "UCM" else 5)
            if code:
                reported.append(Problem(code, 0, segment.tag, f"{segment.tag} {current_message}: {_meaning(code)}"))
        elif segment.tag == "UCS":
            position = integer_of(segment, segment.component(1), "segment position")
            reported.append(Problem(segment.component(2), position, "UCS",
                                    f"Message {current_message}, segment {position}: {_meaning(segment.component(2))}"))
    sent.status = Interchange.Status.REFUSED if refused else Interchange.Status.ACKNOWLEDGED
    sent.errors = [problem.as_json() for problem in reported]
    sent.answer = answer
    sent.save(update_fields=["status", "errors", "answer"])
    return {"interchange": reference, "status": sent.status}


def _meaning(code: str) -> str:
    try:
        return Code(code).meaning
    except ValueError:
        return f"error {code}"
