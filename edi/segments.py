"""Reading data elements of message segments (dates, decimals, references) with errors located at the segment,
and a service's refusal translated to the same located errors (the one place EDI turns domain errors into CONTRL).

The message mappers (ORDRSP, DESADV, CONTRL) read through these, so every bad value becomes a
`ContentError` that names the UN/EDIFACT error code (list 0085) and the segment it was found in,
ready to be answered in a CONTRL.
"""
from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import date, datetime
from decimal import Decimal, InvalidOperation

from collaboration.errors import DomainError, InvalidDocument, PermissionDenied
from edi.codec import Message, Segment
from edi.syntax_errors import SyntaxErrorCode as Code

# Date/time format qualifiers (2379) the mappers read: CCYYMMDD, CCYYMMDDHHMM, YYMMDD.
DATE_FORMATS = {"102": "%Y%m%d", "203": "%Y%m%d%H%M", "101": "%y%m%d"}
MAX_WHOLE_DIGITS = 12  # what the portal stores: 18 digits, up to 6 of them decimals
_NUMBER = re.compile(r"-?[0-9]*([.,][0-9]*)?\Z")


@dataclass(frozen=True)
class ContentProblem:
    code: Code
    segment: Segment | None
    text: str


class ContentError(Exception):
    """One or more problems in a message's content; the message is rejected and changes nothing."""

    def __init__(self, *problems: ContentProblem) -> None:
        super().__init__("; ".join(problem.text for problem in problems))
        self.problems = list(problems)

    @classmethod
    def at(cls, segment: Segment | None, code: Code, text: str) -> ContentError:
        return cls(ContentProblem(code, segment, text))


def decimal_of(segment: Segment, value: str, what: str) -> Decimal:
    """A numeric data element: optional minus, digits, either decimal mark (ISO 9735 allows both)."""
    if not value:
        raise ContentError.at(segment, Code.MISSING, f"{segment.tag}: the {what} is missing.")
    if not _NUMBER.match(value) or value in {"-", ".", ","}:
        raise ContentError.at(segment, Code.INVALID_TYPE_OF_CHARACTERS, f"{segment.tag}: {value!r} is not a number ({what}).")
    if value.lstrip("-")[:1] in {".", ","}:
        raise ContentError.at(segment, Code.MISSING_DIGIT_BEFORE_DECIMAL_SIGN, f"{segment.tag}: {value!r} needs a digit before the decimal mark.")
    whole = value.lstrip("-").replace(",", ".").partition(".")[0]
    if len(whole) > MAX_WHOLE_DIGITS or len(value) > 35:
        raise ContentError.at(segment, Code.DATA_ELEMENT_TOO_LONG, f"{segment.tag}: {value} is too large a {what}.")
    try:
        return Decimal(value.replace(",", "."))
    except InvalidOperation:  # pragma: no cover - the pattern admits only valid decimals
        raise ContentError.at(segment, Code.INVALID_VALUE, f"{segment.tag}: {value!r} is not a number ({what}).") from None


def date_of(segment: Segment) -> date:
    """DTM C507: value and format (102 by default); a date that does not exist is an invalid value."""
    value, fmt = segment.component(1, 2), segment.component(1, 3) or "102"
    pattern = DATE_FORMATS.get(fmt)
    if pattern is None:
        raise ContentError.at(segment, Code.VALUE_NOT_SUPPORTED_IN_POSITION,
                              f"DTM: date format {fmt!r} is not supported; use 102 (CCYYMMDD) or 203.")
    if not value:
        raise ContentError.at(segment, Code.MISSING, "DTM: the date is missing.")
    try:
        return datetime.strptime(value, pattern).date()
    except ValueError:
        raise ContentError.at(segment, Code.INVALID_VALUE, f"DTM: {value!r} is not a valid date in format {fmt}.") from None


def integer_of(segment: Segment, value: str, what: str) -> int:
    if not value:
        raise ContentError.at(segment, Code.MISSING, f"{segment.tag}: the {what} is missing.")
    if not value.isascii() or not value.isdigit() or len(value) > 6:
        raise ContentError.at(segment, Code.INVALID_VALUE, f"{segment.tag}: {value!r} is not a valid {what}.")
    return int(value)


def first(message: Message, tag: str, qualifier: str | None = None) -> Segment | None:
    """The first body segment with `tag` (and first component of element 1 equal to `qualifier`)."""
    for segment in message.body:
        if segment.tag == tag and (qualifier is None or segment.component(1) == qualifier):
            return segment
    return None


def required(message: Message, tag: str, qualifier: str | None = None, *, where: Segment | None = None) -> Segment:
    segment = first(message, tag, qualifier)
    if segment is None:
        name = f"{tag}+{qualifier}" if qualifier else tag
        raise ContentError.at(where or message.segments[0], Code.MISSING, f"The {name} segment is missing.")
    return segment


def split_groups(segments: list[Segment], tag: str) -> tuple[list[Segment], list[list[Segment]]]:
    """The segments before the first `tag`, and one list per `tag` segment with the segments up to the next."""
    head: list[Segment] = []
    groups: list[list[Segment]] = []
    for segment in segments:
        if segment.tag == tag:
            groups.append([segment])
        elif groups:
            groups[-1].append(segment)
        else:
            head.append(segment)
    return head, groups


def domain_problems(error: DomainError, *, default: Segment, segments: dict[str, Segment], key: str = "lines") -> ContentError:
    """A service's refusal as CONTRL problems: per line at its segment when the service named lines."""
    code = Code.NO_AGREEMENT if isinstance(error, PermissionDenied) else Code.INVALID_VALUE
    located = error.details.get(key) if isinstance(error, InvalidDocument) and isinstance(error.details, dict) else None
    problems = []
    if isinstance(located, dict):
        for name, fields in located.items():
            texts = [f"{field}: {message}" if field not in ("non_field_errors", "line") else str(message)
                     for field, messages in (fields.items() if isinstance(fields, dict) else [("", fields)])
                     for message in (messages if isinstance(messages, list) else [messages])]
            segment = segments.get(str(name), default)
            label = segment.tag + (f" {segment.component(1)}" if segment is not default else "")
            problems.append(ContentProblem(code, segment, f"{label}: {'; '.join(texts)}"))
    return ContentError(*problems) if problems else ContentError.at(default, code, str(error))
