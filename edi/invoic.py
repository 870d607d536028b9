"""INVOIC (commercial invoice) in: read into an InvoiceDocument and hand it to the invoice service.

The profile this portal reads (D.96A or D.01B; docs/edi.md has the full guide):

    BGM+380+<invoice number>+9'                 380 commercial invoice, 9 original
    DTM+137:<invoice date>:102'
    RFF+ON:<order number>'                      default order of the lines
    RFF+AAK:<despatch advice number>'           the shipment invoiced, if the invoice is for one
    CUX+2:<currency>:4'
    TAX+7+VAT+++:::<rate>+S'                    the VAT rate (0 if absent)
    LIN+<n>++<item>:BP'  QTY+47:<quantity>'  PRI+AAA:<net unit price>'  RFF+ON:<order>:<order line>'
      MOA+203:<line amount>'                    optional; must be quantity x price
      FTX+AAI+++<reason>'                       why the line differs from the order or the receipt
    UNS+S'
    MOA+79:<net>'  MOA+125:<taxable>'  MOA+176:<tax>'  MOA+77:<invoice total>'   optional; must add up

Amounts given are checked against what the portal computes (a cent's rounding apart), so an
invoice whose totals do not add up is refused before anyone pays it. The supplier is the trading
partner's: an order of another supplier reads as one that does not exist.
"""
from __future__ import annotations

from dataclasses import dataclass
from decimal import Decimal

from collaboration.actors import Actor
from collaboration.documents import InvoiceDocument, decimal_text, parse_invoice
from collaboration.errors import DomainError, InvalidDocument
from collaboration.services.invoices import MatchPreview, invoice_match, invoice_submit
from edi.codec import Message, Segment
from edi.segments import ContentError, ContentProblem, date_of, decimal_of, integer_of, required, split_groups
from edi.syntax_errors import SyntaxErrorCode as Code

CENT = Decimal("0.01")
# Totals a partner may give (MOA 5025) and what of the portal's computation each must equal.
TOTALS = {"79": "net", "125": "net", "176": "tax", "124": "tax", "77": "gross", "86": "gross"}


@dataclass
class InvoiceMessage:
    document: InvoiceDocument
    bgm: Segment
    line_segments: dict[str, Segment]  # document line position -> its LIN
    amounts: list[tuple[Segment, str, Decimal]]  # (MOA, what, amount) to check against the computation


def read_invoice(message: Message) -> InvoiceMessage:
    bgm = required(message, "BGM")
    if bgm.component(1) != "380":
        raise ContentError.at(bgm, Code.VALUE_NOT_SUPPORTED_IN_POSITION,
                              f"BGM: document {bgm.component(1)!r} is not supported; send commercial invoices (380).")
    number, function = bgm.component(2), bgm.component(3) or "9"
    if not number:
        raise ContentError.at(bgm, Code.MISSING, "BGM: the invoice number is missing.")
    if function != "9":
        raise ContentError.at(bgm, Code.VALUE_NOT_SUPPORTED_IN_POSITION,
                              f"BGM: message function {function!r} is not supported; an invoice is sent once, as an original (9).")
    problems: list[ContentProblem] = []
    head, items = split_groups(message.body, "LIN")
    summary: list[Segment] = []
    if items:
        last, uns_at = items[-1], next((i for i, s in enumerate(items[-1]) if s.tag == "UNS"), None)
        if uns_at is not None:
            items[-1], summary = last[:uns_at], last[uns_at + 1:]
    invoice_date = None
    for segment in head:
        if segment.tag == "DTM" and segment.component(1) == "137":
            try:
                invoice_date = date_of(segment)
            except ContentError as error:
                problems += error.problems
    if invoice_date is None and not any(s.tag == "DTM" and s.component(1) == "137" for s in head):
        problems.append(ContentProblem(Code.MISSING, bgm, "DTM+137: the invoice date is missing."))
    default_order = next((s.component(1, 2) for s in head if s.tag == "RFF" and s.component(1) == "ON"), "")
    shipment = next((s.component(1, 2) for s in head if s.tag == "RFF" and s.component(1) == "AAK"), "")
    cux = next((s for s in head if s.tag == "CUX"), None)
    currency = cux.component(1, 2) if cux else ""
    if not currency:
        problems.append(ContentProblem(Code.MISSING, cux or bgm, "CUX: the invoice currency is missing."))
    tax_rate = Decimal(0)
    tax = next((s for s in head if s.tag == "TAX" and s.component(1) == "7"), None)
    if tax is not None and tax.component(5, 4):
        try:
            tax_rate = decimal_of(tax, tax.component(5, 4), "VAT rate")
        except ContentError as error:
            problems += error.problems
    lines, line_segments, amounts = [], {}, []
    if not items:
        problems.append(ContentProblem(Code.MISSING, bgm, "LIN: the invoice has no lines."))
    for item in items:
        try:
            line, stated = _line(item, default_order)
        except ContentError as error:
            problems += error.problems
            continue
        line_segments[str(len(lines))] = item[0]
        lines.append(line)
        if stated is not None:
            amounts.append((stated[0], f"line {len(lines)}", stated[1]))
    for segment in summary:
        if segment.tag == "MOA" and segment.component(1, 1) in TOTALS:
            try:
                amounts.append((segment, TOTALS[segment.component(1)], decimal_of(segment, segment.component(1, 2), "amount")))
            except ContentError as error:
                problems += error.problems
    if problems:
        raise ContentError(*problems)
    data = {"number": number, "invoice_date": invoice_date.isoformat(), "currency": currency,
            "tax_rate": decimal_text(tax_rate), "shipment": shipment, "lines": lines}
    try:
        document = parse_invoice(data)
    except InvalidDocument as error:
        raise _located(error, bgm, line_segments) from None
    return InvoiceMessage(document, bgm, line_segments, amounts)


def _line(segments: list[Segment], default_order: str) -> tuple[dict, tuple[Segment, Decimal] | None]:
    lin = segments[0]
    quantity = price = None
    order, order_line, reason, stated = default_order, None, "", None
    for segment in segments[1:]:
        if segment.tag == "QTY" and segment.component(1) == "47":
            quantity = decimal_of(segment, segment.component(1, 2), "invoiced quantity")
        elif segment.tag == "PRI" and segment.component(1) in ("AAA", "AAB") and price is None:
            price = decimal_of(segment, segment.component(1, 2), "unit price")
        elif segment.tag == "RFF" and segment.component(1) == "ON":
            order = segment.component(1, 2) or order
            if segment.component(1, 3):
                order_line = integer_of(segment, segment.component(1, 3), "order line number")
        elif segment.tag == "MOA" and segment.component(1) == "203":
            stated = (segment, decimal_of(segment, segment.component(1, 2), "line amount"))
        elif segment.tag == "FTX" and segment.component(1) in ("AAI", "ACB"):
            reason = " ".join(filter(None, (segment.component(4, index) for index in range(1, 6))))[:300]
    label = f"LIN {lin.component(1)}"
    if quantity is None:
        raise ContentError.at(lin, Code.MISSING, f"{label}: QTY+47 (invoiced quantity) is missing.")
    if price is None:
        raise ContentError.at(lin, Code.MISSING, f"{label}: PRI+AAA (net unit price) is missing.")
    if not order:
        raise ContentError.at(lin, Code.MISSING, f"{label}: RFF+ON (the order) is missing.")
    if order_line is None:
        raise ContentError.at(lin, Code.MISSING, f"{label}: the order line (RFF+ON:<order>:<line>) is missing.")
    return {"purchase_order": order, "line": order_line, "quantity": quantity, "unit_price": price, "reason": reason}, stated


def _check_amounts(invoice: InvoiceMessage, preview: MatchPreview) -> None:
    computed = {"net": preview.net_amount, "tax": preview.tax_amount, "gross": preview.gross_amount}
    for position, match in enumerate(preview.lines, 1):
        computed[f"line {position}"] = match.amount
    problems = [
        ContentProblem(Code.INVALID_VALUE, segment,
                       f"MOA+{segment.component(1)}: {decimal_text(amount)} does not add up; the {what} is "
                       f"{decimal_text(computed[what])}.")
        for segment, what, amount in invoice.amounts if abs(amount - computed[what]) > CENT
    ]
    if problems:
        raise ContentError(*problems)


def _located(error: DomainError, bgm: Segment, line_segments: dict[str, Segment]) -> ContentError:
    """The service's refusal as CONTRL problems: line problems at their LIN, the rest at BGM."""
    code = Code.NO_AGREEMENT if error.code == "permission_denied" else Code.INVALID_VALUE
    details = error.details if isinstance(error.details, dict) else {}
    problems = []
    for key, value in details.items():
        if key == "lines" and isinstance(value, dict):
            for position, fields in value.items():
                segment = line_segments.get(str(position), bgm)
                texts = [str(text) for texts in (fields.values() if isinstance(fields, dict) else [fields])
                         for text in (texts if isinstance(texts, list) else [texts])]
                problems.append(ContentProblem(code, segment, f"{segment.tag} {segment.component(1)}: {'; '.join(texts)}"))
        else:
            texts = value if isinstance(value, list) else [value]
            problems.append(ContentProblem(code, bgm, f"{error.message} {key}: {'; '.join(map(str, texts))}"))
    return ContentError(*problems) if problems else ContentError.at(bgm, code, error.message)


def apply_invoice(message: Message, *, actor: Actor, supplier_id: int) -> dict:
    invoice = read_invoice(message)
    try:
        if invoice.amounts:
            _check_amounts(invoice, invoice_match(supplier_id=supplier_id, document=invoice.document))
        stored = invoice_submit(supplier_id=supplier_id, document=invoice.document, actor=actor)
    except DomainError as error:
        raise _located(error, invoice.bgm, invoice.line_segments) from None
    return {"invoice": stored.number, "net_amount": decimal_text(stored.net_amount), "currency": stored.currency,
            "differences": stored.lines.exclude(differences=[]).count()}
