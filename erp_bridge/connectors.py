"""Connectors deliver one outbox event to a destination and say how it went; they never touch the database.

- HttpConnector: POST JSON to the ERP webhook, signed, with the event id as Idempotency-Key.
- FileConnector: append the event as one JSON line to a file (demo, or an ERP that reads files).
- PlanningCsvConnector: append commitments and slips as CSV rows, one per committed delivery (the
  planning system's file feed).
"""
from __future__ import annotations

import csv
import fcntl
import functools
import io
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
from portal import correlation
from portal.file_names import path_segment

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


def unreachable(exc: Exception) -> DeliveryResult:
    """A delivery that did not reach the destination (network, disk): retried later."""
    return DeliveryResult(delivered=False, error=f"{type(exc).__name__}: {exc}"[:ERROR_EXCERPT_CHARS])


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
            correlation.HEADER: correlation.current(),
            signing.HEADER: signing.sign(body, secret=self.secret),
        }
        try:
            response = self.session.post(self.url, data=body, headers=headers, timeout=self.timeout)
        except requests.RequestException as exc:
            return unreachable(exc)
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
        self.path = Path(directory) / f"{path_segment(destination, what='The destination')}-events.jsonl"

    def send(self, envelope: dict) -> DeliveryResult:
        line = (json.dumps(envelope, separators=(",", ":")) + "\n").encode()
        try:
            _append(self.path, line)
        except OSError as exc:
            return unreachable(exc)
        return DeliveryResult(delivered=True)


def _append(path: Path, data: bytes, *, header: bytes = b"") -> None:
    """Append in one write() on an O_APPEND descriptor under an exclusive lock, so that records of
    several workers never interleave and the header is written once, to an empty file."""
    path.parent.mkdir(parents=True, exist_ok=True)
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_APPEND, 0o640)
    try:
        fcntl.flock(fd, fcntl.LOCK_EX)
        if header and os.fstat(fd).st_size == 0:
            data = header + data
        os.write(fd, data)
        os.fsync(fd)
    finally:
        os.close(fd)  # releases the lock


class PlanningCsvConnector:
    """CSV files for a planning system that reads files, beside the ERP's:

    - `planning-commitments.csv`: one row per committed delivery of each line of a
      `commitment.decided` or `commitment.slipped` event (a rejected line has one row with no
      commitment); days_late > 0 marks a slip.
    - `planning-forecast-commitments.csv`: one row per committed bucket of a `forecast.commitment`
      event (the version's whole commitment: the latest event for a forecast version wins).

    Readers dedupe by event_id."""

    COLUMNS = ["event_id", "event_type", "occurred_at", "purchase_order", "revision", "supplier", "line", "item",
               "decision", "requested_date", "requested_quantity", "committed_date", "committed_quantity", "days_late"]
    FORECAST_COLUMNS = ["event_id", "occurred_at", "supplier", "item", "ship_to", "version", "uom", "bucket_start",
                        "bucket_end", "zone", "forecast_quantity", "committed_quantity", "reason"]

    def __init__(self, *, directory: Path) -> None:
        self.path = Path(directory) / "planning-commitments.csv"
        self.forecast_path = Path(directory) / "planning-forecast-commitments.csv"

    def send(self, envelope: dict) -> DeliveryResult:
        payload = envelope["payload"]
        if envelope["type"] == "forecast.commitment":
            path, columns, rows = self.forecast_path, self.FORECAST_COLUMNS, self._forecast_rows(envelope)
        elif "lines" in payload:
            path, columns, rows = self.path, self.COLUMNS, self._line_rows(envelope)
        else:
            return DeliveryResult(delivered=False, permanent=True, error=f"{envelope['type']} has no rows for the CSV feed")
        try:
            _append(path, _csv_text(rows).encode(), header=_csv_text([columns]).encode())
        except OSError as exc:
            return unreachable(exc)
        return DeliveryResult(delivered=True)

    @staticmethod
    def _line_rows(envelope: dict) -> list[list]:
        payload = envelope["payload"]
        rows = []
        for line in payload["lines"]:
            base = [envelope["id"], envelope["type"], envelope["occurred_at"], payload["purchase_order"],
                    payload["revision"], payload["supplier"], line["line"], line["item"], line.get("decision", ""),
                    line["requested_date"], line["requested_quantity"]]
            for entry in line["committed"] or [{"date": "", "quantity": ""}]:
                rows.append(base + [entry["date"], entry["quantity"], line["days_late"]])
        return rows

    @staticmethod
    def _forecast_rows(envelope: dict) -> list[list]:
        payload = envelope["payload"]
        base = [envelope["id"], envelope["occurred_at"], payload["supplier"], payload["item"], payload["ship_to"],
                payload["version"], payload["uom"]]
        return [base + [bucket["start"], bucket["end"], bucket["zone"], bucket["forecast"], bucket["committed"], bucket["reason"]]
                for bucket in payload["buckets"]]


def _csv_text(rows: list[list]) -> str:
    buffer = io.StringIO()
    csv.writer(buffer, lineterminator="\n").writerows(rows)
    return buffer.getvalue()


@functools.lru_cache(maxsize=8)
def _http_connector(url: str, secret: str, connect_timeout: float, read_timeout: float) -> HttpConnector:
    # One connector (and its pooled HTTP session) per configuration and process.
    return HttpConnector(url=url, secret=secret, connect_timeout=connect_timeout, read_timeout=read_timeout)


def connector_for(destination: str) -> Connector:
    """The ERP ("erp") is Tryton (TRYTON_URL), a webhook, or a file of JSON lines; the planning
    system ("planning") a webhook or a CSV file."""
    if destination == "erp" and settings.TRYTON_URL:
        from erp_bridge.tryton.sync import TrytonConnector, client

        return TrytonConnector(client())
    prefix = {"erp": "ERP", "planning": "PLANNING"}[destination]
    url = getattr(settings, f"{prefix}_WEBHOOK_URL")
    if url:
        return _http_connector(
            url, getattr(settings, f"{prefix}_WEBHOOK_SECRET"), settings.ERP_CONNECT_TIMEOUT, settings.ERP_READ_TIMEOUT
        )
    if destination == "planning":
        return PlanningCsvConnector(directory=settings.ERP_FILE_DIR)
    return FileConnector(directory=settings.ERP_FILE_DIR, destination=destination)
