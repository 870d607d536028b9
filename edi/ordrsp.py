"""ORDRSP (purchase order response) in: read into line responses and hand them to the acknowledgement service.

The profile this portal reads (D.96A or D.01B; docs/edi.md has the full guide):

    BGM+231+<response number>+<29 accepted | 4 changed | 27 not accepted>'
    RFF+ON:<order number>::<revision, optional>'
    FTX+ACD++<reason code>+<reason text>'        header reason when the whole order is not accepted
    LIN+<order line>+<5 accepted | 3 or 6 changed | 7 not accepted>'
      QTY+21:<proposed quantity>'  DTM+2:<promised date>:102' (or 69)  PRI+AAA:<unit price>'
      SCC+1' QTY+21:<quantity>' DTM+2:<date>:102'   once per delivery of a split
      FTX+ACD++<reason code>+<reason text>'       why a line is not accepted

A response without LIN answers every open line of the order (29 accepts them, 27 rejects them
with the header reason). A line accepted without amendment (5) takes the order's values.
"""
from __future__ import annotations

from dataclasses import dataclass, field
from decimal import Decimal

from collaboration import selectors
from collaboration.actors import Actor
from collaboration.errors import DomainError, NotFound
from collaboration.models import AcknowledgementLine, PurchaseOrderLine
from collaboration.services.acknowledgements import LineResponse, ScheduleInput, acknowledgement_submit
from edi.codec import Message, Segment
from edi.segments import ContentError, ContentProblem, date_of, decimal_of, domain_problems, integer_of, required, split_groups
from edi.syntax_errors import SyntaxErrorCode as Code

Action = AcknowledgementLine.Action
HEADER_FUNCTIONS = {"29": Action.ACCEPT, "4": None, "27": Action.REJECT}
LINE_ACTIONS = {"5": Action.ACCEPT, "3": Action.CHANGE, "6": Action.CHANGE, "7": Action.REJECT}
DATE_QUALIFIERS = {"2", "69"}
QUANTITY_QUALIFIERS = {"21", "113"}
MAX_REASON_TEXT = 500  # what the portal stores with a rejection


@dataclass
class OrderResponse:
    number: str
    revision: int | None
    header_action: str | None
    reference: Segment
    reason_code: str = ""
    reason_text: str = ""
    lines: list[tuple[LineResponse, Segment]] = field(default_factory=list)


def _reason(segment: Segment) -> tuple[str, str]:
    """FTX+ACD: reason code in C107 (4441), free text in C108 (its components joined)."""
    text = segment.element(4)
    parts = [text] if isinstance(text, str) else list(text)
    reason = " ".join(part for part in parts if part).strip()
    if len(reason) > MAX_REASON_TEXT:
        raise ContentError.at(segment, Code.DATA_ELEMENT_TOO_LONG, f"FTX: the reason text has more than {MAX_REASON_TEXT} characters.")
    return segment.component(3).strip().lower()[:30], reason


def read_order_response(message: Message) -> OrderResponse:
    """Parse the message; every problem found is raised together as one ContentError."""
    problems: list[ContentProblem] = []
    bgm = required(message, "BGM")
    if bgm.component(1) != "231":
        raise ContentError.at(bgm, Code.VALUE_NOT_SUPPORTED_IN_POSITION, f"BGM: document {bgm.component(1)!r} is not an order response (231).")
    function = bgm.component(3)
    if function not in HEADER_FUNCTIONS:
        raise ContentError.at(bgm, Code.VALUE_NOT_SUPPORTED_IN_POSITION,
                              f"BGM: message function {function!r} is not supported; use 29, 4 or 27.")
    head, groups = split_groups(message.body, "LIN")
    reference = next((s for s in head if s.tag == "RFF" and s.component(1) == "ON"), None)
    if reference is None or not reference.component(1, 2):
        raise ContentError.at(reference or bgm, Code.MISSING, "RFF+ON: the purchase order number is missing.")
    revision = None
    if reference.component(1, 4):
        try:
            revision = integer_of(reference, reference.component(1, 4), "order revision")
        except ContentError as error:
            problems += error.problems
    response = OrderResponse(number=reference.component(1, 2), revision=revision, header_action=HEADER_FUNCTIONS[function], reference=reference)
    header_reason = next((s for s in head if s.tag == "FTX" and s.component(1) == "ACD"), None)
    if header_reason is not None:
        try:
            response.reason_code, response.reason_text = _reason(header_reason)
        except ContentError as error:
            problems += error.problems
    for group in groups:
        try:
            response.lines.append((_line(group, response), group[0]))
        except ContentError as error:
            problems += error.problems
    if problems:
        raise ContentError(*problems)
    return response


def _line(group: list[Segment], response: OrderResponse) -> LineResponse:
    lin = group[0]
    number = integer_of(lin, lin.component(1), "order line number")
    code = lin.component(2)
    action = LINE_ACTIONS.get(code) if code else response.header_action
    if action is None:
        raise ContentError.at(lin, Code.VALUE_NOT_SUPPORTED_IN_POSITION if code else Code.MISSING,
                              f"LIN {number}: action {code!r} is not supported; use 5, 3, 6 or 7." if code
                              else f"LIN {number}: the action (5, 3, 6 or 7) is missing.")
    if action == Action.ACCEPT:
        return LineResponse(line=number, action=action)
    if action == Action.REJECT:
        reason = next((s for s in group if s.tag == "FTX" and s.component(1) == "ACD"), None)
        code_text = _reason(reason) if reason else (response.reason_code, response.reason_text)
        return LineResponse(line=number, action=action, reason_code=code_text[0], reason_text=code_text[1])
    quantity: Decimal | None = None
    promised = None
    price: Decimal | None = None
    schedule: list[ScheduleInput] = []
    in_schedule = False
    for segment in group[1:]:
        if segment.tag == "SCC":
            in_schedule = True
        elif segment.tag == "QTY" and segment.component(1) in QUANTITY_QUALIFIERS:
            value = decimal_of(segment, segment.component(1, 2), "quantity")
            if in_schedule:
                schedule.append(ScheduleInput(value, None))  # its date follows in a DTM
            elif quantity is not None:
                raise ContentError.at(segment, Code.TOO_MANY_REPETITIONS, f"LIN {number}: the quantity is given twice.")
            else:
                quantity = value
        elif segment.tag == "DTM" and segment.component(1) in DATE_QUALIFIERS:
            value = date_of(segment)
            if in_schedule:
                if not schedule or schedule[-1].date is not None:
                    raise ContentError.at(segment, Code.NOT_SUPPORTED_IN_POSITION, f"LIN {number}: a split date needs its QTY first.")
                schedule[-1] = ScheduleInput(schedule[-1].quantity, value)
            else:
                promised = value
        elif segment.tag == "PRI" and segment.component(1) == "AAA":
            price = decimal_of(segment, segment.component(1, 2), "unit price")
    for entry in schedule:
        if entry.date is None:
            raise ContentError.at(lin, Code.MISSING, f"LIN {number}: every split quantity needs a DTM+2 date.")
    if len(schedule) == 1:  # one delivery is a promised date, not a split
        quantity = quantity if quantity is not None else schedule[0].quantity
        promised, schedule = schedule[0].date, []
    return LineResponse(line=number, action=Action.CHANGE, quantity=quantity, unit_price=price, promised_date=promised,
                        schedule=tuple(schedule))


def apply_order_response(message: Message, *, actor: Actor) -> dict:
    """Read the ORDRSP and submit it through `acknowledgement_submit`; returns a summary."""
    response = read_order_response(message)
    try:
        po = selectors.purchase_order_get(actor=actor, number=response.number)
    except NotFound:
        # Unknown and another supplier's order read the same: nothing is revealed.
        raise ContentError.at(response.reference, Code.INVALID_VALUE, f"Purchase order {response.number} not found.") from None
    lines = response.lines
    if not lines:
        open_lines = po.lines.filter(is_cancelled=False, response_status=PurchaseOrderLine.ResponseStatus.OPEN)
        lines = [(LineResponse(line=line.line_number, action=response.header_action,
                               reason_code=response.reason_code if response.header_action == Action.REJECT else "",
                               reason_text=response.reason_text if response.header_action == Action.REJECT else ""),
                  response.reference) for line in open_lines.order_by("line_number")]
        if not lines:
            raise ContentError.at(response.reference, Code.INVALID_VALUE, f"Purchase order {po.number} has no open line to answer.")
    try:
        ack = acknowledgement_submit(number=po.number, revision=po.revision if response.revision is None else response.revision,
                                     responses=[line for line, _ in lines], actor=actor)
    except DomainError as error:
        raise domain_problems(error, default=response.reference,
                              segments={str(line.line): segment for line, segment in lines}) from None
    decisions = {str(line.order_line.line_number): line.decision for line in ack.lines.select_related("order_line")}
    return {"purchase_order": po.number, "revision": ack.revision, "acknowledgement": ack.pk, "decisions": decisions}
