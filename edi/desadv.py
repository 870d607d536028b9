"""DESADV (despatch advice) in: read into a ShipmentDocument and hand it to the shipment service.

The profile this portal reads (D.96A or D.01B; docs/edi.md has the full guide):

    BGM+351+<ASN number>+<9 original | 5 replacement | 1 cancellation>'
    DTM+11:<despatch date>:102'  DTM+132:<expected arrival>:102' (or 17; the despatch date if absent)
    RFF+ON:<order number>'                       default order of the lines
    NAD+ST+<ship-to code>'   TDT+12++++<carrier id>:::<carrier name>'   RFF+CN:<tracking number>'
    CPS+<id>+<parent id>'                        one per package (or a level without PAC)
      PAC+1++<PX pallet | CT/BX carton | CR crate | other code>'  PCI+33E'  GIN+BJ+<SSCC>'
      LIN+<n>++<item>:BP'  QTY+12:<quantity>'  RFF+ON:<order>:<order line>'
        GIN+BX+<lot>'  GIN+BN+<serial>+<serial>...'

One LIN per order line and lot in each package: the portal adds them up into one shipment line
and records what each package holds. A replacement corrects a submitted ASN, a cancellation
cancels it (through the same services as the portal and the API).
"""
from __future__ import annotations

from dataclasses import dataclass, field
from decimal import Decimal

from collaboration.actors import Actor
from collaboration.documents import ShipmentDocument, parse_shipment
from collaboration.errors import DomainError, InvalidDocument, NotFound
from collaboration.gs1 import InvalidNumber, sscc_validate
from collaboration.models import Shipment
from collaboration.services.shipments import shipment_cancel, shipment_submit
from edi.codec import Message, Segment
from edi.segments import ContentError, ContentProblem, date_of, decimal_of, domain_problems, integer_of, required, split_groups
from edi.syntax_errors import SyntaxErrorCode as Code

PACKAGE_KINDS = {"PX": "pallet", "201": "pallet", "CT": "carton", "BX": "carton", "CR": "crate"}
FUNCTIONS = {"9": "original", "5": "replacement", "1": "cancel"}


@dataclass
class _Line:
    purchase_order: str
    order_line: int
    lot: str
    quantity: Decimal = Decimal(0)
    serials: list[str] = field(default_factory=list)
    segment: Segment | None = None


@dataclass
class DespatchAdvice:
    number: str
    function: str
    document: ShipmentDocument | None
    bgm: Segment
    line_segments: dict[str, Segment]  # shipment line position -> its first LIN
    package_segments: dict[str, Segment]  # package position -> its CPS


def read_despatch_advice(message: Message) -> DespatchAdvice:
    bgm = required(message, "BGM")
    if bgm.component(1) != "351":
        raise ContentError.at(bgm, Code.VALUE_NOT_SUPPORTED_IN_POSITION, f"BGM: document {bgm.component(1)!r} is not a despatch advice (351).")
    number, function = bgm.component(2), bgm.component(3) or "9"
    if not number:
        raise ContentError.at(bgm, Code.MISSING, "BGM: the despatch advice number is missing.")
    if function not in FUNCTIONS:
        raise ContentError.at(bgm, Code.VALUE_NOT_SUPPORTED_IN_POSITION, f"BGM: message function {function!r} is not supported; use 9, 5 or 1.")
    if FUNCTIONS[function] == "cancel":
        return DespatchAdvice(number, "cancel", None, bgm, {}, {})
    problems: list[ContentProblem] = []
    head, levels = split_groups(message.body, "CPS")
    dates = {}
    for segment in head:
        if segment.tag == "DTM" and segment.component(1) in {"11", "132", "17"}:
            try:
                dates[segment.component(1)] = date_of(segment)
            except ContentError as error:
                problems += error.problems
    despatch = dates.get("11")
    if despatch is None and "11" not in {s.component(1) for s in head if s.tag == "DTM"}:
        problems.append(ContentProblem(Code.MISSING, bgm, "DTM+11: the despatch date is missing."))
    arrival = dates.get("132") or dates.get("17") or despatch
    default_order = next((s.component(1, 2) for s in head if s.tag == "RFF" and s.component(1) == "ON"), "")
    ship_to = next((s.component(2) for s in head if s.tag == "NAD" and s.component(1) == "ST"), "")
    if not ship_to:
        problems.append(ContentProblem(Code.MISSING, bgm, "NAD+ST: the ship-to location is missing."))
    tdt = next((s for s in head if s.tag == "TDT"), None)
    carrier = (tdt.component(5, 4) or tdt.component(5)) if tdt else ""
    tracking = next((s.component(1, 2) for s in head if s.tag == "RFF" and s.component(1) == "CN"), "")

    lines: dict[tuple[str, int, str], _Line] = {}
    packages: list[dict] = []
    package_segments: dict[str, Segment] = {}
    contents: dict[str, dict[tuple[str, int, str], Decimal]] = {}
    parent_of: dict[str, str] = {}
    cps_segments: dict[str, Segment] = {}
    ssccs: dict[str, Segment] = {}
    for level in levels:
        cps = level[0]
        cps_id, parent = cps.component(1), cps.component(2)
        if not cps_id or cps_id in parent_of:
            problems.append(ContentProblem(Code.INVALID_VALUE, cps, f"CPS: hierarchy id {cps_id!r} is missing or repeated."))
            continue
        parent_of[cps_id] = parent
        cps_segments[cps_id] = cps
        inner, items = split_groups(level[1:], "LIN")
        try:
            package = _package(cps_id, inner, ssccs)
        except ContentError as error:
            problems += error.problems
            continue
        if package is not None:
            package_segments[str(len(packages))] = cps
            packages.append(package)
        for item in items:
            try:
                key, quantity, serials = _item(item, default_order)
            except ContentError as error:
                problems += error.problems
                continue
            line = lines.setdefault(key, _Line(*key, segment=item[0]))
            line.quantity += quantity
            line.serials += serials
            if package is not None:
                held = contents.setdefault(cps_id, {})
                held[key] = held.get(key, Decimal(0)) + quantity
            elif items and parent:
                problems.append(ContentProblem(Code.NOT_SUPPORTED_IN_POSITION, item[0],
                                               f"LIN under CPS {cps_id}: goods need a package (PAC) at their level."))
    for cps_id, parent in parent_of.items():
        if parent and parent not in parent_of:
            problems.append(ContentProblem(Code.INVALID_VALUE, cps_segments[cps_id], f"CPS {cps_id}: parent {parent!r} is not in the message."))
    is_package = {package["reference"] for package in packages}
    for package in packages:
        # The parent is the nearest enclosing CPS that is a package; levels without PAC only group.
        ancestor, seen = parent_of.get(package["reference"], ""), set()
        while ancestor and ancestor not in is_package and ancestor not in seen:
            seen.add(ancestor)
            ancestor = parent_of.get(ancestor, "")
        package["parent"] = ancestor if ancestor in is_package else ""
    if problems:
        raise ContentError(*problems)
    numbered = {key: position + 1 for position, key in enumerate(lines)}
    for package in packages:
        package["contents"] = [{"line": numbered[key], "quantity": quantity}
                               for key, quantity in contents.get(package["reference"], {}).items()]
    data = {
        "number": number, "ship_to": ship_to, "despatch_date": despatch.isoformat(), "expected_arrival": arrival.isoformat(),
        "carrier": carrier, "tracking_number": tracking, "packages": packages,
        "lines": [{"line": numbered[key], "purchase_order": line.purchase_order, "order_line": line.order_line,
                   "quantity": line.quantity, "lot": line.lot, "serial_numbers": line.serials} for key, line in lines.items()],
    }
    try:
        document = parse_shipment(data)
    except InvalidDocument as error:
        details = "; ".join(f"{name}: {' '.join(map(str, texts)) if isinstance(texts, list) else texts}"
                            for name, texts in error.details.items())
        raise ContentError.at(bgm, Code.INVALID_VALUE, f"The despatch advice is not valid: {details}") from None
    return DespatchAdvice(number, FUNCTIONS[function], document, bgm,
                          {str(position): line.segment for position, line in enumerate(lines.values())}, package_segments)


def _package(cps_id: str, segments: list[Segment], ssccs: dict[str, Segment]) -> dict | None:
    pac = next((s for s in segments if s.tag == "PAC"), None)
    if pac is None:
        return None
    count = pac.component(1) or "1"
    if count != "1":
        raise ContentError.at(pac, Code.VALUE_NOT_SUPPORTED_IN_POSITION, f"PAC: {count} packages in one CPS; give each package its own CPS.")
    kind = PACKAGE_KINDS.get(pac.component(3), "other")
    sscc = ""
    for gin in (s for s in segments if s.tag == "GIN" and s.component(1) == "BJ"):
        value = gin.component(2)
        if sscc or gin.component(3):
            raise ContentError.at(gin, Code.TOO_MANY_REPETITIONS, "GIN+BJ: one SSCC per package.")
        try:
            sscc = sscc_validate(value)
        except InvalidNumber as error:
            raise ContentError.at(gin, Code.INVALID_VALUE, f"GIN+BJ {value}: {error}") from None
        if sscc in ssccs:
            raise ContentError.at(gin, Code.INVALID_VALUE, f"GIN+BJ: SSCC {sscc} is given for two packages.")
        ssccs[sscc] = gin
    return {"reference": cps_id, "sscc": sscc, "kind": kind}


def _item(segments: list[Segment], default_order: str) -> tuple[tuple[str, int, str], Decimal, list[str]]:
    lin = segments[0]
    quantity = None
    order, order_line = default_order, None
    lot, serials = "", []
    for segment in segments[1:]:
        if segment.tag == "QTY" and segment.component(1) == "12":
            quantity = decimal_of(segment, segment.component(1, 2), "despatched quantity")
            if quantity <= 0:
                raise ContentError.at(segment, Code.INVALID_VALUE, "QTY+12: the despatched quantity must be above zero.")
        elif segment.tag == "RFF" and segment.component(1) == "ON":
            order = segment.component(1, 2) or order
            if segment.component(1, 3):
                order_line = integer_of(segment, segment.component(1, 3), "order line number")
        elif segment.tag == "GIN" and segment.component(1) == "BX":
            lot = segment.component(2)
        elif segment.tag == "GIN" and segment.component(1) == "BN":
            serials += [segment.component(index) for index in range(2, len(segment.elements) + 1) if segment.component(index)]
    if quantity is None:
        raise ContentError.at(lin, Code.MISSING, f"LIN {lin.component(1)}: QTY+12 (despatched quantity) is missing.")
    if not order:
        raise ContentError.at(lin, Code.MISSING, f"LIN {lin.component(1)}: RFF+ON (the order) is missing.")
    if order_line is None:
        raise ContentError.at(lin, Code.MISSING, f"LIN {lin.component(1)}: the order line (RFF+ON:<order>:<line>) is missing.")
    return (order, order_line, lot), quantity, serials


def apply_despatch_advice(message: Message, *, actor: Actor, supplier_id: int) -> dict:
    advice = read_despatch_advice(message)
    sent = Shipment.objects.filter(supplier_id=supplier_id, number=advice.number).exclude(status=Shipment.Status.DRAFT).exists()
    if advice.function == "original" and sent:
        raise ContentError.at(advice.bgm, Code.INVALID_VALUE,
                              f"Despatch advice {advice.number} was already sent; send a replacement (BGM 1225 = 5) to correct it.")
    if advice.function == "replacement" and not sent:
        raise ContentError.at(advice.bgm, Code.INVALID_VALUE, f"There is no despatch advice {advice.number} to replace.")
    try:
        if advice.function == "cancel":
            shipment = shipment_cancel(number=advice.number, supplier_id=supplier_id, actor=actor)
        else:
            shipment = shipment_submit(document=advice.document, actor=actor)
    except NotFound as error:
        raise ContentError.at(advice.bgm, Code.INVALID_VALUE, str(error)) from None
    except DomainError as error:
        located = error.details.get("packages") if isinstance(error.details, dict) else None
        if located:
            raise domain_problems(error, default=advice.bgm, segments=advice.package_segments, key="packages") from None
        raise domain_problems(error, default=advice.bgm, segments=advice.line_segments) from None
    return {"shipment": shipment.number, "revision": shipment.revision, "status": shipment.status}
