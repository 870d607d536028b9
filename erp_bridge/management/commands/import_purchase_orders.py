"""Import purchase orders from a JSON file (a list of canonical PO documents) through the upsert service.

Each order is all-or-nothing; a bad order is reported and the others still import.
"""
import json
from collections import Counter
from collections.abc import Iterator

from django.core.management.base import BaseCommand, CommandError
from tqdm import tqdm

from collaboration import services
from collaboration.actors import Actor
from collaboration.documents import PurchaseOrderDocument, parse_purchase_order
from collaboration.errors import DomainError
from collaboration.models import Channel

# Orders per batch (one transaction); the service writes new orders of a batch in bulk.
BATCH = 250


class Command(BaseCommand):
    help = "Import purchase orders from a JSON file holding a list of canonical PO documents."

    def add_arguments(self, parser):
        parser.add_argument("file", help="Path to the JSON file.")
        parser.add_argument("--no-progress", action="store_true", help="Do not show the progress bar.")

    def handle(self, *args, file: str, no_progress: bool, **options):
        try:
            with open(file, "rb") as handle:
                documents = json.load(handle)
        except OSError as error:
            raise CommandError(f"Cannot read {file}: {error.strerror}.") from None
        except (json.JSONDecodeError, UnicodeDecodeError) as error:
            raise CommandError(f"{file} is not valid JSON: {error}.") from None
        if not isinstance(documents, list):
            raise CommandError(f"{file} must hold a JSON list of purchase orders.")

        actor = Actor.system(f"import:{file}", channel=Channel.ERP)
        counts: Counter[str] = Counter()
        failures: list[str] = []

        def fail(index: int, data, error: DomainError) -> None:
            label = data.get("number") if isinstance(data, dict) else None
            counts["failed"] += 1
            failures.append(f"#{index + 1} {label or '(no number)'}: {error.message}{_details(error)}")

        progress = tqdm(total=len(documents), unit="PO", disable=no_progress, file=self.stderr._out)
        for batch in _batches(documents):
            parsed: list[tuple[int, dict, PurchaseOrderDocument]] = []
            for index, data in batch:
                try:
                    parsed.append((index, data, parse_purchase_order(data)))
                except DomainError as error:
                    fail(index, data, error)
            results = services.purchase_orders_upsert(documents=[doc for _, _, doc in parsed], actor=actor)
            for (index, data, _), result in zip(parsed, results):
                if isinstance(result, DomainError):
                    fail(index, data, result)
                else:
                    counts[result.outcome] += 1
            progress.update(len(batch))
        progress.close()
        for failure in sorted(failures, key=lambda text: int(text[1:].split()[0])):
            self.stderr.write(f"failed {failure}")
        self.stdout.write(
            f"created {counts['created']}, updated {counts['updated']}, "
            f"unchanged {counts['unchanged']}, failed {counts['failed']}"
        )
        if failures:
            raise CommandError(f"{len(failures)} purchase order(s) failed.", returncode=1)


def _batches(documents: list) -> Iterator[list[tuple[int, object]]]:
    """Runs of at most BATCH documents in file order; an order number seen again starts a new run,
    so a file may carry several revisions of one order, applied in order."""
    batch: list[tuple[int, object]] = []
    numbers: set = set()
    for index, data in enumerate(documents):
        number = data.get("number") if isinstance(data, dict) else None
        if len(batch) >= BATCH or (isinstance(number, str) and number in numbers):
            yield batch
            batch, numbers = [], set()
        batch.append((index, data))
        if isinstance(number, str):
            numbers.add(number)
    if batch:
        yield batch


def _details(error: DomainError) -> str:
    if not error.details:
        return ""
    return " " + json.dumps(error.details, default=str)
