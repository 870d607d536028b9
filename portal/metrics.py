"""/metrics in the Prometheus text format: outbox depth, sync lag, delivery rate, dead letters, open cases.

Open by default (counts only, no business data); set METRICS_TOKEN to require
`Authorization: Bearer <token>` from the scraper.
"""
from __future__ import annotations

import hmac
from datetime import timedelta

from django.conf import settings
from django.db.models import Count, Min
from django.http import HttpRequest, HttpResponse
from django.utils import timezone
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_GET

from collaboration.models import ExceptionCase
from erp_bridge.models import DeliveryAttempt, OutboxMessage

CONTENT_TYPE = "text/plain; version=0.0.4; charset=utf-8"


def _family(name: str, kind: str, help_text: str, samples: list[tuple[dict, float]]) -> list[str]:
    lines = [f"# HELP {name} {help_text}", f"# TYPE {name} {kind}"]
    for labels, value in samples:
        label_text = ",".join(f'{key}="{value}"' for key, value in sorted(labels.items()))
        lines.append(f"{name}{{{label_text}}} {value:g}" if label_text else f"{name} {value:g}")
    return lines


def render_metrics() -> str:
    now = timezone.now()
    by_status = {
        (row["destination"], row["status"]): row["n"]
        for row in OutboxMessage.objects.values("destination", "status").annotate(n=Count("id"))
    }
    destinations = sorted({destination for destination, _ in by_status} | {"erp"})
    oldest = dict(
        OutboxMessage.objects.filter(status=OutboxMessage.Status.PENDING)
        .values("destination").annotate(oldest=Min("occurred_at")).values_list("destination", "oldest")
    )
    recent = dict(
        DeliveryAttempt.objects.filter(attempted_at__gte=now - timedelta(minutes=1), outcome=DeliveryAttempt.Outcome.DELIVERED)
        .values("message__destination").annotate(n=Count("id")).values_list("message__destination", "n")
    )
    cases = dict(
        ExceptionCase.objects.filter(status=ExceptionCase.Status.OPEN).values("kind").annotate(n=Count("id")).values_list("kind", "n")
    )
    lines: list[str] = []
    lines += _family("portal_outbox_pending", "gauge", "Events waiting to be delivered.",
                     [({"destination": d}, by_status.get((d, "pending"), 0)) for d in destinations])
    lines += _family("portal_outbox_dead_letters", "gauge", "Events that failed for good and wait for a replay.",
                     [({"destination": d}, by_status.get((d, "dead"), 0)) for d in destinations])
    lines += _family("portal_outbox_delivered_total", "counter", "Events delivered.",
                     [({"destination": d}, by_status.get((d, "delivered"), 0)) for d in destinations])
    lines += _family("portal_outbox_lag_seconds", "gauge", "Age of the oldest undelivered event (sync lag).",
                     [({"destination": d}, (now - oldest[d]).total_seconds() if d in oldest else 0) for d in destinations])
    lines += _family("portal_outbox_deliveries_last_minute", "gauge", "Deliveries in the last 60 seconds.",
                     [({"destination": d}, recent.get(d, 0)) for d in destinations])
    lines += _family("portal_exception_cases_open", "gauge", "Cases waiting for a buyer.",
                     [({"kind": kind}, cases.get(kind, 0)) for kind in ExceptionCase.Kind.values])
    return "\n".join(lines) + "\n"


@never_cache
@require_GET
def metrics(request: HttpRequest) -> HttpResponse:
    token = settings.METRICS_TOKEN
    if token:
        given = request.headers.get("Authorization", "").removeprefix("Bearer ").strip()
        if not hmac.compare_digest(given, token):
            return HttpResponse("unauthorized\n", status=401, content_type=CONTENT_TYPE)
    return HttpResponse(render_metrics(), content_type=CONTENT_TYPE)
