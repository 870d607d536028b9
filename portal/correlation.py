"""The correlation id: one value that follows a piece of work from where it entered (a web or API
request, an EDIFACT interchange, a task) through the audit trail and the outbox event to the ERP
call, so one search in the logs finds every step.

It lives in a context variable; the request middleware, the EDI inbound path, Celery's task
signals and the relay set it, `current()` reads it, and `LogFilter` puts it on every log record.
"""
from __future__ import annotations

import logging
import re
import time
import uuid
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from contextvars import ContextVar, Token

from django.http import HttpRequest, HttpResponse

from portal import request_metrics

HEADER = "X-Correlation-ID"
# A caller may hand its own id in; anything else than a short token is replaced, never logged.
_ACCEPTED = re.compile(r"[A-Za-z0-9][A-Za-z0-9._:-]{0,63}")
_current: ContextVar[str] = ContextVar("correlation_id", default="")
access_log = logging.getLogger("portal.access")


def new_id() -> str:
    return uuid.uuid4().hex


def current() -> str:
    return _current.get()


def accepted(value: str | None) -> str | None:
    """The caller's id if it is one we may carry, else None."""
    return value if value and _ACCEPTED.fullmatch(value) else None


def enter(correlation_id: str | None = None) -> Token:
    """Work under `correlation_id` (a new one if none is given or it is not acceptable) until `leave`."""
    return _current.set(accepted(correlation_id) or new_id())


def leave(token: Token) -> None:
    _current.reset(token)


@contextmanager
def bound(correlation_id: str | None = None) -> Iterator[str]:
    """`enter` ... `leave` around a block, which sees the id in use."""
    token = enter(correlation_id)
    try:
        yield _current.get()
    finally:
        leave(token)


class LogFilter(logging.Filter):
    def filter(self, record: logging.LogRecord) -> bool:
        record.correlation_id = _current.get()
        return True


class CorrelationMiddleware:
    """Takes the caller's X-Correlation-ID (or X-Request-ID) or makes one, answers with it, writes one
    access log line per request and counts the request for /metrics."""

    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        given = accepted(request.headers.get(HEADER)) or accepted(request.headers.get("X-Request-ID"))
        with bound(given) as correlation_id:
            request.correlation_id = correlation_id
            started = time.perf_counter()
            response = self.get_response(request)
            seconds = time.perf_counter() - started
            match = getattr(request, "resolver_match", None)
            view = match.view_name if match else "unmatched"
            request_metrics.count_request(method=request.method, view=view, status=response.status_code, seconds=seconds)
            access_log.info(
                "%s %s %s", request.method, view, response.status_code,
                extra={"method": request.method, "path": request.path, "view": view, "status": response.status_code,
                       "duration_ms": round(seconds * 1000, 1)},
            )
        response[HEADER] = correlation_id
        return response
