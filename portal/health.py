"""Probes for the orchestrator.

/healthz (liveness): the process answers requests; it checks nothing outside, so an outage of the
database does not get every web process restarted. /readyz (readiness): 200 only when this process
can do its work: the database answers and has every migration applied, and the broker answers; 503
with the failing checks otherwise, so a load balancer sends no traffic here until then.
"""
from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager

from django.conf import settings
from django.db import DEFAULT_DB_ALIAS, connection, connections
from django.db.migrations.executor import MigrationExecutor
from django.http import HttpRequest, JsonResponse
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_GET
from kombu import Connection

_migrated = False  # once every migration was seen applied, this process need not look again


def _database() -> str:
    try:
        with connection.cursor() as cursor:
            cursor.execute("SELECT 1")
            cursor.fetchone()
    except Exception as exc:  # any driver error means "down"
        return f"error: {type(exc).__name__}"
    return "ok"


def _migrations() -> str:
    global _migrated
    if _migrated:
        return "ok"
    try:
        executor = MigrationExecutor(connections[DEFAULT_DB_ALIAS])
        unapplied = executor.migration_plan(executor.loader.graph.leaf_nodes())
    except Exception as exc:
        return f"error: {type(exc).__name__}"
    if unapplied:
        return f"error: {len(unapplied)} migration(s) not applied"
    _migrated = True
    return "ok"


@contextmanager
def broker_connection() -> Iterator[Connection]:
    """A fresh connection to the configured broker (not one from the pool that may predate an
    outage), given up after one retry; kombu raises transport-specific errors when it is down."""
    with Connection(settings.CELERY_BROKER_URL, transport_options=settings.CELERY_BROKER_TRANSPORT_OPTIONS) as conn:
        conn.ensure_connection(max_retries=1, timeout=2)
        yield conn


def _broker() -> str:
    try:
        with broker_connection():
            pass
    except Exception as exc:  # kombu raises transport-specific errors
        return f"error: {type(exc).__name__}"
    return "ok"


@never_cache
@require_GET
def healthz(request: HttpRequest) -> JsonResponse:
    return JsonResponse({"status": "ok"})


@never_cache
@require_GET
def readyz(request: HttpRequest) -> JsonResponse:
    database = _database()
    checks = {"database": database, "migrations": _migrations() if database == "ok" else "skipped: database down",
              "broker": _broker()}
    ready = all(value == "ok" for value in checks.values())
    return JsonResponse({"status": "ok" if ready else "unavailable", "checks": checks}, status=200 if ready else 503)
