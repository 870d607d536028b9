"""EDIFACT codec: bytes <-> interchanges (UNA/UNB..UNZ, UNG/UNE, UNH/UNT) with ISO 9735 syntax checks.

Owns the envelope and syntax layer only; message mappers (ORDRSP, DESADV, ...) work on the
`Message.segments` it returns, and CONTRL is built from `Interchange.errors`. Django-free.

Design decisions
----------------
* Own tokenizer, not pydifact's. pydifact 0.2.3 walks the text one character at a time
  through an iterator and several method calls per character; it also needs the whole file
  decoded to `str` up front, which is exactly what we cannot do before reading each UNB's
  syntax identifier. This codec splits the *bytes*: `bytes.find` for the segment terminator,
  a look-back for an odd run of release characters, then one `decode` and two `str.split`
  per segment (a character walk only for segments that contain the release character).
  That is sound for every supported charset because all of them are ASCII-compatible and
  the service characters must be 7-bit (enforced for UNA, error 20). `bench/edi_codec.py`
  on a 4.6 MB file of 7,288 ORDRSP (211k segments), 2-CPU dev box: this codec ~1.0–1.6 s
  (130–200k segments/s, 2.9–4.5 MB/s), pydifact ~8.6–10 s (21–24k segments/s, ~0.5 MB/s), and
  pydifact rejects the same content split into several interchanges ("multiple UNA"). The
  cyclic GC is paused during parse_file (it cost ~40% rescanning the acyclic segment objects).
* `parse_file(data)` never raises on content. It returns `list[Interchange]`; bytes that do
  not belong to an interchange (leading junk, a PNG, an empty file) come back as an
  `Interchange` with empty envelope fields, `raw` = those bytes and a `13 Missing` error on
  tag UNB. So callers have one shape to store and answer.
* Interchange boundaries: an interchange starts at `UNA` or `UNB` and ends after the UNZ
  terminator. A `UNA`/`UNB` at a segment start before the UNZ ends the current interchange
  (UNZ reported missing) and starts the next one, so back-to-back interchanges with different
  UNA separators or charsets each parse with their own. `raw` is the exact byte slice of the
  file from the first byte of UNA/UNB to the UNZ terminator inclusive; CR/LF/space/tab
  between segments and between interchanges are tolerated and not part of any segment.
* Separators: UNA honoured (component, data element, decimal mark, release, repetition,
  terminator); a space as release character means "none". Without UNA the ISO defaults
  `:+.? '` apply, or the level-B information separators (IS1/IS3/IS4) when the byte after
  `UNB` is IS3. The repetition separator is *not* split on (syntax 4 repeating elements are
  returned as one string); the builder escapes it under syntax version 4.
* Decoding by UNB S001/0001: UNOA/UNOB = 7-bit ISO 646 limited to the level A / level B
  repertoire (ISO 9735: A–Z, a–z for B only, 0–9, space and . , - ( ) / = ' + : ? ! " % & * ; < >),
  UNOC..UNOK = ISO 8859-1,-2,-5,-7,-3,-4,-6,-8,-9, UNOW and UNOY = UTF-8. Each segment is
  decoded on its own; a byte sequence the charset cannot carry is error 21 at that segment
  (decoded with U+FFFD so parsing continues). Unknown syntax identifier or version: error 2,
  decoded as ISO 8859-1.
* Positions: `SyntaxIssue.position` counts segments within the interchange, UNB = 1, UNA not
  counted; 0 means "not attributable to a segment" (file-level junk). `position_in_message`
  counts from UNH = 1, as CONTRL's UCS 0096 wants. A missing trailer (UNT/UNE/UNZ) is
  reported at the position of the segment that revealed it (the next UNH/UNZ/UNB), or at
  last position + 1 at end of file.
* Segments: `Segment(tag, elements, position)`; each element is a `str` when it has one
  component and a `tuple[str, ...]` when it is composite. `Message.segments` runs from UNH to
  UNT inclusive (so counts are visible); `Message.body` leaves both out.
* Checks: UNB mandatory parts (13), syntax id/version (2), date/time (12); UNH ref/type (13);
  UNT count == segments UNH..UNT (29, non-numeric 37) and ref == UNH ref (28); UNE count ==
  messages in group (29) and ref == UNG ref (28); UNZ count == groups if groups are used,
  else messages (29), ref == UNB 0020 (28); missing UNT/UNE/UNZ (13); groups mixed with
  bare messages (30); several message types in one group (31); interchange or group with
  no message (32); a non-service segment outside a message (33); a segment tag that is not
  three upper-case letters/digits (12); a segment cut off by end of file (13).
* `build_interchange(...)` writes UNA (optional), UNB, UNH..UNT per message and UNZ with the
  counts filled in, escapes every service character with the release character, and encodes
  with the declared charset, raising `UnencodableCharacter` (a ValueError) for anything the
  charset (or the UNOA/UNOB repertoire) cannot carry. `parse_file(build_interchange(...))`
  gives back the same envelope and segments.

Limitations: no UNO/UNP packages, security segments (USH...) or syntax-4 repetition splitting;
no data-element length/format checks against a directory (that is the mappers' job);
UNOX (ISO 2022) is reported as unsupported (2); builder does not write functional groups.
"""
from __future__ import annotations

import functools
import gc
import re
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import datetime

from edi.syntax_errors import SyntaxErrorCode as Code

Element = str | tuple[str, ...]

CHARSETS: dict[str, str] = {
    "UNOA": "ascii",
    "UNOB": "ascii",
    "UNOC": "iso8859-1",
    "UNOD": "iso8859-2",
    "UNOE": "iso8859-5",
    "UNOF": "iso8859-7",
    "UNOG": "iso8859-3",
    "UNOH": "iso8859-4",
    "UNOI": "iso8859-6",
    "UNOJ": "iso8859-8",
    "UNOK": "iso8859-9",
    "UNOW": "utf-8",
    "UNOY": "utf-8",
}
_LEVEL_A = "ABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789 .,-()/='+:?!\"%&*;<>"
REPERTOIRES: dict[str, frozenset[str]] = {
    "UNOA": frozenset(_LEVEL_A),
    "UNOB": frozenset(_LEVEL_A + "abcdefghijklmnopqrstuvwxyz"),
}
SUPPORTED_SYNTAX_VERSIONS = frozenset({"1", "2", "3", "4"})
_TAG = re.compile(r"[A-Z0-9]{3}\Z")
_WHITESPACE = re.compile(rb"[ \t\r\n]*")


@dataclass(frozen=True, slots=True)
class Separators:
    component: str = ":"
    element: str = "+"
    decimal: str = "."
    release: str | None = "?"
    repetition: str = " "
    terminator: str = "'"

    def una(self) -> str:
        return "UNA" + self.component + self.element + self.decimal + (self.release or " ") + self.repetition + self.terminator

    @property
    def service_characters(self) -> frozenset[str]:
        chars = {self.component, self.element, self.terminator}
        if self.release:
            chars.add(self.release)
        return frozenset(chars)


DEFAULT_SEPARATORS = Separators()
# ISO 9735 level B default separators: IS1 component, IS3 data element, IS4 segment terminator.
LEVEL_B_SEPARATORS = Separators(component="\x1f", element="\x1d", decimal=".", release=None, repetition=" ", terminator="\x1c")


@dataclass(frozen=True, slots=True)
class SyntaxIssue:
    code: Code
    position: int
    tag: str
    text: str
    message_ref: str | None = None
    position_in_message: int | None = None
    group_ref: str | None = None

    @property
    def meaning(self) -> str:
        return self.code.meaning


@dataclass(slots=True)
class Segment:
    tag: str
    elements: tuple[Element, ...]
    position: int

    def element(self, index: int) -> Element:
        """Data element `index` (1-based, after the tag), "" when absent."""
        return self.elements[index - 1] if 0 < index <= len(self.elements) else ""

    def component(self, index: int, component: int = 1) -> str:
        """Component `component` (1-based) of data element `index`; a simple element is its own first component."""
        value = self.element(index)
        if isinstance(value, str):
            return value if component == 1 else ""
        return value[component - 1] if 0 < component <= len(value) else ""


@dataclass(slots=True)
class Message:
    ref: str
    type: str
    version: str
    release: str
    agency: str
    association_code: str
    first_segment_number: int
    segments: list[Segment] = field(default_factory=list)
    group_ref: str | None = None
    complete: bool = False

    @property
    def body(self) -> list[Segment]:
        end = -1 if self.complete else None
        return self.segments[1:end]


@dataclass(slots=True)
class Group:
    ref: str
    function_id: str
    sender: str
    recipient: str
    first_segment_number: int
    messages: list[Message] = field(default_factory=list)
    complete: bool = False


@dataclass(slots=True)
class Interchange:
    raw: bytes
    offset: int
    separators: Separators = DEFAULT_SEPARATORS
    has_una: bool = False
    syntax_id: str = ""
    syntax_version: str = ""
    sender_id: str = ""
    sender_qualifier: str = ""
    recipient_id: str = ""
    recipient_qualifier: str = ""
    prepared_at: datetime | None = None
    control_ref: str = ""
    application_ref: str = ""
    ack_requested: bool = False
    test_indicator: str = ""
    groups: list[Group] = field(default_factory=list)
    messages: list[Message] = field(default_factory=list)
    errors: list[SyntaxIssue] = field(default_factory=list)
    segment_count: int = 0
    complete: bool = False

    @property
    def is_test(self) -> bool:
        return self.test_indicator == "1"

    @property
    def is_valid(self) -> bool:
        return not self.errors


class UnencodableCharacter(ValueError):
    """A value holds a character the declared syntax identifier (charset/repertoire) cannot carry."""


# --------------------------------------------------------------------------- reading


def parse_file(data: bytes) -> list[Interchange]:
    """Split `data` into interchanges and check each; never raises on content."""
    data = bytes(data)
    # Parsing allocates hundreds of thousands of small acyclic objects; the cyclic GC would
    # rescan them over and over (about 40% of the time on 5 MB), so it pauses meanwhile.
    was_enabled = gc.isenabled()
    gc.disable()
    try:
        return _parse_file(data)
    finally:
        if was_enabled:
            gc.enable()


def _parse_file(data: bytes) -> list[Interchange]:
    result: list[Interchange] = []
    size = len(data)
    pos = _WHITESPACE.match(data, 0).end()
    if pos >= size:
        return [_stray(data, 0, size, "empty file: no interchange (UNB missing)")]
    while pos < size:
        if data.startswith((b"UNA", b"UNB"), pos):
            try:
                interchange, pos = _parse_interchange(data, pos)
            except Exception as exc:  # a bug here must not lose the inbound file; report it as 18
                interchange = Interchange(raw=data[pos:], offset=pos)
                interchange.errors.append(SyntaxIssue(Code.UNSPECIFIED_ERROR, 0, "", f"codec failure: {exc!r}"))
                pos = size
        else:
            end = _next_interchange_start(data, pos + 1)
            interchange = _stray(data, pos, end, "data outside an interchange (UNB missing)")
            pos = end
        result.append(interchange)
        pos = _WHITESPACE.match(data, pos).end()
    return result


def _stray(data: bytes, start: int, end: int, text: str) -> Interchange:
    interchange = Interchange(raw=data[start:end], offset=start)
    interchange.errors.append(SyntaxIssue(Code.MISSING, 0, "UNB", text))
    return interchange


def _next_interchange_start(data: bytes, pos: int) -> int:
    candidates = [i for i in (data.find(b"UNA", pos), data.find(b"UNB", pos)) if i != -1]
    return min(candidates) if candidates else len(data)


def _read_una(data: bytes, pos: int, errors: list[SyntaxIssue]) -> Separators:
    advice = data[pos + 3 : pos + 9]
    if len(advice) < 6:
        errors.append(SyntaxIssue(Code.MISSING, 0, "UNA", "UNA service string advice cut short"))
        return DEFAULT_SEPARATORS
    chars = advice.decode("latin-1")
    component, element, decimal, release, repetition, terminator = chars
    problems = []
    if any(byte >= 0x80 for byte in advice):
        problems.append("service characters must be 7-bit")
    separators = [component, element, terminator] + ([release] if release != " " else []) + ([repetition] if repetition != " " else [])
    if len(set(separators)) != len(separators):
        problems.append("service characters must differ")
    if any(char.isalnum() for char in separators):
        problems.append("letters and digits cannot be service characters")
    if decimal not in ".,":
        errors.append(SyntaxIssue(Code.INVALID_DECIMAL_NOTATION, 0, "UNA", f"decimal mark {decimal!r} is neither '.' nor ','"))
    if problems:
        errors.append(SyntaxIssue(Code.CHARACTER_INVALID_AS_SERVICE_CHARACTER, 0, "UNA", f"UNA {chars!r}: " + "; ".join(problems)))
    return Separators(component, element, decimal, None if release == " " else release, repetition, terminator)


class _Reader:
    """Reads one interchange's segments and checks its envelope; `run` returns (interchange, next position)."""

    def __init__(self, data: bytes, start: int) -> None:
        self.data = data
        self.start = start
        self.interchange = Interchange(raw=b"", offset=start)
        self.errors = self.interchange.errors
        self.position = 0
        self.encoding = "iso8859-1"
        self.invalid_char: re.Pattern[str] | None = None
        self.message: Message | None = None
        self.group: Group | None = None
        self.bare_messages = 0

    def issue(self, code: Code, tag: str, text: str, position: int | None = None) -> None:
        position = self.position if position is None else position
        message = self.message
        self.errors.append(
            SyntaxIssue(
                code,
                position,
                tag,
                text,
                message_ref=message.ref if message else None,
                position_in_message=(position - message.first_segment_number + 1) if message else None,
                group_ref=self.group.ref if self.group else None,
            )
        )

    def run(self) -> tuple[Interchange, int]:
        data, interchange = self.data, self.interchange
        pos = self.start
        separators = DEFAULT_SEPARATORS
        if data.startswith(b"UNA", pos):
            separators = _read_una(data, pos, self.errors)
            interchange.has_una = True
            pos = min(pos + 9, len(data))
        elif data[pos + 3 : pos + 4] == b"\x1d":
            separators = LEVEL_B_SEPARATORS
        interchange.separators = separators
        self.separators = separators
        terminator = separators.terminator.encode("latin-1")
        release = separators.release.encode("latin-1")[0] if separators.release else None
        size = len(data)
        end = pos
        while True:
            seg_start = _WHITESPACE.match(data, pos).end()
            if seg_start >= size:
                break
            if self.position and data.startswith((b"UNA", b"UNB"), seg_start):
                break
            cut = data.find(terminator, seg_start)
            if release is not None:
                while cut > 0 and data[cut - 1] == release and _odd_release_run(data, cut, seg_start, release):
                    cut = data.find(terminator, cut + 1)
            terminated = cut != -1
            seg_end = cut if terminated else size
            pos = end = seg_end + 1 if terminated else size
            self.position += 1
            segment = self.segment(data[seg_start:seg_end])
            if not terminated:
                self.issue(Code.MISSING, segment.tag, "segment terminator missing: file ends inside a segment")
            if self.dispatch(segment):
                interchange.complete = True
                break
        self.finish()
        interchange.raw = data[self.start : end]
        interchange.segment_count = self.position
        return interchange, end

    def segment(self, body: bytes) -> Segment:
        try:
            text = body.decode(self.encoding)
        except UnicodeDecodeError as exc:
            text = body.decode(self.encoding, "replace")
            tag = text[:3]
            self.issue(Code.INVALID_CHARACTERS, tag, f"byte {body[exc.start:exc.start + 1]!r} at offset {exc.start} is not valid {self.interchange.syntax_id} ({self.encoding})")
        else:
            self.check_repertoire(text)
        tag, elements = split_segment(text, self.separators)
        return Segment(tag, elements, self.position)

    def check_repertoire(self, text: str) -> None:
        """One error for a control character in the data (no charset carries them as data: a NUL or
        a line break inside a value), and under UNOA/UNOB for the first character outside the level
        A/B repertoire (a byte the charset cannot decode at all is reported once, above, not here)."""
        control = _control_pattern(self.separators).search(text)
        if control:
            self.issue(Code.INVALID_CHARACTERS, text[:3], f"control character U+{ord(control.group()):04X} in the data")
            return
        if self.invalid_char is not None:
            bad = self.invalid_char.search(text)
            if bad:
                self.issue(Code.INVALID_CHARACTERS, text[:3], f"character {bad.group()!r} is outside the {self.interchange.syntax_id} repertoire")

    def dispatch(self, segment: Segment) -> bool:
        """Apply one segment; True when it closed the interchange (UNZ)."""
        tag = segment.tag
        message = self.message
        if message is not None and not tag.startswith("UN"):  # the common case, kept short
            if len(tag) != 3 or not _TAG.match(tag):
                self.issue(Code.INVALID_VALUE, tag, f"segment tag {tag!r} is not three letters or digits")
            message.segments.append(segment)
            return False
        if self.position == 1 and tag != "UNB":
            self.issue(Code.MISSING, "UNB", f"interchange does not start with UNB (found {tag!r})")
        if tag == "UNB":
            if self.position != 1:
                self.issue(Code.NOT_SUPPORTED_IN_POSITION, tag, "UNB inside an interchange")
            else:
                self.header(segment)
        elif tag == "UNH":
            self.message_start(segment)
        elif tag == "UNT":
            self.message_end(segment)
        elif tag == "UNG":
            self.group_start(segment)
        elif tag == "UNE":
            self.group_end(segment)
        elif tag == "UNZ":
            self.trailer(segment)
            return True
        elif self.message is not None:
            if not _TAG.match(tag):
                self.issue(Code.INVALID_VALUE, tag, f"segment tag {tag!r} is not three letters or digits")
            self.message.segments.append(segment)
        else:
            self.issue(Code.INVALID_OCCURRENCE_OUTSIDE_MESSAGE, tag, f"segment {tag!r} outside a message")
        return False

    def header(self, unb: Segment) -> None:
        ic = self.interchange
        ic.syntax_id, ic.syntax_version = unb.component(1, 1), unb.component(1, 2)
        ic.sender_id, ic.sender_qualifier = unb.component(2, 1), unb.component(2, 2)
        ic.recipient_id, ic.recipient_qualifier = unb.component(3, 1), unb.component(3, 2)
        date, time = unb.component(4, 1), unb.component(4, 2)
        ic.control_ref = unb.component(5)
        ic.application_ref = unb.component(7)
        ic.ack_requested = unb.component(9) == "1"
        ic.test_indicator = unb.component(11)
        if ic.syntax_id in CHARSETS:
            self.encoding = CHARSETS[ic.syntax_id]
        else:
            self.issue(Code.SYNTAX_VERSION_OR_LEVEL_NOT_SUPPORTED, "UNB", f"syntax identifier {ic.syntax_id!r} not supported")
        if ic.syntax_version not in SUPPORTED_SYNTAX_VERSIONS:
            self.issue(Code.SYNTAX_VERSION_OR_LEVEL_NOT_SUPPORTED, "UNB", f"syntax version {ic.syntax_version!r} not supported")
        repertoire = REPERTOIRES.get(ic.syntax_id)
        if repertoire is not None:
            allowed = repertoire | self.separators.service_characters | {self.separators.decimal, self.separators.repetition}
            self.invalid_char = re.compile("[^" + "".join(re.escape(c) for c in sorted(allowed)) + "]")
        for value, name in ((ic.sender_id, "interchange sender (S002)"), (ic.recipient_id, "interchange recipient (S003)"), (date, "date (S004)"), (time, "time (S004)"), (ic.control_ref, "interchange control reference (0020)")):
            if not value:
                self.issue(Code.MISSING, "UNB", f"{name} missing")
        if date and time:
            ic.prepared_at = _parse_datetime(date, time)
            if ic.prepared_at is None:
                self.issue(Code.INVALID_VALUE, "UNB", f"date/time {date}:{time} is not YYMMDD/CCYYMMDD:HHMM")
        if ic.test_indicator not in ("", "1"):
            self.issue(Code.INVALID_VALUE, "UNB", f"test indicator {ic.test_indicator!r} is not 1")
        # UNB was decoded before its own syntax identifier was known: check it against the charset now.
        unb_text = self.separators.element.join(_flatten(unb.elements, self.separators))
        if _control_pattern(self.separators).search(unb_text):
            self.issue(Code.INVALID_CHARACTERS, "UNB", "control character in the interchange header")
        if self.invalid_char is not None:
            text = self.separators.element.join(_flatten(unb.elements, self.separators))
            bad = self.invalid_char.search(text)
            if bad:
                self.issue(Code.INVALID_CHARACTERS, "UNB", f"character {bad.group()!r} is outside the {ic.syntax_id} repertoire")
        elif self.encoding != "iso8859-1":
            try:
                for element in unb.elements:
                    for part in (element,) if isinstance(element, str) else element:
                        part.encode("latin-1").decode(self.encoding)
                unb.elements = tuple(
                    e.encode("latin-1").decode(self.encoding) if isinstance(e, str) else tuple(p.encode("latin-1").decode(self.encoding) for p in e)
                    for e in unb.elements
                )
            except UnicodeError:
                self.issue(Code.INVALID_CHARACTERS, "UNB", f"UNB is not valid {ic.syntax_id} ({self.encoding})")
            else:
                ic.sender_id, ic.recipient_id = unb.component(2, 1), unb.component(3, 1)

    def message_start(self, unh: Segment) -> None:
        if self.message is not None:
            self.issue(Code.MISSING, "UNT", f"UNT missing: message {self.message.ref!r} is followed by another UNH")
            self.message = None
        if self.group is None:
            self.bare_messages += 1
            if self.interchange.groups:
                self.issue(Code.GROUPS_AND_MESSAGES_MIXED, "UNH", "message outside a functional group in an interchange that uses groups")
        message = Message(
            ref=unh.component(1),
            type=unh.component(2, 1),
            version=unh.component(2, 2),
            release=unh.component(2, 3),
            agency=unh.component(2, 4),
            association_code=unh.component(2, 5),
            first_segment_number=self.position,
            segments=[unh],
            group_ref=self.group.ref if self.group else None,
        )
        self.message = message
        self.interchange.messages.append(message)
        if not message.ref:
            self.issue(Code.MISSING, "UNH", "message reference number (0062) missing")
        if not (message.type and message.version and message.release and message.agency):
            self.issue(Code.MISSING, "UNH", "message identifier (S009) incomplete")
        if self.group is not None:
            self.group.messages.append(message)
            first_type = self.group.messages[0].type
            if message.type != first_type:
                self.issue(Code.MORE_THAN_ONE_MESSAGE_TYPE_IN_GROUP, "UNH", f"{message.type} in group {self.group.ref!r} of {first_type} messages")

    def message_end(self, unt: Segment) -> None:
        message = self.message
        if message is None:
            self.issue(Code.INVALID_OCCURRENCE_OUTSIDE_MESSAGE, "UNT", "UNT without UNH")
            return
        message.segments.append(unt)
        count, ref = unt.component(1), unt.component(2)
        actual = len(message.segments)
        if not count:
            self.issue(Code.MISSING, "UNT", "number of segments (0074) missing")
        elif not count.isdigit():
            self.issue(Code.INVALID_TYPE_OF_CHARACTERS, "UNT", f"number of segments {count!r} is not numeric")
        elif int(count) != actual:
            self.issue(Code.CONTROL_COUNT_DOES_NOT_MATCH, "UNT", f"UNT says {int(count)} segments, message {message.ref!r} has {actual}")
        if ref != message.ref:
            self.issue(Code.REFERENCES_DO_NOT_MATCH, "UNT", f"UNT reference {ref!r} does not match UNH reference {message.ref!r}")
        message.complete = True
        self.message = None

    def group_start(self, ung: Segment) -> None:
        if self.message is not None:
            self.issue(Code.MISSING, "UNT", f"UNT missing: message {self.message.ref!r} is followed by UNG")
            self.message = None
        if self.group is not None:
            self.issue(Code.MISSING, "UNE", f"UNE missing: group {self.group.ref!r} is followed by another UNG")
        if self.bare_messages:
            self.issue(Code.GROUPS_AND_MESSAGES_MIXED, "UNG", "functional group after messages outside groups")
        group = Group(ref=ung.component(5), function_id=ung.component(1), sender=ung.component(2, 1), recipient=ung.component(3, 1), first_segment_number=self.position)
        if not group.ref:
            self.issue(Code.MISSING, "UNG", "group reference number (0048) missing")
        self.group = group
        self.interchange.groups.append(group)

    def group_end(self, une: Segment) -> None:
        if self.message is not None:
            self.issue(Code.MISSING, "UNT", f"UNT missing: message {self.message.ref!r} is followed by UNE")
            self.message = None
        group = self.group
        if group is None:
            self.issue(Code.INVALID_OCCURRENCE_OUTSIDE_MESSAGE, "UNE", "UNE without UNG")
            return
        count, ref = une.component(1), une.component(2)
        self._check_count("UNE", count, len(group.messages), f"messages in group {group.ref!r}")
        if ref != group.ref:
            self.issue(Code.REFERENCES_DO_NOT_MATCH, "UNE", f"UNE reference {ref!r} does not match UNG reference {group.ref!r}")
        if not group.messages:
            self.issue(Code.LOWER_LEVEL_EMPTY, "UNE", f"group {group.ref!r} holds no message")
        group.complete = True
        self.group = None

    def trailer(self, unz: Segment) -> None:
        if self.message is not None:
            self.issue(Code.MISSING, "UNT", f"UNT missing: message {self.message.ref!r} is followed by UNZ")
            self.message = None
        if self.group is not None:
            self.issue(Code.MISSING, "UNE", f"UNE missing: group {self.group.ref!r} is followed by UNZ")
            self.group = None
        ic = self.interchange
        count, ref = unz.component(1), unz.component(2)
        if ic.groups:
            self._check_count("UNZ", count, len(ic.groups), "functional groups")
        else:
            self._check_count("UNZ", count, len(ic.messages), "messages")
        if ref != ic.control_ref:
            self.issue(Code.REFERENCES_DO_NOT_MATCH, "UNZ", f"UNZ reference {ref!r} does not match UNB reference {ic.control_ref!r}")
        if not ic.messages and not ic.groups:
            self.issue(Code.LOWER_LEVEL_EMPTY, "UNZ", "interchange holds no message")

    def _check_count(self, tag: str, count: str, actual: int, what: str) -> None:
        if not count:
            self.issue(Code.MISSING, tag, "control count missing")
        elif not count.isdigit():
            self.issue(Code.INVALID_TYPE_OF_CHARACTERS, tag, f"control count {count!r} is not numeric")
        elif int(count) != actual:
            self.issue(Code.CONTROL_COUNT_DOES_NOT_MATCH, tag, f"{tag} says {int(count)}, received {actual} {what}")

    def finish(self) -> None:
        if self.interchange.complete:
            return
        where = self.position + 1
        if self.message is not None:
            self.issue(Code.MISSING, "UNT", f"UNT missing: interchange ends inside message {self.message.ref!r}", where)
            self.message = None
        if self.group is not None:
            self.issue(Code.MISSING, "UNE", f"UNE missing: interchange ends inside group {self.group.ref!r}", where)
            self.group = None
        self.issue(Code.MISSING, "UNZ", "UNZ missing: interchange not closed", where)


CONTROL_CHARACTERS = re.compile("[\x00-\x1f\x7f]")  # C0 controls and DEL: never data in any charset


@functools.lru_cache(maxsize=32)
def _control_pattern(separators: Separators) -> re.Pattern[str]:
    """C0 controls and DEL, except those the interchange uses as separators (level B uses IS1–IS4)."""
    controls = (chr(c) for c in [*range(0x20), 0x7F])
    return re.compile("[" + "".join(re.escape(c) for c in controls if c not in separators.service_characters) + "]")


def _parse_interchange(data: bytes, pos: int) -> tuple[Interchange, int]:
    return _Reader(data, pos).run()


def _odd_release_run(data: bytes, cut: int, floor: int, release: int) -> bool:
    run = 0
    index = cut - 1
    while index >= floor and data[index] == release:
        run += 1
        index -= 1
    return run % 2 == 1


def _parse_datetime(date: str, time: str) -> datetime | None:
    fmt = {6: "%y%m%d", 8: "%Y%m%d"}.get(len(date))
    if fmt is None or len(time) != 4:
        return None
    try:
        return datetime.strptime(date + time, fmt + "%H%M")
    except ValueError:
        return None


def split_segment(text: str, separators: Separators) -> tuple[str, tuple[Element, ...]]:
    """Split one segment's text (terminator already removed) into tag and elements, undoing releases."""
    release = separators.release
    if release is None or release not in text:
        parts = text.split(separators.element)
        component = separators.component
        tag = parts[0].split(component, 1)[0]
        return tag, tuple(tuple(p.split(component)) if component in p else p for p in parts[1:])
    pieces, unrelease = _release_patterns(separators)
    elements: list[list[str]] = [[]]
    element_separator = separators.element
    for match in pieces.finditer(text):
        value, delimiter = match.group(1), match.group(2)
        elements[-1].append(unrelease.sub(r"\1", value) if release in value else value)
        if delimiter == element_separator:
            elements.append([])
        elif not delimiter:
            break
    tag = elements[0][0]
    return tag, tuple(e[0] if len(e) == 1 else tuple(e) for e in elements[1:])


@functools.lru_cache(maxsize=32)
def _release_patterns(separators: Separators) -> tuple[re.Pattern[str], re.Pattern[str]]:
    """(value up to the next unreleased separator, released character) for the slow path of split_segment."""
    release, element, component = (re.escape(c) for c in (separators.release or "", separators.element, separators.component))
    pieces = re.compile(f"((?:[^{release}{element}{component}]|{release}.?)*)({element}|{component}|\\Z)", re.S)
    return pieces, re.compile(f"{release}(.?)", re.S)


def _flatten(elements: tuple[Element, ...], separators: Separators) -> list[str]:
    return [e if isinstance(e, str) else separators.component.join(e) for e in elements]


# --------------------------------------------------------------------------- writing

SegmentSpec = tuple[str, Sequence[Element | Sequence[str]]]
MessageSpec = tuple[str, str, str, str, str, Sequence[SegmentSpec]]
Party = str | tuple[str, str]


def party(identifier: str, qualifier: str) -> tuple[str, ...]:
    """An interchange party (S002/S003, UNG 0040/0044) as its composite: the id, and its qualifier if any."""
    return (identifier, qualifier) if qualifier else (identifier,)


def build_interchange(
    *,
    sender: Party,
    recipient: Party,
    control_ref: str,
    syntax_id: str,
    messages: Sequence[MessageSpec],
    una: bool,
    syntax_version: str = "3",
    prepared_at: datetime | None = None,
    application_ref: str = "",
    test: bool = False,
    separators: Separators = DEFAULT_SEPARATORS,
    line_breaks: bool = False,
) -> bytes:
    """Write one interchange: messages are (type, version, release, agency, ref, body segments).

    Body segments are (tag, elements) without UNH/UNT; an element is a string or a sequence
    of component strings. Raises UnencodableCharacter when a value cannot be carried by
    `syntax_id`, ValueError for an unknown syntax identifier or malformed tag.
    """
    if syntax_id not in CHARSETS:
        raise ValueError(f"syntax identifier {syntax_id!r} not supported for writing")
    encoding = CHARSETS[syntax_id]
    repertoire = REPERTOIRES.get(syntax_id)
    escaped = set(separators.service_characters)
    if syntax_version == "4" and separators.repetition != " ":
        escaped.add(separators.repetition)
    if separators.release is None:
        escaper = None
    else:
        escape_re = re.compile("[" + "".join(re.escape(c) for c in sorted(escaped)) + "]")
        release = separators.release
        escaper = lambda value: escape_re.sub(lambda m: release + m.group(), value)  # noqa: E731
    prepared_at = prepared_at or datetime.now()
    date = prepared_at.strftime("%Y%m%d" if syntax_version == "4" else "%y%m%d")

    out: list[str] = []

    def write(tag: str, elements: Sequence[Element | Sequence[str]]) -> None:
        if not _TAG.match(tag):
            raise ValueError(f"segment tag {tag!r} is not three upper-case letters or digits")
        parts = [tag]
        for element in elements:
            components = [element] if isinstance(element, str) else list(element)
            for value in components:
                if not isinstance(value, str):
                    raise TypeError(f"{tag}: component {value!r} is not a string")
                _check_encodable(value, tag, syntax_id, encoding, repertoire)
                if escaper is None and any(c in value for c in escaped):
                    raise UnencodableCharacter(f"{tag}: {value!r} holds a service character and there is no release character")
            parts.append(separators.component.join(escaper(v) if escaper else v for v in components))
        out.append(separators.element.join(parts) + separators.terminator + ("\r\n" if line_breaks else ""))

    def party(value: Party) -> tuple[str, ...]:
        return (value,) if isinstance(value, str) else tuple(value)

    unb: list[Element | Sequence[str]] = [(syntax_id, syntax_version), party(sender), party(recipient), (date, prepared_at.strftime("%H%M")), control_ref]
    if application_ref or test:
        unb += ["", application_ref]
    if test:
        unb += ["", "", "", "1"]
    write("UNB", unb)
    for msg_type, version, release_no, agency, ref, body in messages:
        write("UNH", [ref, (msg_type, version, release_no, agency)])
        for tag, elements in body:
            write(tag, elements)
        write("UNT", [str(len(body) + 2), ref])
    write("UNZ", [str(len(messages)), control_ref])
    text = (separators.una() + ("\r\n" if line_breaks else "") if una else "") + "".join(out)
    return text.encode(encoding)


def _check_encodable(value: str, tag: str, syntax_id: str, encoding: str, repertoire: frozenset[str] | None) -> None:
    control = CONTROL_CHARACTERS.search(value)
    if control:
        raise UnencodableCharacter(f"{tag}: control character U+{ord(control.group()):04X} in {value!r} cannot be sent as data")
    if repertoire is not None:
        bad = next((c for c in value if c not in repertoire), None)
        if bad is not None:
            raise UnencodableCharacter(f"{tag}: character {bad!r} in {value!r} is outside the {syntax_id} repertoire")
        return
    try:
        value.encode(encoding)
    except UnicodeEncodeError as exc:
        raise UnencodableCharacter(f"{tag}: character {value[exc.start]!r} in {value!r} cannot be written as {syntax_id} ({encoding})") from None
