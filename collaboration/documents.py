"""The canonical documents from the ERP (purchase orders, receipts, invoice statuses): parsing,
validation and normal form.

The ERP API, the batch files and the Tryton connector all parse through `parse_*`, so a document
is judged the same whichever way it arrives. Field names are the contract in DESIGN.md. Parsing
uses pydantic: the ERP sends orders in bulk, and its validation core is an order of magnitude
faster than DRF serializers while keeping the schema (also shown in the OpenAPI document).
"""
from __future__ import annotations

import hashlib
import json
import re
from collections import defaultdict
from datetime import date, datetime, timedelta, timezone
from decimal import Decimal
from functools import cached_property
from typing import Annotated, Any, Literal, TypeVar

from django.utils.translation import gettext as _, gettext_lazy
from pydantic import (
    AfterValidator,
    BaseModel,
    ConfigDict,
    Field,
    ValidationError,
    WithJsonSchema,
    field_validator,
    model_validator,
)

from collaboration.errors import InvalidDocument, in_sentence


DocumentT = TypeVar("DocumentT", bound=BaseModel)


def _iso_date(value: str) -> date:
    try:
        return date.fromisoformat(value)
    except ValueError:
        raise ValueError(_("Use a valid date as YYYY-MM-DD.")) from None


IsoDate = Annotated[str, Field(pattern=r"^\d{4}-\d{2}-\d{2}$", json_schema_extra={"format": "date"}), AfterValidator(_iso_date)]
OptionalIsoDate = Annotated[
    str,
    Field(pattern=r"^(\d{4}-\d{2}-\d{2})?$", description="YYYY-MM-DD, or empty."),
    AfterValidator(lambda value: _iso_date(value) if value else None),
]
Code = Annotated[str, Field(min_length=1, max_length=35)]


class PurchaseOrderLineDocument(BaseModel):
    model_config = ConfigDict(frozen=True, str_strip_whitespace=True)

    line: int = Field(ge=1, le=999999, description="Line number, unique within the order.")
    item: Code
    description: str = Field(default="", max_length=300)
    quantity: Decimal = Field(gt=0, max_digits=18, decimal_places=4, description="Decimal string, e.g. \"400\".")
    uom: str = Field(min_length=1, max_length=10)
    unit_price: Decimal = Field(ge=0, max_digits=18, decimal_places=6)
    requested_date: IsoDate


class PurchaseOrderDocument(BaseModel):
    """A purchase order revision as the ERP sends it."""

    model_config = ConfigDict(frozen=True, str_strip_whitespace=True)

    number: Code
    revision: int = Field(ge=1, le=2_147_483_647)
    supplier: Code = Field(description="The supplier's code.")
    currency: str = Field(pattern=r"^[A-Z]{3}$", description="ISO 4217 code, e.g. EUR.")
    order_date: IsoDate
    ship_to: Code
    buyer: str = Field(default="", max_length=35, description="The buyer or purchasing group responsible, e.g. \"P-12\".")
    lines: tuple[PurchaseOrderLineDocument, ...] = Field(min_length=1)

    @field_validator("lines")
    @classmethod
    def _unique_line_numbers(cls, lines: tuple[PurchaseOrderLineDocument, ...]):
        numbers = [line.line for line in lines]
        repeated = sorted({n for n in numbers if numbers.count(n) > 1})
        if repeated:
            raise ValueError(_("Line numbers must be unique; repeated: %(repeated)s.") % {"repeated": repeated})
        return lines

    @cached_property
    def canonical(self) -> dict[str, Any]:
        """The normal form: decimals without trailing zeros, dates ISO, lines by number."""
        return {
            "number": self.number,
            "revision": self.revision,
            "supplier": self.supplier,
            "currency": self.currency,
            "order_date": self.order_date.isoformat(),
            "ship_to": self.ship_to,
            # Only when given, so documents from before the field existed keep their hash.
            **({"buyer": self.buyer} if self.buyer else {}),
            "lines": [
                {
                    "line": line.line,
                    "item": line.item,
                    "description": line.description,
                    "quantity": decimal_text(line.quantity),
                    "uom": line.uom,
                    "unit_price": decimal_text(line.unit_price),
                    "requested_date": line.requested_date.isoformat(),
                }
                for line in sorted(self.lines, key=lambda line: line.line)
            ],
        }

    @cached_property
    def content_hash(self) -> str:
        return canonical_hash(self.canonical)


class ReceiptLineDocument(BaseModel):
    model_config = ConfigDict(frozen=True, str_strip_whitespace=True)

    line: int = Field(ge=1, le=999999, description="The purchase order line number.")
    quantity: Decimal = Field(max_digits=18, decimal_places=4, description="Received; negative for a return or reversal.")
    sscc: str = Field(default="", pattern=r"^(\d{18})?$", description="The package's SSCC, if it was scanned.")
    lot: str = Field(default="", max_length=35)
    item: str = Field(default="", max_length=35, description="The item booked, if the ERP says; another than ordered is flagged.")

    @field_validator("quantity")
    @classmethod
    def _not_zero(cls, quantity: Decimal) -> Decimal:
        if quantity == 0:
            raise ValueError(_("A received quantity cannot be zero."))
        return quantity


class ReceiptDocument(BaseModel):
    """A goods receipt as the ERP booked it; the reference identifies it for good."""

    model_config = ConfigDict(frozen=True, str_strip_whitespace=True)

    reference: str = Field(min_length=1, max_length=60, description="The ERP's receipt document number.")
    purchase_order: Code
    received_on: IsoDate
    lines: tuple[ReceiptLineDocument, ...] = Field(min_length=1)

    @cached_property
    def canonical(self) -> dict[str, Any]:
        return {
            "reference": self.reference,
            "purchase_order": self.purchase_order,
            "received_on": self.received_on.isoformat(),
            "lines": [
                # "item" only when given, so receipts recorded before it existed keep their hash.
                {"line": line.line, "quantity": decimal_text(line.quantity), "sscc": line.sscc, "lot": line.lot}
                | ({"item": line.item} if line.item else {})
                for line in self.lines
            ],
        }

    @cached_property
    def content_hash(self) -> str:
        return canonical_hash(self.canonical)


class InvoiceStatusDocument(BaseModel):
    """The ERP's status of one supplier invoice; `version` grows with every change."""

    model_config = ConfigDict(frozen=True, str_strip_whitespace=True)

    supplier: Code = Field(description="The supplier's code.")
    invoice_number: Code
    version: int = Field(ge=1, le=2_147_483_647)
    purchase_order: str = Field(default="", max_length=35)
    status: Literal["received", "approved", "blocked", "paid"]
    reason: str = Field(default="", max_length=300, description="Why it is blocked; required then.")
    paid_on: OptionalIsoDate = Field(default="", validate_default=True)
    payment_reference: str = Field(default="", max_length=60)

    @model_validator(mode="after")
    def _status_fields(self) -> InvoiceStatusDocument:
        if self.status == "blocked" and not self.reason:
            raise ValueError(_("A blocked invoice needs a reason."))
        if self.status == "paid" and (self.paid_on is None or not self.payment_reference):
            raise ValueError(_("A paid invoice needs paid_on and payment_reference."))
        return self

    @cached_property
    def canonical(self) -> dict[str, Any]:
        return {**self.model_dump(exclude={"paid_on"}), "paid_on": self.paid_on.isoformat() if self.paid_on else None}

    @cached_property
    def content_hash(self) -> str:
        return canonical_hash(self.canonical)


class ForecastBucketDocument(BaseModel):
    model_config = ConfigDict(frozen=True, str_strip_whitespace=True)

    start: IsoDate = Field(description="First day of the period; a month starts on its 1st.")
    period: Literal["week", "month"]
    quantity: Decimal = Field(max_digits=18, decimal_places=4, description="Demand in the period, a decimal string.")
    zone: Literal["firm", "planned"] = Field(description="firm: the near horizon the buyer will order; planned: an outlook.")

    @field_validator("quantity")
    @classmethod
    def _not_negative(cls, quantity: Decimal) -> Decimal:
        if quantity < 0:
            raise ValueError(_("A forecast quantity cannot be negative."))
        return quantity

    @model_validator(mode="after")
    def _month_on_the_first(self) -> ForecastBucketDocument:
        if self.period == "month" and self.start.day != 1:
            raise ValueError(_("A monthly bucket starts on the 1st of its month."))
        return self

    @property
    def end(self) -> date:
        if self.period == "week":
            return self.start + timedelta(days=6)
        next_month = date(self.start.year + self.start.month // 12, self.start.month % 12 + 1, 1)
        return next_month - timedelta(days=1)


class ForecastDocument(BaseModel):
    """One version of the planning system's forecast for an item at a ship-to: buckets in date order,
    the firm zone first, then the planned one."""

    model_config = ConfigDict(frozen=True, str_strip_whitespace=True)

    supplier: Code = Field(description="The supplier's code.")
    item: Code
    ship_to: Code
    version: int = Field(ge=1, le=2_147_483_647, description="Grows with every publication; older versions are refused.")
    description: str = Field(default="", max_length=300)
    uom: str = Field(min_length=1, max_length=10)
    published_on: OptionalIsoDate = Field(default="", validate_default=True)
    buckets: tuple[ForecastBucketDocument, ...] = Field(min_length=1, max_length=520)

    @field_validator("buckets")
    @classmethod
    def _in_order(cls, buckets: tuple[ForecastBucketDocument, ...]):
        for before, after in zip(buckets, buckets[1:]):
            if after.start <= before.start:
                raise ValueError(_("Buckets go backwards: %(after)s comes after %(before)s.")
                                 % {"after": after.start.isoformat(), "before": before.start.isoformat()})
            if after.start <= before.end:
                raise ValueError(_("Buckets overlap: %(after)s starts before the bucket of %(before)s ends (%(end)s).")
                                 % {"after": after.start.isoformat(), "before": before.start.isoformat(),
                                    "end": before.end.isoformat()})
            if before.zone == "planned" and after.zone == "firm":
                raise ValueError(_("The firm zone comes first: the firm bucket %(after)s follows a planned one.")
                                 % {"after": after.start.isoformat()})
        return buckets

    @cached_property
    def canonical(self) -> dict[str, Any]:
        return {
            "supplier": self.supplier, "item": self.item, "ship_to": self.ship_to, "version": self.version,
            "description": self.description, "uom": self.uom,
            "published_on": self.published_on.isoformat() if self.published_on else None,
            "buckets": [{"start": b.start.isoformat(), "period": b.period, "quantity": decimal_text(b.quantity), "zone": b.zone}
                        for b in self.buckets],
        }

    @cached_property
    def content_hash(self) -> str:
        return canonical_hash(self.canonical)


Quantity = Annotated[Decimal, Field(max_digits=18, decimal_places=4, description="A decimal string, not negative.")]


def _not_negative(value: Decimal | None) -> Decimal | None:
    if value is not None and value < 0:
        raise ValueError(_("A stock quantity cannot be negative."))
    return value


StockQuantity = Annotated[Quantity, AfterValidator(_not_negative)]


class InventoryPositionDocument(BaseModel):
    """The ERP's count of one supplier's item at one site."""

    model_config = ConfigDict(frozen=True, str_strip_whitespace=True)

    supplier: Code = Field(description="The supplier's code.")
    item: Code
    site: Code = Field(description="The plant or warehouse (a ship-to).")
    uom: str = Field(min_length=1, max_length=10)
    as_of: datetime = Field(description="When it was counted (ISO 8601 with a time zone); an older count is refused.")
    on_hand: StockQuantity
    in_transit: StockQuantity = Decimal(0)
    consignment: StockQuantity = Field(default=Decimal(0), description="Consignment or vendor-managed stock at the site.")
    min_level: StockQuantity = Decimal(0)
    max_level: Annotated[StockQuantity | None, WithJsonSchema(
        {"type": "string", "format": "decimal", "nullable": True, "description": "A decimal string, or null for no maximum."}
    )] = None

    @field_validator("as_of")
    @classmethod
    def _aware(cls, as_of: datetime) -> datetime:
        if as_of.tzinfo is None:
            raise ValueError(_("Give the time zone, e.g. 2026-11-23T06:00:00Z."))
        return as_of

    @model_validator(mode="after")
    def _levels(self) -> InventoryPositionDocument:
        if self.max_level is not None and self.max_level < self.min_level:
            raise ValueError(_("The maximum level cannot be below the minimum level."))
        return self

    @cached_property
    def canonical(self) -> dict[str, Any]:
        return {
            "supplier": self.supplier, "item": self.item, "site": self.site, "uom": self.uom,
            "as_of": self.as_of.astimezone(timezone.utc).isoformat(),
            **{name: decimal_text(getattr(self, name)) for name in ("on_hand", "in_transit", "consignment", "min_level")},
            "max_level": decimal_text(self.max_level) if self.max_level is not None else None,
        }

    @cached_property
    def content_hash(self) -> str:
        return canonical_hash(self.canonical)


class InvoiceLineDocument(BaseModel):
    model_config = ConfigDict(frozen=True, str_strip_whitespace=True)

    purchase_order: Code
    line: int = Field(ge=1, le=999999, description="The purchase order line invoiced.")
    quantity: Decimal = Field(gt=0, max_digits=18, decimal_places=4)
    unit_price: Decimal = Field(ge=0, max_digits=18, decimal_places=6)
    reason: str = Field(default="", max_length=300,
                        description="Why the price or quantity differs from the order or the receipt; required then.")


class InvoiceDocument(BaseModel):
    """A supplier's invoice: lines against its order lines, optionally for one shipment."""

    model_config = ConfigDict(frozen=True, str_strip_whitespace=True)

    number: Code = Field(description="The supplier's invoice number, unique per supplier.")
    invoice_date: IsoDate
    currency: str = Field(pattern=r"^[A-Z]{3}$", description="ISO 4217 code; the orders' currency.")
    tax_rate: Decimal = Field(default=Decimal(0), ge=0, le=100, max_digits=5, decimal_places=2,
                              description="VAT in percent of the net amount.")
    shipment: str = Field(default="", max_length=35, description="The shipment notice invoiced, if the invoice is for one.")
    lines: tuple[InvoiceLineDocument, ...] = Field(min_length=1, max_length=2000)

    @field_validator("lines")
    @classmethod
    def _each_order_line_once(cls, lines: tuple[InvoiceLineDocument, ...]):
        keys = [(line.purchase_order, line.line) for line in lines]
        repeated = sorted({f"{po}/{line}" for po, line in keys if keys.count((po, line)) > 1})
        if repeated:
            raise ValueError(_("Invoice each order line once; repeated: %(repeated)s.") % {"repeated": ", ".join(repeated)})
        return lines

    @cached_property
    def canonical(self) -> dict[str, Any]:
        return {
            "number": self.number, "invoice_date": self.invoice_date.isoformat(), "currency": self.currency,
            "tax_rate": decimal_text(self.tax_rate), "shipment": self.shipment,
            "lines": [{"purchase_order": line.purchase_order, "line": line.line, "quantity": decimal_text(line.quantity),
                       "unit_price": decimal_text(line.unit_price), "reason": line.reason} for line in self.lines],
        }

    @cached_property
    def content_hash(self) -> str:
        return canonical_hash(self.canonical)


# The whole-shipment rules' messages: the shipment spreadsheet recognises them (in any language) to
# put each on the row of the package or column it is about.
EXPECTED_ARRIVAL_BEFORE_DESPATCH = gettext_lazy("The expected arrival cannot be before the despatch date.")
PACKAGE_SITS_IN_UNKNOWN = gettext_lazy("Package %(reference)s sits in %(parent)s, which is not in the shipment.")
PACKAGE_NESTED_IN_ITSELF = gettext_lazy("Package %(reference)s is nested in itself.")
PACKAGE_HOLDS_UNKNOWN_LINE = gettext_lazy("Package %(reference)s holds line %(line)s, which is not in the shipment.")
PACKING_DIFFERENCE = gettext_lazy("%(shipped)s shipped but %(packed)s packed.")


def message_values(template, message: str) -> dict[str, str] | None:
    """The placeholder values if `message` is `template` (lazy: in the active language) filled in, else None."""
    pattern, names = "", []
    for index, part in enumerate(re.split(r"%\((\w+)\)s", str(template))):
        if index % 2:
            pattern += f"(?P<{part}>.+?)"
            names.append(part)
        else:
            pattern += re.escape(part.replace("%%", "%"))
    match = re.fullmatch(pattern, message, flags=re.DOTALL)
    return match.groupdict() if match else None


class ShipmentLineDocument(BaseModel):
    model_config = ConfigDict(frozen=True, str_strip_whitespace=True)

    line: int = Field(ge=1, le=999999, description="Line number within the shipment.")
    purchase_order: Code
    order_line: int = Field(ge=1, le=999999, description="The purchase order line shipped.")
    quantity: Decimal = Field(gt=0, max_digits=18, decimal_places=4)
    lot: str = Field(default="", max_length=35)
    serial_numbers: tuple[Annotated[str, Field(min_length=1, max_length=60)], ...] = ()


class PackageContentDocument(BaseModel):
    model_config = ConfigDict(frozen=True)

    line: int = Field(ge=1, le=999999, description="The shipment line packed.")
    quantity: Decimal = Field(gt=0, max_digits=18, decimal_places=4)


class PackageDocument(BaseModel):
    model_config = ConfigDict(frozen=True, str_strip_whitespace=True)

    reference: str = Field(min_length=1, max_length=35, description="Its name within the shipment, e.g. P1.")
    sscc: str = Field(default="", max_length=24, description="Empty: the portal allocates one.")
    kind: Literal["pallet", "carton", "crate", "other"]
    parent: str = Field(default="", max_length=35, description="The reference of the package it sits in.")
    contents: tuple[PackageContentDocument, ...] = ()


class ShipmentDocument(BaseModel):
    """An ASN as a supplier sends it (portal, API, spreadsheet, DESADV)."""

    model_config = ConfigDict(frozen=True, str_strip_whitespace=True)

    number: Code
    ship_to: Code
    despatch_date: IsoDate
    expected_arrival: IsoDate
    carrier: str = Field(default="", max_length=100)
    tracking_number: str = Field(default="", max_length=100)
    lines: tuple[ShipmentLineDocument, ...] = Field(min_length=1)
    packages: tuple[PackageDocument, ...] = ()

    @model_validator(mode="after")
    def _consistent(self) -> ShipmentDocument:
        if self.expected_arrival < self.despatch_date:
            raise ValueError(str(EXPECTED_ARRIVAL_BEFORE_DESPATCH))
        numbers = [line.line for line in self.lines]
        if len(set(numbers)) != len(numbers):
            raise ValueError(_("Shipment line numbers must be unique."))
        references = [package.reference for package in self.packages]
        if len(set(references)) != len(references):
            raise ValueError(_("Package references must be unique within the shipment."))
        parents = {package.reference: package.parent for package in self.packages}
        for reference, parent in parents.items():
            if parent and parent not in parents:
                raise ValueError(str(PACKAGE_SITS_IN_UNKNOWN) % {"reference": reference, "parent": parent})
            seen = {reference}
            while parent:
                if parent in seen:
                    raise ValueError(str(PACKAGE_NESTED_IN_ITSELF) % {"reference": reference})
                seen.add(parent)
                parent = parents.get(parent, "")
        for package in self.packages:
            for content in package.contents:
                if content.line not in numbers:
                    raise ValueError(str(PACKAGE_HOLDS_UNKNOWN_LINE) % {"reference": package.reference, "line": content.line})
        return self

    def packing_differences(self) -> dict[int, str]:
        """Lines (by position) whose packed quantity differs from the shipped one, when anything is
        packed. A draft may be packed bit by bit; a submitted shipment must add up."""
        if not self.packages:
            return {}
        packed: dict[int, Decimal] = defaultdict(Decimal)
        for package in self.packages:
            for content in package.contents:
                packed[content.line] += content.quantity
        return {
            position: str(PACKING_DIFFERENCE) % {"shipped": decimal_text(line.quantity), "packed": decimal_text(packed[line.line])}
            for position, line in enumerate(self.lines)
            if packed[line.line] != line.quantity
        }


INCIDENT_STEPS = ("containment", "root_cause", "corrective_action", "verification")
INCIDENT_REFERENCE = r"^[A-Za-z0-9][A-Za-z0-9._-]*$"


def _step_in_sentence(kind: str) -> str:
    """'root cause' in an English sentence, the step's label as it is in German."""
    from collaboration.models import IncidentStep  # imported late: this module stays independent of the models

    return in_sentence(IncidentStep.Kind(kind).label)


class IncidentDueDatesDocument(BaseModel):
    """When each step of the supplier's answer is due; a step left out gets the portal's default
    (QUALITY_STEP_DAYS after opening, never before the step ahead of it)."""

    model_config = ConfigDict(frozen=True)

    containment: OptionalIsoDate = Field(default="", validate_default=True)
    root_cause: OptionalIsoDate = Field(default="", validate_default=True)
    corrective_action: OptionalIsoDate = Field(default="", validate_default=True)
    verification: OptionalIsoDate = Field(default="", validate_default=True)

    @model_validator(mode="after")
    def _in_step_order(self) -> IncidentDueDatesDocument:
        given = [(kind, getattr(self, kind)) for kind in INCIDENT_STEPS if getattr(self, kind) is not None]
        for (earlier, earlier_date), (later, later_date) in zip(given, given[1:]):
            if later_date < earlier_date:
                raise ValueError(_("The %(later)s cannot be due before the %(earlier)s.")
                                 % {"later": _step_in_sentence(later), "earlier": _step_in_sentence(earlier)})
        return self

    def given(self) -> dict[str, date]:
        return {kind: getattr(self, kind) for kind in INCIDENT_STEPS if getattr(self, kind) is not None}


class QualityIncidentDocument(BaseModel):
    """A non-conformance as the ERP (or a buyer in the admin) opens it: goods on hold at the plant,
    waiting for the supplier's answer and the buyer's release or scrap decision."""

    model_config = ConfigDict(frozen=True, str_strip_whitespace=True)

    reference: str = Field(min_length=1, max_length=35, pattern=INCIDENT_REFERENCE,
                           description="The incident number, e.g. NC-2026-0001: letters, digits, '.', '-', '_'.")
    supplier: Code = Field(description="The supplier's code.")
    purchase_order: str = Field(default="", max_length=35, description="The order the goods came on, if known.")
    item: Code
    lot: str = Field(default="", max_length=35)
    quantity_on_hold: Decimal = Field(ge=0, max_digits=18, decimal_places=4, description="Decimal string, e.g. \"120\".")
    uom: str = Field(min_length=1, max_length=10)
    description: str = Field(min_length=1, max_length=5000, description="What is wrong with the goods.")
    due_dates: IncidentDueDatesDocument = Field(default_factory=IncidentDueDatesDocument)

    @cached_property
    def canonical(self) -> dict[str, Any]:
        return {
            "reference": self.reference,
            "supplier": self.supplier,
            "purchase_order": self.purchase_order,
            "item": self.item,
            "lot": self.lot,
            "quantity_on_hold": decimal_text(self.quantity_on_hold),
            "uom": self.uom,
            "description": self.description,
            "due_dates": {kind: due.isoformat() for kind, due in self.due_dates.given().items()},
        }

    @cached_property
    def content_hash(self) -> str:
        return canonical_hash(self.canonical)


def canonical_hash(canonical: dict[str, Any]) -> str:
    text = json.dumps(canonical, sort_keys=True, separators=(",", ":"))
    return hashlib.sha256(text.encode()).hexdigest()


def decimal_text(value: Decimal) -> str:
    """'400.0000' -> '400', '3.850000' -> '3.85': one spelling per amount."""
    text = format(value, "f")
    return text.rstrip("0").rstrip(".") if "." in text else text


def json_value(value: Any) -> Any:
    """A decimal or date as it appears in canonical JSON; other values unchanged."""
    if isinstance(value, Decimal):
        return decimal_text(value)
    if isinstance(value, date):
        return value.isoformat()
    return value


def validation_details(error: ValidationError) -> dict[str, Any]:
    """pydantic errors as {field: [messages]}, nested for lists (positions as strings)."""
    errors = error.errors(include_url=False)
    # A list whose items failed also reports itself as too short: only the items' errors say why.
    nested = {item["loc"][:depth] for item in errors for depth in range(len(item["loc"]))}
    details: dict[str, Any] = {}
    for item in errors:
        if item["loc"] in nested:
            continue
        location = [str(part) for part in item["loc"]] or ["non_field_errors"]
        node = details
        for part in location[:-1]:
            node = node.setdefault(part, {})
        node.setdefault(location[-1], []).append(_message(item))
    return details


PATTERN_MESSAGES = {
    r"^\d{4}-\d{2}-\d{2}$": gettext_lazy("Use a valid date as YYYY-MM-DD."),
    r"^(\d{4}-\d{2}-\d{2})?$": gettext_lazy("Use a valid date as YYYY-MM-DD, or leave it empty."),
    r"^(\d{18})?$": gettext_lazy("An SSCC has 18 digits."),
    r"^[A-Z]{3}$": gettext_lazy("Use an ISO 4217 currency code such as EUR."),
    INCIDENT_REFERENCE: gettext_lazy("Use letters, digits, '.', '-' and '_' only, starting with a letter or digit."),
}


def _message(item: dict) -> str:
    """pydantic's message, in words for the cases its own wording speaks of internals."""
    if item["type"] == "string_pattern_mismatch" and item.get("ctx", {}).get("pattern") in PATTERN_MESSAGES:
        return str(PATTERN_MESSAGES[item["ctx"]["pattern"]])
    if item["type"] == "too_short" and item.get("ctx", {}).get("min_length") == 1 and item["loc"][-1:] == ("lines",):
        return _("Give at least one line.")
    if item["type"] == "string_too_short" and item["loc"] == ("description",):
        return _("Describe what is wrong with the goods.")
    return item["msg"].removeprefix("Value error, ")


def parse_purchase_order(data: Any, *, number: str | None = None) -> PurchaseOrderDocument:
    """Validate a canonical PO; `number` (from a URL) must agree with the body when both are given."""
    return parse_document(PurchaseOrderDocument, data, keys={"number": number}, label=_("purchase order"))


def parse_receipt(data: Any, *, reference: str | None = None) -> ReceiptDocument:
    return parse_document(ReceiptDocument, data, keys={"reference": reference}, label=_("receipt"))


def parse_invoice_status(data: Any, *, supplier: str | None = None, invoice_number: str | None = None) -> InvoiceStatusDocument:
    return parse_document(InvoiceStatusDocument, data, keys={"supplier": supplier, "invoice_number": invoice_number},
                          label=_("invoice status"))


def parse_forecast(data: Any, *, supplier: str | None = None, ship_to: str | None = None,
                   item: str | None = None) -> ForecastDocument:
    return parse_document(ForecastDocument, data, keys={"supplier": supplier, "ship_to": ship_to, "item": item},
                          label=_("forecast"))


def parse_inventory_position(data: Any, *, supplier: str | None = None, site: str | None = None,
                             item: str | None = None) -> InventoryPositionDocument:
    return parse_document(InventoryPositionDocument, data, keys={"supplier": supplier, "site": site, "item": item},
                          label=_("inventory position"))


def parse_invoice(data: Any, *, number: str | None = None) -> InvoiceDocument:
    return parse_document(InvoiceDocument, data, keys={"number": number}, label=_("invoice"))


def parse_shipment(data: Any, *, number: str | None = None) -> ShipmentDocument:
    return parse_document(ShipmentDocument, data, keys={"number": number}, label=_("shipment"))


def parse_quality_incident(data: Any, *, reference: str | None = None) -> QualityIncidentDocument:
    return parse_document(QualityIncidentDocument, data, keys={"reference": reference}, label=_("quality incident"))


def parse_document(model: type[DocumentT], data: Any, *, keys: dict[str, str | None], label: str) -> DocumentT:
    """Validate `data` as `model`; each key taken from a URL (not None) must agree with the body's
    field when both are given, and fills it when the body leaves it out."""
    if not isinstance(data, dict):
        raise InvalidDocument(_("A %(document)s must be a JSON object.") % {"document": label},
                              details={"non_field_errors": [_("Expected a JSON object.")]})
    data = {**data}
    for field, key in keys.items():
        if key is None:
            continue
        body_key = data.setdefault(field, key)
        if body_key != key:
            raise InvalidDocument(
                _("The %(field)s in the body differs from the one in the URL.") % {"field": field.replace("_", " ")},
                details={field: [_("Expected %(expected)r, got %(got)r.") % {"expected": key, "got": body_key}]},
            )
    try:
        return model.model_validate(data)
    except ValidationError as error:
        raise InvalidDocument(_("The %(document)s document is not valid.") % {"document": label},
                              details=validation_details(error)) from None
