"""Forecasts as suppliers and buyers read them: one row per item and ship-to with the change against
the previous version and how far it is committed; for one forecast, the waterfall (each version's
quantity per period, newest first), the chart and the buckets to commit. Reads only; commitments go
through `services.forecast_commit`.

The overview costs a fixed number of queries whatever the number of items: versions and bucket
sums are read for the whole page at once.
"""
from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass, field
from datetime import date
from decimal import Decimal

from django.db.models import Count, F, Max, Q, QuerySet, Sum
from django.utils.translation import gettext as _

from collaboration.actors import Actor
from collaboration.errors import NotFound
from collaboration.models import Forecast, ForecastBucket, ForecastVersion
from collaboration.selectors import search_term, visible_to
from portal import charts

WATERFALL_VERSIONS = 6
ZERO = Decimal(0)


def forecasts_for_actor(*, actor: Actor, query: str = "") -> QuerySet[Forecast]:
    forecasts = visible_to(Forecast.objects.select_related("supplier"), actor=actor)
    term = search_term(query)
    if term:
        forecasts = forecasts.filter(Q(item__icontains=term) | Q(description__icontains=term) | Q(ship_to__icontains=term))
    return forecasts.order_by("item", "ship_to", "supplier__code")


def forecast_get(*, actor: Actor, pk: int) -> Forecast:
    forecast = forecasts_for_actor(actor=actor).filter(pk=pk).first()
    if forecast is None:
        raise NotFound(_("Forecast %(id)s not found.") % {"id": pk})
    return forecast


@dataclass
class ForecastRow:
    forecast: Forecast
    total: Decimal = ZERO
    firm: Decimal = ZERO
    previous_total: Decimal | None = None
    buckets: int = 0
    committed: int = 0
    firm_shortfall: Decimal = ZERO

    @property
    def change(self) -> Decimal | None:
        return None if self.previous_total is None else self.total - self.previous_total

    @property
    def commitment_state(self) -> str:
        if self.firm_shortfall > 0:
            return "short"
        if self.committed == 0:
            return "open"
        return "complete" if self.committed == self.buckets else "partial"


def _current_and_previous(forecast_ids) -> tuple[dict[int, int], dict[int, int]]:
    """({current version id: forecast id}, {previous version id: forecast id}) in two or three queries."""
    current = dict(ForecastVersion.objects.filter(forecast_id__in=forecast_ids, version=F("forecast__version"))
                   .values_list("pk", "forecast_id"))
    previous_numbers = dict(ForecastVersion.objects.filter(forecast_id__in=forecast_ids, version__lt=F("forecast__version"))
                            .values("forecast_id").annotate(previous=Max("version")).values_list("forecast_id", "previous"))
    previous = {}
    if previous_numbers:
        wanted = Q()
        for forecast_id, version in previous_numbers.items():
            wanted |= Q(forecast_id=forecast_id, version=version)
        previous = dict(ForecastVersion.objects.filter(wanted).values_list("pk", "forecast_id"))
    return current, previous


def current_buckets(forecasts: list[Forecast]) -> dict[int, list[BucketView]]:
    """Each forecast's current buckets with the previous version's quantity, for many forecasts at once."""
    current, previous = _current_and_previous([forecast.pk for forecast in forecasts])
    found: dict[int, list[BucketView]] = defaultdict(list)
    before: dict[tuple[int, date], Decimal] = {}
    for bucket in ForecastBucket.objects.filter(version_id__in=[*current, *previous]).order_by("version_id", "start"):
        if bucket.version_id in previous:
            before[(previous[bucket.version_id], bucket.start)] = bucket.quantity
        else:
            found[current[bucket.version_id]].append(bucket)
    return {forecast_id: [BucketView(bucket, before.get((forecast_id, bucket.start))) for bucket in buckets]
            for forecast_id, buckets in found.items()}


def forecast_rows(forecasts: list[Forecast]) -> list[ForecastRow]:
    """The overview of these forecasts: current and previous totals, firm quantity, commitments."""
    rows = {forecast.pk: ForecastRow(forecast) for forecast in forecasts}
    if not rows:
        return []
    current, previous = _current_and_previous(list(rows))
    sums = (ForecastBucket.objects.filter(version_id__in=[*current, *previous]).values("version_id")
            .annotate(total=Sum("quantity"), firm=Sum("quantity", filter=Q(zone=ForecastBucket.Zone.FIRM)),
                      buckets=Count("pk"), committed=Count("pk", filter=Q(committed_quantity__isnull=False)),
                      short=Sum(F("quantity") - F("committed_quantity"),
                                filter=Q(zone=ForecastBucket.Zone.FIRM, committed_quantity__lt=F("quantity")))))
    for entry in sums:
        version_id = entry["version_id"]
        if version_id in current:
            row = rows[current[version_id]]
            row.total, row.firm = entry["total"] or ZERO, entry["firm"] or ZERO
            row.buckets, row.committed, row.firm_shortfall = entry["buckets"], entry["committed"], entry["short"] or ZERO
        else:
            rows[previous[version_id]].previous_total = entry["total"] or ZERO
    return list(rows.values())


@dataclass(frozen=True)
class Cell:
    quantity: Decimal | None
    change: str = ""  # "up", "down" or "" against the version before


@dataclass
class WaterfallRow:
    version: ForecastVersion
    cells: list[Cell] = field(default_factory=list)


@dataclass
class BucketView:
    bucket: ForecastBucket
    previous: Decimal | None

    @property
    def change(self) -> Decimal | None:
        return None if self.previous is None else self.bucket.quantity - self.previous


@dataclass
class ForecastDetail:
    forecast: Forecast
    version: ForecastVersion
    buckets: list[BucketView]
    periods: list[date]
    waterfall: list[WaterfallRow]
    chart: charts.Chart


def forecast_detail(forecast: Forecast) -> ForecastDetail:
    versions = list(forecast.versions.order_by("-version")[:WATERFALL_VERSIONS])
    quantities: dict[int, dict[date, Decimal]] = defaultdict(dict)
    current_buckets: list[ForecastBucket] = []
    for bucket in ForecastBucket.objects.filter(version__in=versions).order_by("start"):
        quantities[bucket.version_id][bucket.start] = bucket.quantity
        if bucket.version_id == versions[0].pk:
            current_buckets.append(bucket)
    periods = [bucket.start for bucket in current_buckets]
    waterfall = []
    for index, version in enumerate(versions):
        older = quantities.get(versions[index + 1].pk) if index + 1 < len(versions) else None
        row = WaterfallRow(version)
        for start in periods:
            quantity = quantities[version.pk].get(start)
            before = older.get(start) if older is not None else None
            change = "" if quantity is None or before is None or quantity == before else ("up" if quantity > before else "down")
            row.cells.append(Cell(quantity, change))
        waterfall.append(row)
    previous = quantities.get(versions[1].pk) if len(versions) > 1 else None
    views = [BucketView(bucket, previous.get(bucket.start) if previous is not None else None) for bucket in current_buckets]
    return ForecastDetail(forecast=forecast, version=versions[0], buckets=views, periods=periods, waterfall=waterfall,
                          chart=_chart(forecast, views, has_previous=previous is not None))


def _float(value: Decimal | None) -> float | None:
    return None if value is None else float(value)


def _chart(forecast: Forecast, views: list[BucketView], *, has_previous: bool) -> charts.Chart:
    firm = [float(v.bucket.quantity) if v.bucket.zone == ForecastBucket.Zone.FIRM else 0.0 for v in views]
    planned = [float(v.bucket.quantity) if v.bucket.zone == ForecastBucket.Zone.PLANNED else 0.0 for v in views]
    lines = []
    if has_previous:
        lines.append(charts.Series(_("previous version"), [_float(v.previous) for v in views], "series-muted"))
    if any(v.bucket.committed_quantity is not None for v in views):
        lines.append(charts.Series(_("committed"), [_float(v.bucket.committed_quantity) for v in views], "series-good"))
    total = sum((v.bucket.quantity for v in views), ZERO)
    return charts.daily_chart(
        key="forecast", title=_("Forecast per period (%(uom)s)") % {"uom": forecast.uom},
        days=[v.bucket.start for v in views],
        stacked=[charts.Series(_("firm"), firm, "series-neutral"), charts.Series(_("planned"), planned, "series-planned")],
        lines=lines,
        summary=_("%(total)s %(uom)s over %(count)s periods, version %(version)s.") % {
            "total": charts.number_text(float(total)), "uom": forecast.uom, "count": len(views), "version": forecast.version},
    )
