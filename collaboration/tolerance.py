"""Tolerance policies: which one applies to a line, and whether a proposal stays inside it."""
from __future__ import annotations

from dataclasses import dataclass
from datetime import date
from decimal import Decimal

from django.db.models import Q

from collaboration.documents import decimal_text
from collaboration.models import PurchaseOrderLine, TolerancePolicy

HUNDRED = Decimal(100)
NO_TOLERANCE = TolerancePolicy()  # every limit zero: what applies when no default policy exists


class Policies:
    """The policies that can apply to one supplier's lines, loaded once per submission."""

    def __init__(self, *, supplier_id: int) -> None:
        self.by_scope = {
            (policy.supplier_id is not None, policy.item): policy
            for policy in TolerancePolicy.objects.filter(Q(supplier_id=supplier_id) | Q(supplier__isnull=True))
        }

    def for_item(self, item: str) -> TolerancePolicy:
        """Supplier and item, then item, then supplier, then the default policy."""
        for key in ((True, item), (False, item), (True, ""), (False, "")):
            if key in self.by_scope:
                return self.by_scope[key]
        return NO_TOLERANCE


@dataclass(frozen=True)
class Breach:
    field: str
    ordered: str
    proposed: str
    difference: str
    allowed: str

    def as_json(self) -> dict:
        return self.__dict__.copy()


def _pct(new: Decimal, old: Decimal) -> Decimal:
    return (new - old) / old * HUNDRED if old else (HUNDRED if new else Decimal(0))


def breaches(
    *, policy: TolerancePolicy, line: PurchaseOrderLine, quantity: Decimal, unit_price: Decimal, dates: list[date]
) -> list[Breach]:
    """What in a proposal lies outside the policy; empty means it may be accepted without a buyer."""
    found: list[Breach] = []
    quantity_pct = _pct(quantity, line.quantity)
    if not -policy.quantity_under_pct <= quantity_pct <= policy.quantity_over_pct:
        found.append(Breach(
            "quantity", decimal_text(line.quantity), decimal_text(quantity), f"{quantity_pct:+.2f} %",
            f"-{policy.quantity_under_pct} % / +{policy.quantity_over_pct} %",
        ))
    for promised in dates:
        days = (promised - line.requested_date).days
        if not -policy.days_earlier <= days <= policy.days_later:
            found.append(Breach(
                "date", line.requested_date.isoformat(), promised.isoformat(), f"{days:+d} days",
                f"{policy.days_earlier} days earlier / {policy.days_later} days later",
            ))
    price = price_breach(policy=policy, ordered=line.unit_price, proposed=unit_price)
    if price is not None:
        found.append(price)
    return found


def price_breach(*, policy: TolerancePolicy, ordered: Decimal, proposed: Decimal) -> Breach | None:
    """A price outside the policy's percentages (and its absolute amount, if it has one), else None."""
    price_pct = _pct(proposed, ordered)
    within_pct = -policy.price_under_pct <= price_pct <= policy.price_over_pct
    within_abs = policy.price_abs is not None and abs(proposed - ordered) <= policy.price_abs
    if within_pct or within_abs:
        return None
    allowed = f"-{policy.price_under_pct} % / +{policy.price_over_pct} %"
    if policy.price_abs is not None:
        allowed += f" or ±{decimal_text(policy.price_abs)}"
    return Breach("unit_price", decimal_text(ordered), decimal_text(proposed), f"{price_pct:+.2f} %", allowed)
