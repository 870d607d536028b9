"""Supplier portal pages for forecasts: the overview (change against the previous version, firm
quantity, how far it is committed), the download, and one forecast with its waterfall, chart and
the commitment form. Rules live in the forecast service; reads in `collaboration.forecasts`."""
from __future__ import annotations

from decimal import Decimal, InvalidOperation
from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.utils import formats
from django.utils.dateparse import parse_date
from django.utils.translation import gettext as _
from django.views.decorators.http import require_GET, require_http_methods

from collaboration import forecasts, services, spreadsheets
from collaboration.actors import Actor
from collaboration.documents import decimal_text
from collaboration.errors import DomainError, InvalidDocument, NotFound
from collaboration.models import Channel, ForecastBucket
from collaboration.services import CommitmentInput
from collaboration.services.forecasts import not_stored_message
from collaboration.views import list_page, spreadsheet_download

PAGE_SIZE = 50
DOWNLOAD_COLUMNS = ["Supplier", "Item", "Ship to", "Description", "UOM", "Version", "Period", "Start", "End", "Zone",
                    "Quantity", "Previous version", "Change", "Committed", "Reason"]


def _actor(request: HttpRequest) -> Actor:
    return Actor.for_user(request.user, channel=Channel.PORTAL)


@login_required
@require_GET
def forecast_list(request: HttpRequest) -> HttpResponse:
    query = request.GET.get("q", "")
    return list_page(request, "collaboration/forecast_list.html", forecasts.forecasts_for_actor(actor=_actor(request), query=query),
                     forecasts.forecast_rows, filters={"q": query}, size=PAGE_SIZE)


@login_required
@require_GET
def forecast_download(request: HttpRequest, fmt: str) -> HttpResponse:
    """Every current forecast the user may see, one row per period, with the previous version and the commitment."""
    rows = []
    visible = list(forecasts.forecasts_for_actor(actor=_actor(request)))
    buckets = forecasts.current_buckets(visible)
    for forecast in visible:
        for view in buckets.get(forecast.pk, []):
            bucket = view.bucket
            rows.append([
                forecast.supplier.code, forecast.item, forecast.ship_to, forecast.description, forecast.uom, forecast.version,
                bucket.period, bucket.start.isoformat(), bucket.end.isoformat(), bucket.zone, decimal_text(bucket.quantity),
                decimal_text(view.previous) if view.previous is not None else "",
                decimal_text(view.change) if view.change is not None else "",
                decimal_text(bucket.committed_quantity) if bucket.committed_quantity is not None else "", bucket.commit_reason,
            ])
    content = (spreadsheets.to_xlsx(rows, DOWNLOAD_COLUMNS, title="Forecasts") if fmt == "xlsx"
               else spreadsheets.to_csv(rows, DOWNLOAD_COLUMNS))
    return spreadsheet_download(content, fmt=fmt, stem="forecasts")


@login_required
@require_http_methods(["GET", "POST"])
def forecast_detail(request: HttpRequest, pk: int) -> HttpResponse:
    actor = _actor(request)
    try:
        forecast = forecasts.forecast_get(actor=actor, pk=pk)
    except NotFound:
        raise Http404(f"Forecast {pk} not found.") from None
    errors: dict = {}
    values: dict = {}
    status = 200
    if request.method == "POST":
        values = request.POST
        try:
            commitments = _commitments(request, full=request.POST.get("action") == "full", forecast=forecast)
            services.forecast_commit(supplier_id=forecast.supplier_id, item=forecast.item, ship_to=forecast.ship_to,
                                     version=_version(request), commitments=commitments, actor=actor)
        except DomainError as error:
            messages.error(request, error.message)
            errors = error.details.get("commitments", {})
            status = error.status if error.status in (400, 403, 404, 409) else 400
        else:
            messages.success(request, _("Your commitment is stored and sent to the buyer's planning."))
            return redirect("collaboration:forecast-detail", pk=forecast.pk)
    detail = forecasts.forecast_detail(forecast)
    rows = [{"view": view, "key": view.bucket.start.isoformat(), "errors": errors.get(view.bucket.start.isoformat(), []),
             "quantity": values.get(f"commit-{view.bucket.start.isoformat()}", _shown(view.bucket.committed_quantity)),
             "reason": values.get(f"reason-{view.bucket.start.isoformat()}", view.bucket.commit_reason)}
            for view in detail.buckets]
    return render(request, "collaboration/forecast_detail.html", {
        "detail": detail, "forecast": forecast, "rows": rows,
        "can_commit": actor.can_commit_forecast(forecast.supplier_id),
    }, status=status)


def _shown(quantity: Decimal | None) -> str:
    return formats.number_format(Decimal(decimal_text(quantity))) if quantity is not None else ""


def _version(request: HttpRequest) -> int:
    try:
        return int(request.POST.get("version", ""))
    except ValueError:
        return 0  # no such version: the service answers that the forecast has another one


def _commitments(request: HttpRequest, *, full: bool, forecast) -> list[CommitmentInput]:
    """The buckets the form fills in (empty ones are left as they are); `full` commits every bucket
    of the shown version at its forecast quantity."""
    if full:
        version = forecast.versions.filter(version=_version(request)).first()
        buckets = ForecastBucket.objects.filter(version=version) if version else []
        return [CommitmentInput(bucket.start, bucket.quantity, "") for bucket in buckets]
    found, errors = [], {}
    for name, value in request.POST.items():
        if not name.startswith("commit-") or not value.strip():
            continue
        key = name.removeprefix("commit-")
        start = parse_date(key)
        try:
            quantity = Decimal(formats.sanitize_separators(value.strip()))
            if not quantity.is_finite():
                raise InvalidOperation
        except (InvalidOperation, ValueError):
            errors[key] = [_("Enter a number.")]
            continue
        if start is None:
            errors[key] = [_("Unknown period.")]
            continue
        found.append(CommitmentInput(start, quantity, request.POST.get(f"reason-{key}", "")))
    if errors:
        raise InvalidDocument(not_stored_message(len(errors)), details={"commitments": errors})
    return found
