"""Counters of the web requests this process answered, for /metrics (prometheus_client).

Under several web processes set PROMETHEUS_MULTIPROC_DIR (an empty folder shared by them, cleared at
start): each process then writes its counts there and /metrics adds them up.
"""
from __future__ import annotations

import os

from prometheus_client import CollectorRegistry, Counter, Histogram, generate_latest
from prometheus_client import multiprocess

REGISTRY = CollectorRegistry(auto_describe=True)
REQUESTS = Counter("portal_http_requests", "Web and API requests answered, by method, view and status.",
                   ["method", "view", "status"], registry=REGISTRY)
DURATION = Histogram("portal_http_request_duration_seconds", "Time to answer a request, by view.", ["view"],
                     registry=REGISTRY, buckets=(0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10))


def count_request(*, method: str, view: str, status: int, seconds: float) -> None:
    REQUESTS.labels(method=method, view=view, status=str(status)).inc()
    DURATION.labels(view=view).observe(seconds)


def render() -> str:
    if os.environ.get("PROMETHEUS_MULTIPROC_DIR"):
        registry = CollectorRegistry()
        multiprocess.MultiProcessCollector(registry)
        return generate_latest(registry).decode()
    return generate_latest(REGISTRY).decode()
