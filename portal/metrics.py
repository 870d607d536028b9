"""Sync figures per destination (outbox depth, sync lag, deliveries per minute, dead letters, mode,
batch files), EDIFACT interchange outcomes, Celery queue depth and web requests, shared by the admin's delivery status page and /metrics in the Prometheus text format.

/metrics is open by default (counts only, no business data); set METRICS_TOKEN to require
`Authorization: Bearer <token>` from the scraper.
"""
from __future__ import annotations

import hmac
from dataclasses import dataclass
from datetime import datetime, timedelta

from django.conf import settings
from django.db.models import Count, Max, Min, Q
from django.db.models.functions import TruncMinute
from django.http import HttpRequest, HttpResponse
from django.utils import timezone
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_GET

from collaboration.models import ExceptionCase
from edi.models import Interchange
from erp_bridge import batches
from erp_bridge.models import DeliveryAttempt, DeliveryBatch, DestinationState, OutboxMessage
from portal import health, request_metrics

CONTENT_TYPE = "text/plain; version=0.0.4; charset=utf-8"
CHART_MINUTES = 60


@dataclass(frozen=True)
class DestinationFigures:
    destination: str
    mode: str  # DestinationState.Mode
    batch_only: bool
    down_since: datetime | None
    switched_at: datetime | None
    switched_by: str
    pending: int
    dead: int
    delivered: int
    lag_seconds: float  # age of the oldest pending event, 0 when none waits
    deliveries_last_minute: int
    deliveries_last_hour: int
    per_minute: list[int]  # deliveries per clock minute, the last CHART_MINUTES, the current one last
    batch_count: int
    last_batch_number: int | None
    last_batch_at: datetime | None

    @property
    def last_batch_file(self) -> str:
        return batches.batch_file_name(self.destination, self.last_batch_number) if self.last_batch_number else ""


def delivery_figures(*, now: datetime | None = None, delivered_total: bool = True) -> list[DestinationFigures]:
    """Every destination's figures in four aggregate queries, however many events there are. Without
    `delivered_total` the count of all delivered events (which grows with the history) is skipped."""
    now = now or timezone.now()
    by_status: dict[tuple[str, str], int] = {}
    oldest: dict[str, datetime] = {}
    messages = OutboxMessage.objects.all() if delivered_total else OutboxMessage.objects.exclude(status=OutboxMessage.Status.DELIVERED)
    for row in messages.values("destination", "status").annotate(n=Count("id"), oldest=Min("occurred_at")).order_by():
        by_status[row["destination"], row["status"]] = row["n"]
        if row["status"] == OutboxMessage.Status.PENDING:
            oldest[row["destination"]] = row["oldest"]
    current_minute = now.replace(second=0, microsecond=0)
    per_minute: dict[str, list[int]] = {}
    last_minute: dict[str, int] = {}
    last_hour: dict[str, int] = {}
    delivered = (
        DeliveryAttempt.objects.filter(outcome=DeliveryAttempt.Outcome.DELIVERED, attempted_at__gte=now - timedelta(hours=1))
        .annotate(minute=TruncMinute("attempted_at"))
        .values("message__destination", "minute")
        .annotate(n=Count("id"), recent=Count("id", filter=Q(attempted_at__gte=now - timedelta(minutes=1))))
    )
    for row in delivered:
        destination = row["message__destination"]
        last_hour[destination] = last_hour.get(destination, 0) + row["n"]
        last_minute[destination] = last_minute.get(destination, 0) + row["recent"]
        index = CHART_MINUTES - 1 - int((current_minute - row["minute"]).total_seconds() // 60)
        if 0 <= index < CHART_MINUTES:
            per_minute.setdefault(destination, [0] * CHART_MINUTES)[index] += row["n"]
    states = {state.destination: state for state in DestinationState.objects.all()}
    batch_rows = {
        row["destination"]: row
        for row in DeliveryBatch.objects.values("destination").annotate(
            count=Count("id"), last_number=Max("number"), last_at=Max("created_at"))
    }
    batch_only = batches.batch_only()
    destinations = sorted({"erp"} | batch_only | {d for d, _ in by_status} | set(states) | set(batch_rows))
    figures = []
    for d in destinations:
        state = states.get(d) or DestinationState(destination=d)
        batch_row = batch_rows.get(d, {})
        figures.append(DestinationFigures(
            destination=d,
            mode=DestinationState.Mode.BATCH if d in batch_only else state.mode,
            batch_only=d in batch_only,
            down_since=state.down_since,
            switched_at=state.switched_at,
            switched_by=state.switched_by,
            pending=by_status.get((d, OutboxMessage.Status.PENDING), 0),
            dead=by_status.get((d, OutboxMessage.Status.DEAD), 0),
            delivered=by_status.get((d, OutboxMessage.Status.DELIVERED), 0),
            lag_seconds=max(0.0, (now - oldest[d]).total_seconds()) if d in oldest else 0.0,
            deliveries_last_minute=last_minute.get(d, 0),
            deliveries_last_hour=last_hour.get(d, 0),
            per_minute=per_minute.get(d, [0] * CHART_MINUTES),
            batch_count=batch_row.get("count", 0),
            last_batch_number=batch_row.get("last_number"),
            last_batch_at=batch_row.get("last_at"),
        ))
    return figures


def duration_text(seconds: float) -> str:
    seconds = int(seconds)
    if seconds < 60:
        return f"{seconds} s"
    if seconds < 3600:
        return f"{seconds // 60} min"
    return f"{seconds // 3600} h {seconds % 3600 // 60} min"


def _family(name: str, kind: str, help_text: str, samples: list[tuple[dict, float]]) -> list[str]:
    lines = [f"# HELP {name} {help_text}", f"# TYPE {name} {kind}"]
    for labels, value in samples:
        label_text = ",".join(f'{key}="{value}"' for key, value in sorted(labels.items()))
        lines.append(f"{name}{{{label_text}}} {value:g}" if label_text else f"{name} {value:g}")
    return lines


def render_metrics() -> str:
    now = timezone.now()
    figures = delivery_figures(now=now)
    cases = dict(
        ExceptionCase.objects.filter(status=ExceptionCase.Status.OPEN).values("kind").annotate(n=Count("id")).values_list("kind", "n")
    )

    def per_destination(value) -> list[tuple[dict, float]]:
        return [({"destination": f.destination}, value(f)) for f in figures]

    lines: list[str] = []
    lines += _family("portal_outbox_pending", "gauge", "Events waiting to be delivered.", per_destination(lambda f: f.pending))
    lines += _family("portal_outbox_dead_letters", "gauge", "Events that failed for good and wait for a replay.",
                     per_destination(lambda f: f.dead))
    lines += _family("portal_outbox_delivered_total", "counter", "Events delivered.", per_destination(lambda f: f.delivered))
    lines += _family("portal_outbox_lag_seconds", "gauge", "Age of the oldest undelivered event (sync lag).",
                     per_destination(lambda f: f.lag_seconds))
    lines += _family("portal_outbox_deliveries_last_minute", "gauge", "Deliveries in the last 60 seconds.",
                     per_destination(lambda f: f.deliveries_last_minute))
    lines += _family("portal_outbox_deliveries_last_hour", "gauge", "Deliveries in the last hour.",
                     per_destination(lambda f: f.deliveries_last_hour))
    lines += _family("portal_destination_mode", "gauge", "How events reach the destination: 1 for the current mode.",
                     [({"destination": f.destination, "mode": mode}, float(f.mode == mode))
                      for f in figures for mode in DestinationState.Mode.values])
    lines += _family("portal_destination_down_seconds", "gauge",
                     "Time since the first failed delivery after the last success; 0 when up.",
                     per_destination(lambda f: (now - f.down_since).total_seconds() if f.down_since else 0))
    lines += _family("portal_outbox_batch_files_total", "counter", "Batch files written (fallback batch mode).",
                     per_destination(lambda f: f.batch_count))
    lines += _family("portal_exception_cases_open", "gauge", "Cases waiting for a buyer.",
                     [({"kind": kind}, cases.get(kind, 0)) for kind in ExceptionCase.Kind.values])
    interchanges = {(row["direction"], row["status"]): row["n"]
                    for row in Interchange.objects.values("direction", "status").annotate(n=Count("id"))}
    lines += _family("portal_edi_interchanges_total", "counter", "EDIFACT interchanges by direction and outcome.",
                     [({"direction": direction, "status": status}, interchanges.get((direction, status), 0))
                      for direction, statuses in EDI_STATUSES.items() for status in statuses])
    depth = queue_depth()
    lines += _family("portal_broker_up", "gauge", "1 when the Celery broker answered this scrape.", [({}, float(depth is not None))])
    lines += _family("portal_celery_queue_depth", "gauge", "Task messages waiting in the broker, per queue.",
                     [({"queue": settings.CELERY_TASK_DEFAULT_QUEUE}, depth)] if depth is not None else [])
    return "\n".join(lines) + "\n" + request_metrics.render()


def queue_depth() -> int | None:
    """Task messages waiting in the queue every task goes to; None when the broker does not answer."""
    try:
        with health.broker_connection() as conn:
            try:
                return conn.default_channel.queue_declare(queue=settings.CELERY_TASK_DEFAULT_QUEUE, passive=True).message_count
            except conn.channel_errors:  # a queue nobody declared yet (Redis drops empty lists): empty
                return 0
    except Exception:  # kombu raises transport-specific errors; "down" is the answer
        return None


_S = Interchange.Status
EDI_STATUSES = {
    Interchange.Direction.INBOUND: [_S.RECEIVED, _S.ACCEPTED, _S.PARTIALLY_ACCEPTED, _S.REJECTED, _S.DUPLICATE],
    Interchange.Direction.OUTBOUND: [_S.PENDING, _S.SENT, _S.ACKNOWLEDGED, _S.REFUSED, _S.REJECTED],
}


@never_cache
@require_GET
def metrics(request: HttpRequest) -> HttpResponse:
    token = settings.METRICS_TOKEN
    if token:
        given = request.headers.get("Authorization", "").removeprefix("Bearer ").strip()
        if not hmac.compare_digest(given, token):
            return HttpResponse("unauthorized\n", status=401, content_type=CONTENT_TYPE)
    return HttpResponse(render_metrics(), content_type=CONTENT_TYPE)
