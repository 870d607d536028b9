"""The canonical purchase order document (ERP -> portal): parsing, validation and normal form.

The ERP API and the file import both parse through `parse_purchase_order`, so a document is
judged the same whichever way it arrives. Field names are the contract in DESIGN.md. Parsing
uses pydantic: the ERP sends orders in bulk, and its validation core is an order of magnitude
faster than DRF serializers while keeping the schema (also shown in the OpenAPI document).
"""
from __future__ import annotations

import hashlib
import json
from datetime import date
from decimal import Decimal
from functools import cached_property
from typing import Annotated, Any

from pydantic import AfterValidator, BaseModel, ConfigDict, Field, ValidationError, field_validator

from collaboration.errors import InvalidDocument


def _iso_date(value: str) -> date:
    try:
        return date.fromisoformat(value)
    except ValueError:
        raise ValueError("Use a valid date as YYYY-MM-DD.") from None


IsoDate = Annotated[str, Field(pattern=r"^\d{4}-\d{2}-\d{2}$", json_schema_extra={"format": "date"}), AfterValidator(_iso_date)]
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
    revision: int = Field(ge=1)
    supplier: Code = Field(description="The supplier's code.")
    currency: str = Field(pattern=r"^[A-Z]{3}$", description="ISO 4217 code, e.g. EUR.")
    order_date: IsoDate
    ship_to: Code
    lines: tuple[PurchaseOrderLineDocument, ...] = Field(min_length=1)

    @field_validator("lines")
    @classmethod
    def _unique_line_numbers(cls, lines: tuple[PurchaseOrderLineDocument, ...]):
        numbers = [line.line for line in lines]
        repeated = sorted({n for n in numbers if numbers.count(n) > 1})
        if repeated:
            raise ValueError(f"Line numbers must be unique; repeated: {repeated}.")
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
        text = json.dumps(self.canonical, sort_keys=True, separators=(",", ":"))
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
        message = item["msg"].removeprefix("Value error, ")
        node.setdefault(location[-1], []).append(message)
    return details


def parse_purchase_order(data: Any, *, number: str | None = None) -> PurchaseOrderDocument:
    """Validate a canonical PO; `number` (from a URL) must agree with the body when both are given."""
    if isinstance(data, dict) and number is not None:
        data = {**data}
        body_number = data.setdefault("number", number)
        if body_number != number:
            raise InvalidDocument(
                "The order number in the body differs from the one in the URL.",
                details={"number": [f"Expected {number!r}, got {body_number!r}."]},
            )
    if not isinstance(data, dict):
        raise InvalidDocument(
            "A purchase order must be a JSON object.", details={"non_field_errors": ["Expected a JSON object."]}
        )
    try:
        return PurchaseOrderDocument.model_validate(data)
    except ValidationError as error:
        raise InvalidDocument("The purchase order document is not valid.", details=validation_details(error)) from None
