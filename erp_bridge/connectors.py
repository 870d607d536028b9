"""Connectors deliver one outbox event to a destination and say how it went; they never touch the database.

- HttpConnector: POST JSON to the ERP webhook, signed, with the event id as Idempotency-Key.
- FileConnector: append the event as one JSON line to a file (demo, or an ERP that reads files).
"""
from __future__ import annotations

import functools
import json
import os
from dataclasses import dataclass
from email.utils import parsedate_to_datetime
from pathlib import Path
from typing import Protocol

import requests
from django.conf import settings
from django.utils import timezone

from erp_bridge import signing

# 4xx answers that may succeed later: timeout, conflict (e.g. out of order at the ERP), too early, too many requests.
RETRYABLE_4XX = {408, 409, 425, 429}
ERROR_EXCERPT_CHARS = 500


@dataclass(frozen=True)
class DeliveryResult:
    delivered: bool
    permanent: bool = False
    status_code: int | None = None
    error: str = ""
    retry_after: float | None = None


class Connector(Protocol):
    def send(self, envelope: dict) -> DeliveryResult: ...


def classify_status(status_code: int) -> tuple[bool, bool]:
    """(delivered, permanent failure) for an HTTP status."""
    if 200 <= status_code < 300:
        return True, False
    if 400 <= status_code < 500 and status_code not in RETRYABLE_4XX:
        return False, True
    return False, False


def parse_retry_after(value: str | None) -> float | None:
    if not value:
        return None
    value = value.strip()
    if value.isdigit():
        return float(value)
    try:
        return max(0.0, (parsedate_to_datetime(value) - timezone.now()).total_seconds())
    except (TypeError, ValueError):
        return None


class HttpConnector:
    def __init__(self, *, url: str, secret: str, connect_timeout: float, read_timeout: float) -> None:
        self.url = url
        self.secret = secret
        self.timeout = (connect_timeout, read_timeout)
        self.session = requests.Session()

    def send(self, envelope: dict) -> DeliveryResult:
        body = json.dumps(envelope, separators=(",", ":")).encode()
        headers = {
            "Content-Type": "application/json",
            "Idempotency-Key": envelope["id"],
            signing.HEADER: signing.sign(body, secret=self.secret),
        }
        try:
            response = self.session.post(self.url, data=body, headers=headers, timeout=self.timeout)
        except requests.RequestException as exc:
            return DeliveryResult(delivered=False, error=f"{type(exc).__name__}: {exc}"[:ERROR_EXCERPT_CHARS])
        delivered, permanent = classify_status(response.status_code)
        return DeliveryResult(
            delivered=delivered,
            permanent=permanent,
            status_code=response.status_code,
            error="" if delivered else (response.text[:ERROR_EXCERPT_CHARS] or f"HTTP {response.status_code}"),
            retry_after=parse_retry_after(response.headers.get("Retry-After")),
        )


class FileConnector:
    """One JSON line per event in `<dir>/<destination>-events.jsonl`; readers dedupe by `id`."""

    def __init__(self, *, directory: Path, destination: str) -> None:
        self.path = Path(directory) / f"{destination}-events.jsonl"

    def send(self, envelope: dict) -> DeliveryResult:
        line = (json.dumps(envelope, separators=(",", ":")) + "\n").encode()
        try:
            self.path.parent.mkdir(parents=True, exist_ok=True)
            # One write() on an O_APPEND descriptor: lines from several workers never interleave.
            fd = os.open(self.path, os.O_WRONLY | os.O_CREAT | os.O_APPEND, 0o640)
            try:
                os.write(fd, line)
                os.fsync(fd)
            finally:
                os.close(fd)
        except OSError as exc:
            return DeliveryResult(delivered=False, error=f"{type(exc).__name__}: {exc}"[:ERROR_EXCERPT_CHARS])
        return DeliveryResult(delivered=True)


@functools.lru_cache(maxsize=8)
def _http_connector(url: str, secret: str, connect_timeout: float, read_timeout: float) -> HttpConnector:
    # One connector (and its pooled HTTP session) per configuration and process.
    return HttpConnector(url=url, secret=secret, connect_timeout=connect_timeout, read_timeout=read_timeout)


def connector_for(destination: str) -> Connector:
    """The ERP ("erp") and the planning system ("planning") each have a webhook URL, or a file."""
    prefix = {"erp": "ERP", "planning": "PLANNING"}[destination]
    url = getattr(settings, f"{prefix}_WEBHOOK_URL")
    if url:
        return _http_connector(
            url, getattr(settings, f"{prefix}_WEBHOOK_SECRET"), settings.ERP_CONNECT_TIMEOUT, settings.ERP_READ_TIMEOUT
        )
    return FileConnector(directory=settings.ERP_FILE_DIR, destination=destination)
