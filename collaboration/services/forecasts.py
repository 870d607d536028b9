"""Forecasts from the planning system and the supplier's capacity commitments against them.

Rules:
- A forecast is one item at one ship-to from one supplier; the planning system publishes versions.
  The same version again is a no-op; the same version with other content, or an older version, is
  refused; a newer version becomes current. Every version is kept: the waterfall compares them.
- The supplier commits per bucket of the current version: the forecast quantity, or less with a
  reason; never more (capacity nobody asked for is not a commitment) and never negative. A
  commitment names the version it answers: once a newer version has arrived it is refused, so
  nobody commits to numbers they have not seen.
- Each commitment sends `forecast.commitment` (every committed bucket of the version) to the
  planning system through the outbox. A commitment below the forecast in the firm zone opens an
  exception case for the buyer (one per forecast: a newer shortfall replaces the older case, a
  full commitment closes it).
"""
from __future__ import annotations

from dataclasses import dataclass
from datetime import date
from decimal import Decimal

from django.db import IntegrityError, transaction
from django.db.models import F
from django.utils import timezone
from django.utils.translation import gettext as _, ngettext

from collaboration.actors import Actor
from collaboration.audit import audit_event, audit_record
from collaboration.documents import ForecastDocument, decimal_text
from collaboration.errors import (
    DocumentContentConflict,
    DomainError,
    InvalidDocument,
    NotFound,
    PermissionDenied,
    StaleRevision,
    UnknownSupplier,
)
from collaboration.models import AuditEvent, ExceptionCase, Forecast, ForecastBucket, ForecastVersion, Supplier
from erp_bridge import outbox

PLANNING = "planning"
MAX_REASON_LENGTH = 300


@dataclass(frozen=True)
class ForecastResult:
    forecast: Forecast
    outcome: str  # "created", "updated" or "unchanged"


@dataclass(frozen=True)
class CommitmentInput:
    start: date
    quantity: Decimal
    reason: str = ""


def forecast_aggregate(forecast: Forecast) -> str:
    """The outbox aggregate: the planning system receives one forecast's commitments in order."""
    return f"FC:{forecast.supplier.code}:{forecast.ship_to}:{forecast.item}"[:60]


def forecast_record(*, document: ForecastDocument, actor: Actor) -> ForecastResult:
    """Store a forecast version from the planning system (API or batch file)."""
    result = forecasts_record(documents=[document], actor=actor)[0]
    if isinstance(result, DomainError):
        raise result
    return result


def forecasts_record(*, documents: list[ForecastDocument], actor: Actor,
                     retry_on_conflict: bool = True) -> list[ForecastResult | DomainError]:
    """Store many forecast versions; each succeeds or fails on its own (result or error, in order).
    The whole batch is read and written with a fixed number of statements."""
    keys = [(document.supplier, document.item, document.ship_to) for document in documents]
    if len(set(keys)) != len(keys):
        raise ValueError("forecasts_record needs one document per supplier, item and ship-to per batch")
    results: list[ForecastResult | DomainError | None] = [None] * len(documents)
    try:
        with transaction.atomic():
            _record_batch(documents, actor, results)
    except IntegrityError:
        if not retry_on_conflict:
            raise
        # Another writer created some of these forecasts since we looked: one by one, now finding them.
        return [forecasts_record(documents=[document], actor=actor, retry_on_conflict=False)[0] for document in documents]
    return results


def _record_batch(documents: list[ForecastDocument], actor: Actor, results: list) -> None:
    suppliers = {s.code: s for s in Supplier.objects.filter(code__in={d.supplier for d in documents})}
    stored = {(f.supplier_id, f.item, f.ship_to): f for f in Forecast.objects.select_for_update().filter(
        supplier__in=suppliers.values(), item__in={d.item for d in documents}).select_related("supplier")}
    hashes = dict(ForecastVersion.objects.filter(forecast__in=stored.values(), version=F("forecast__version"))
                  .values_list("forecast_id", "content_hash"))
    writes: list[tuple[int, ForecastDocument, Forecast, int | None]] = []  # index, document, forecast, version before
    for index, document in enumerate(documents):
        supplier = suppliers.get(document.supplier)
        if supplier is None:
            results[index] = UnknownSupplier.for_code(document.supplier)
            continue
        forecast = stored.get((supplier.pk, document.item, document.ship_to))
        if forecast is None:
            forecast = Forecast(supplier=supplier, item=document.item, ship_to=document.ship_to)
        elif document.version < forecast.version:
            results[index] = StaleRevision(
                _("The forecast for %(item)s at %(ship_to)s is at version %(stored)s; version %(version)s is older.")
                % {"item": document.item, "ship_to": document.ship_to, "stored": forecast.version,
                   "version": document.version})
            continue
        elif document.version == forecast.version:
            if hashes.get(forecast.pk) != document.content_hash:
                results[index] = DocumentContentConflict(
                    _("Version %(version)s of the forecast for %(item)s at %(ship_to)s came before with other content.")
                    % {"version": document.version, "item": document.item, "ship_to": document.ship_to})
            else:
                results[index] = ForecastResult(forecast, "unchanged")
            continue
        writes.append((index, document, forecast, forecast.version if forecast.pk else None))
        forecast.version, forecast.uom, forecast.description = document.version, document.uom, document.description
    if not writes:
        return
    now = timezone.now()
    Forecast.objects.bulk_create([forecast for _index, _document, forecast, before in writes if before is None])
    for forecast in (forecast for _index, _document, forecast, before in writes if before is not None):
        forecast.updated_at = now
    Forecast.objects.bulk_update([forecast for _index, _document, forecast, before in writes if before is not None],
                                 ["version", "uom", "description", "updated_at"])
    versions = ForecastVersion.objects.bulk_create([
        ForecastVersion(forecast=forecast, version=document.version, published_on=document.published_on,
                        content_hash=document.content_hash, received_at=now)
        for _index, document, forecast, _before in writes])
    ForecastBucket.objects.bulk_create([
        ForecastBucket(version=version, start=bucket.start, end=bucket.end, period=bucket.period, zone=bucket.zone,
                       quantity=bucket.quantity)
        for (_index, document, _forecast, _before), version in zip(writes, versions) for bucket in document.buckets
    ], batch_size=5000)
    AuditEvent.objects.bulk_create([
        audit_event(actor=actor, action="forecast.received", obj=forecast, supplier=forecast.supplier,
                    before={"version": before} if before is not None else None,
                    after={"version": document.version, "buckets": len(document.buckets),
                           "total": decimal_text(sum((b.quantity for b in document.buckets), Decimal(0)))})
        for _index, document, forecast, before in writes])
    for index, _document, forecast, before in writes:
        results[index] = ForecastResult(forecast, "created" if before is None else "updated")


def forecast_commit(*, supplier_id: int, item: str, ship_to: str, version: int, commitments: list[CommitmentInput],
                    actor: Actor) -> Forecast:
    """The supplier commits capacity to buckets of the current version of a forecast."""
    if not actor.can_commit_forecast(supplier_id):
        raise PermissionDenied(_("Your company's sales or admin users commit capacity against forecasts."))
    if not commitments:
        raise InvalidDocument(_("Commit at least one bucket."), details={"commitments": [_("Give at least one bucket.")]})
    with transaction.atomic():
        forecast = (Forecast.objects.select_for_update().select_related("supplier")
                    .filter(supplier_id=supplier_id, item=item, ship_to=ship_to).first())
        if forecast is None:
            raise NotFound(_("There is no forecast for %(item)s at %(ship_to)s for your company.")
                           % {"item": item, "ship_to": ship_to},
                           details={"item": [_("Not an item and ship-to your company has a forecast for.")]})
        if version != forecast.version:
            raise StaleRevision(
                _("The forecast for %(item)s is now at version %(current)s; review it and commit again.")
                % {"item": item, "current": forecast.version},
                details={"version": [_("Expected %(current)s.") % {"current": forecast.version}]})
        current = forecast.versions.get(version=forecast.version)
        buckets = {bucket.start: bucket for bucket in current.buckets.all()}
        _check(commitments, buckets)
        now, label = timezone.now(), actor.label
        changed = []
        for entry in commitments:
            bucket = buckets[entry.start]
            bucket.committed_quantity, bucket.commit_reason = entry.quantity, entry.reason.strip()
            bucket.committed_at, bucket.committed_by = now, label
            changed.append(bucket)
        ForecastBucket.objects.bulk_update(changed, ["committed_quantity", "commit_reason", "committed_at", "committed_by"])
        ordered = sorted(buckets.values(), key=lambda bucket: bucket.start)
        audit_record(actor=actor, action="forecast.committed", obj=forecast, supplier=forecast.supplier,
                     after={"version": forecast.version,
                            "buckets": [{"start": b.start.isoformat(), "committed": decimal_text(b.committed_quantity),
                                         "reason": b.commit_reason} for b in changed]})
        outbox.publish(type="forecast.commitment", aggregate=forecast_aggregate(forecast), destination=PLANNING,
                       payload=_commitment_payload(forecast, ordered))
        _shortfall_case(forecast, ordered, actor=actor)
        return forecast


def _check(commitments: list[CommitmentInput], buckets: dict[date, ForecastBucket]) -> None:
    """Every commitment names a bucket of the version, at most its quantity, not negative, with a
    reason when it is less: else nothing is stored and each problem is named by its bucket."""
    errors: dict[str, list[str]] = {}
    seen: set[date] = set()
    for entry in commitments:
        key = entry.start.isoformat()
        bucket = buckets.get(entry.start)
        problems = errors.setdefault(key, [])
        if bucket is None:
            problems.append(_("The forecast has no bucket starting %(start)s.") % {"start": key})
        elif entry.start in seen:
            problems.append(_("This bucket is committed twice."))
        elif entry.quantity < 0:
            problems.append(_("A commitment cannot be negative."))
        elif entry.quantity > bucket.quantity:
            problems.append(_("Commit at most the forecast, %(quantity)s.") % {"quantity": decimal_text(bucket.quantity)})
        elif entry.quantity < bucket.quantity and not entry.reason.strip():
            problems.append(_("Say why you commit less than the forecast (%(quantity)s).")
                            % {"quantity": decimal_text(bucket.quantity)})
        elif len(entry.reason.strip()) > MAX_REASON_LENGTH:
            problems.append(_("Keep the reason under %(length)s characters.") % {"length": MAX_REASON_LENGTH})
        seen.add(entry.start)
        if not problems:
            del errors[key]
    if errors:
        raise InvalidDocument(not_stored_message(len(errors)), details={"commitments": errors})


def not_stored_message(count: int) -> str:
    return ngettext("The commitment was not stored: %(count)s bucket needs attention.",
                    "The commitment was not stored: %(count)s buckets need attention.", count) % {"count": count}


def _commitment_payload(forecast: Forecast, buckets: list[ForecastBucket]) -> dict:
    return {
        "supplier": forecast.supplier.code, "item": forecast.item, "ship_to": forecast.ship_to,
        "version": forecast.version, "uom": forecast.uom,
        "buckets": [
            {"start": b.start.isoformat(), "end": b.end.isoformat(), "zone": b.zone, "forecast": decimal_text(b.quantity),
             "committed": decimal_text(b.committed_quantity), "reason": b.commit_reason}
            for b in buckets if b.committed_quantity is not None
        ],
    }


def _shortfall_case(forecast: Forecast, buckets: list[ForecastBucket], *, actor: Actor) -> None:
    """One open case per forecast while its firm zone is committed short; replaced by a newer
    shortfall, closed once the firm zone is fully committed."""
    short = [b for b in buckets if b.zone == ForecastBucket.Zone.FIRM and b.shortfall > 0]
    open_cases = ExceptionCase.objects.select_for_update().filter(
        forecast=forecast, kind=ExceptionCase.Kind.FORECAST_SHORTFALL, status=ExceptionCase.Status.OPEN)
    superseded = _("Superseded by the commitment of %(when)s.") % {"when": timezone.now().isoformat(timespec="minutes")}
    if not short:
        open_cases.update(status=ExceptionCase.Status.CLOSED, decided_at=timezone.now(),
                          decision_comment=_("The firm zone is now fully committed."))
        return
    open_cases.update(status=ExceptionCase.Status.CLOSED, decided_at=timezone.now(), decision_comment=superseded)
    total = sum((b.shortfall for b in short), Decimal(0))
    case = ExceptionCase.objects.create(
        kind=ExceptionCase.Kind.FORECAST_SHORTFALL, supplier=forecast.supplier, forecast=forecast,
        summary=(f"{forecast.supplier.code} commits {decimal_text(total)} {forecast.uom} less than the firm forecast "
                 f"for {forecast.item} at {forecast.ship_to} (version {forecast.version})")[:300],
        details={
            "item": forecast.item, "ship_to": forecast.ship_to, "version": forecast.version, "uom": forecast.uom,
            "buckets": [{"start": b.start.isoformat(), "forecast": decimal_text(b.quantity),
                         "committed": decimal_text(b.committed_quantity), "reason": b.commit_reason} for b in short],
        },
    )
    audit_record(actor=actor, action="exception.opened", obj=case, supplier=forecast.supplier,
                 after={"kind": case.kind, "item": forecast.item, "shortfall": decimal_text(total)})
