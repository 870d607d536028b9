"""Inventory positions as suppliers and buyers read them: each with its days of cover against the
current forecast and whether the site is below its minimum. Reads only.

Days of cover: the stock that is or will be at the site (on hand + in transit + consignment) is
used up by the forecast day by day from today (a bucket's quantity spread evenly over its days;
days between buckets need nothing). The answer is the number of days it lasts, or "more than the
forecast's horizon" when it outlasts every bucket; without a forecast there is none.
"""
from __future__ import annotations

from dataclasses import dataclass
from datetime import date, timedelta
from decimal import Decimal

from django.db.models import F, Q, QuerySet

from collaboration.actors import Actor
from collaboration.models import ForecastBucket, InventoryPosition
from collaboration.selectors import search_term, visible_to

ZERO = Decimal(0)


def positions_for_actor(*, actor: Actor, query: str = "", below_minimum: bool = False) -> QuerySet[InventoryPosition]:
    positions = visible_to(InventoryPosition.objects.select_related("supplier"), actor=actor)
    term = search_term(query)
    if term:
        positions = positions.filter(Q(item__icontains=term) | Q(site__icontains=term))
    if below_minimum:
        positions = positions.filter(min_level__gt=F("on_hand") + F("consignment"))
    return positions.order_by("item", "site", "supplier__code")


@dataclass(frozen=True)
class Cover:
    days: Decimal | None  # None: no forecast to measure against
    beyond_horizon: bool = False  # the stock outlasts the whole forecast
    horizon_days: int = 0


@dataclass(frozen=True)
class PositionRow:
    position: InventoryPosition
    cover: Cover


def days_of_cover(stock: Decimal, buckets: list[tuple[date, date, Decimal]], *, today: date) -> Cover:
    """How many days `stock` lasts against buckets of (start, end, quantity) in date order."""
    future = [(max(start, today), end, quantity * ((end - max(start, today)).days + 1) / ((end - start).days + 1))
              for start, end, quantity in buckets if end >= today]
    if not future:
        return Cover(None)
    covered, day = Decimal(0), today
    for start, end, quantity in future:
        covered += (start - day).days  # no demand between buckets
        length = (end - start).days + 1
        if quantity <= stock:
            stock -= quantity
            covered += length
            day = end + timedelta(days=1)
            continue
        covered += stock / (quantity / length)
        return Cover(covered.quantize(Decimal("0.1")), horizon_days=(future[-1][1] - today).days + 1)
    return Cover(covered.quantize(Decimal("0.1")), beyond_horizon=True, horizon_days=(future[-1][1] - today).days + 1)


def position_rows(positions: list[InventoryPosition], *, today: date) -> list[PositionRow]:
    """Each position with its cover, reading the current forecast buckets of all of them in one query."""
    if not positions:
        return []
    wanted = Q()
    for position in positions:
        wanted |= Q(version__forecast__supplier_id=position.supplier_id, version__forecast__item=position.item,
                    version__forecast__ship_to=position.site)
    buckets: dict[tuple, list[tuple[date, date, Decimal]]] = {}
    rows = (ForecastBucket.objects.filter(wanted, version__version=F("version__forecast__version"), end__gte=today)
            .order_by("start")
            .values_list("version__forecast__supplier_id", "version__forecast__item", "version__forecast__ship_to",
                         "start", "end", "quantity"))
    for supplier_id, item, site, start, end, quantity in rows:
        buckets.setdefault((supplier_id, item, site), []).append((start, end, quantity))
    return [PositionRow(position, days_of_cover(position.on_hand + position.in_transit + position.consignment,
                                                buckets.get((position.supplier_id, position.item, position.site), []),
                                                today=today))
            for position in positions]
