"""The canonical purchase order document (ERP -> portal): parsing, validation and normal form.

The ERP API and the file import both parse through `parse_purchase_order`, so a document is
judged the same whichever way it arrives. Field names are the contract in DESIGN.md.
"""
from __future__ import annotations

import hashlib
import json
from dataclasses import asdict, dataclass
from datetime import date
from decimal import Decimal
from typing import Any

from rest_framework import serializers

from collaboration.errors import InvalidDocument


class PurchaseOrderLineSerializer(serializers.Serializer):
    line = serializers.IntegerField(min_value=1, max_value=999999)
    item = serializers.CharField(max_length=35)
    description = serializers.CharField(max_length=300, allow_blank=True, required=False, default="")
    quantity = serializers.DecimalField(max_digits=18, decimal_places=4, min_value=Decimal("0.0001"))
    uom = serializers.CharField(max_length=10)
    unit_price = serializers.DecimalField(max_digits=18, decimal_places=6, min_value=Decimal("0"))
    requested_date = serializers.DateField()


class PurchaseOrderSerializer(serializers.Serializer):
    number = serializers.CharField(max_length=35)
    revision = serializers.IntegerField(min_value=1)
    supplier = serializers.CharField(max_length=35)
    currency = serializers.RegexField(r"^[A-Z]{3}$", error_messages={"invalid": "Use a three-letter ISO 4217 code."})
    order_date = serializers.DateField()
    ship_to = serializers.CharField(max_length=35)
    lines = PurchaseOrderLineSerializer(many=True, allow_empty=False)

    def validate_lines(self, lines: list[dict]) -> list[dict]:
        numbers = [line["line"] for line in lines]
        duplicates = sorted({n for n in numbers if numbers.count(n) > 1})
        if duplicates:
            raise serializers.ValidationError(f"Line numbers must be unique; repeated: {duplicates}.")
        return lines


@dataclass(frozen=True)
class PurchaseOrderLineDocument:
    line: int
    item: str
    description: str
    quantity: Decimal
    uom: str
    unit_price: Decimal
    requested_date: date


@dataclass(frozen=True)
class PurchaseOrderDocument:
    number: str
    revision: int
    supplier: str
    currency: str
    order_date: date
    ship_to: str
    lines: tuple[PurchaseOrderLineDocument, ...]

    def as_json(self) -> dict[str, Any]:
        """The normal form: decimals without trailing zeros, dates ISO, lines by number."""
        data = asdict(self)
        data["lines"] = [_json_values(line) for line in sorted(data["lines"], key=lambda line: line["line"])]
        return _json_values(data)

    @property
    def content_hash(self) -> str:
        canonical = json.dumps(self.as_json(), sort_keys=True, separators=(",", ":"))
        return hashlib.sha256(canonical.encode()).hexdigest()


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


def _json_values(data: dict[str, Any]) -> dict[str, Any]:
    return {key: json_value(value) for key, value in data.items()}


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
    serializer = PurchaseOrderSerializer(data=data)
    if not serializer.is_valid():
        # Plain JSON (a list's errors keyed by position as a string), the same in every channel.
        details = json.loads(json.dumps(serializer.errors))
        raise InvalidDocument("The purchase order document is not valid.", details=details)
    values = serializer.validated_data
    return PurchaseOrderDocument(
        number=values["number"],
        revision=values["revision"],
        supplier=values["supplier"],
        currency=values["currency"],
        order_date=values["order_date"],
        ship_to=values["ship_to"],
        lines=tuple(PurchaseOrderLineDocument(**line) for line in values["lines"]),
    )
