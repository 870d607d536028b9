"""Import ERP batch files: JSON lines of `{"type": "purchase_order" | "receipt" | "invoice_status" |
"forecast" | "inventory_position", "document": {...}}`, each applied through the same services as the ERP API.

Re-importing a file changes nothing (every document is stored once). A bad line (malformed JSON,
unknown type, a document the service refuses) fails alone and is named as file:line; the others
still import, and the command then exits non-zero.
"""
import json
import os
import stat
from collections import Counter
from dataclasses import dataclass
from pathlib import Path

from django.core.management.base import BaseCommand, CommandError
from tqdm import tqdm

from collaboration import services
from collaboration.actors import Actor
from collaboration.documents import (
    parse_forecast,
    parse_inventory_position,
    parse_invoice_status,
    parse_purchase_order,
    parse_receipt,
)
from collaboration.errors import DomainError
from collaboration.models import Channel

# Consecutive purchase orders (or forecasts) go to their service together: one transaction, bulk writes.
BATCH = 250


@dataclass(frozen=True)
class Line:
    position: int  # of the file on the command line
    file: str
    number: int
    data: bytes

    @property
    def label(self) -> str:
        return f"{self.file}:{self.number}"


class LineError(Exception):
    def __init__(self, code: str, message: str) -> None:
        super().__init__(message)
        self.code, self.message = code, message


class Command(BaseCommand):
    help = "Import ERP batch files (JSON lines of purchase orders, receipts, invoice statuses, forecasts and inventory positions)."

    def add_arguments(self, parser):
        parser.add_argument("files", nargs="+", metavar="FILE", help="A batch file (JSON lines).")
        parser.add_argument("--no-progress", action="store_true", help="Do not show the progress bar.")

    def handle(self, *args, files: list[str], no_progress: bool, **options):
        contents = [(file, _read_regular_file(file)) for file in files]  # refuse before importing anything
        self.counts: Counter[str] = Counter()
        self.failures: list[tuple[int, int, str]] = []  # (file position, line number, text)
        total = sum(len(content.splitlines()) for _, content in contents)
        self.progress = tqdm(total=total, unit="line", disable=no_progress, file=self.stderr._out)
        for position, (file, content) in enumerate(contents):
            self._import(position, file, content)
        self.progress.close()
        for *_, failure in sorted(self.failures):
            self.stderr.write(f"failed {failure}")
        self.stdout.write(
            f"created {self.counts['created']}, updated {self.counts['updated']}, "
            f"unchanged {self.counts['unchanged']}, failed {self.counts['failed']}"
        )
        if self.failures:
            raise CommandError(f"{len(self.failures)} line(s) failed.", returncode=1)

    def _import(self, position: int, file: str, content: bytes) -> None:
        actor = Actor.system(f"erp-batch:{Path(file).name}", channel=Channel.ERP)
        self.pending: list[tuple[Line, object]] = []  # consecutive documents of one batched type
        self.pending_kind = ""
        for number, data in enumerate(content.splitlines(), start=1):
            line = Line(position=position, file=file, number=number, data=data)
            if not data.strip():
                self.progress.update(1)
                continue
            try:
                kind, document = _entry(data)
                if kind in BATCHED:
                    parse, key, _ = BATCHED[kind]
                    parsed = parse(document)
                    if self.pending and (kind != self.pending_kind or len(self.pending) >= BATCH
                                         or any(key(other) == key(parsed) for _, other in self.pending)):
                        self._flush(actor)
                    self.pending_kind = kind
                    self.pending.append((line, parsed))
                    continue
                # A receipt or an invoice status may need an order of an earlier line: store those first.
                self._flush(actor)
                if kind == "receipt":
                    result = services.receipt_record(document=parse_receipt(document), actor=actor)
                elif kind == "inventory_position":
                    result = services.inventory_position_record(document=parse_inventory_position(document), actor=actor)
                else:
                    result = services.invoice_status_record(document=parse_invoice_status(document), actor=actor)
            except (LineError, DomainError) as error:
                self._fail(line, error)
            else:
                self._done(result.outcome)
        self._flush(actor)

    def _flush(self, actor: Actor) -> None:
        """Store the pending run of purchase orders or forecasts together (one transaction, bulk writes)."""
        if not self.pending:
            return
        store = BATCHED[self.pending_kind][2]
        results = store(documents=[document for _, document in self.pending], actor=actor)
        for (line, _), result in zip(self.pending, results):
            if isinstance(result, DomainError):
                self._fail(line, result)
            else:
                self._done(result.outcome)
        self.pending = []

    def _done(self, outcome: str) -> None:
        self.counts[outcome] += 1
        self.progress.update(1)

    def _fail(self, line: Line, error: LineError | DomainError) -> None:
        details = getattr(error, "details", None)
        suffix = " " + json.dumps(details, default=str) if details else ""
        self.failures.append((line.position, line.number, f"{line.label}: {error.code}: {error.message}{suffix}"))
        self.counts["failed"] += 1
        self.progress.update(1)


TYPES = ("purchase_order", "receipt", "invoice_status", "forecast", "inventory_position")
# Types stored in runs: (parse, the key a run may hold once, the batch service).
BATCHED = {
    "purchase_order": (parse_purchase_order, lambda document: document.number, services.purchase_orders_upsert),
    "forecast": (parse_forecast, lambda document: (document.supplier, document.item, document.ship_to),
                 services.forecasts_record),
}


def _entry(data: bytes) -> tuple[str, object]:
    try:
        entry = json.loads(data)
    except (json.JSONDecodeError, UnicodeDecodeError) as error:
        raise LineError("invalid_json", f"Not a JSON object: {error}.") from None
    if not isinstance(entry, dict) or "type" not in entry or "document" not in entry:
        raise LineError("invalid_line", 'Each line must be {"type": ..., "document": {...}}.')
    if entry["type"] not in TYPES:
        raise LineError("unknown_type", f"Unknown type {entry['type']!r}; expected one of {', '.join(TYPES)}.")
    return entry["type"], entry["document"]


def _read_regular_file(file: str) -> bytes:
    """The file's bytes; anything but a regular file (a directory, a FIFO, a device) is refused.
    Checked on the opened descriptor, so the name cannot be swapped in between."""
    try:
        fd = os.open(file, os.O_RDONLY | os.O_NONBLOCK)
    except OSError as error:
        raise CommandError(f"Cannot read {file}: {error.strerror}.") from None
    if not stat.S_ISREG(os.fstat(fd).st_mode):
        os.close(fd)
        raise CommandError(f"{file} is not a regular file.")
    with os.fdopen(fd, "rb") as handle:
        return handle.read()
