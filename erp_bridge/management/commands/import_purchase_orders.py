"""Import purchase orders from a JSON file (a list of canonical PO documents) through the upsert service.

Each order is all-or-nothing; a bad order is reported and the others still import.
"""
import json
from collections import Counter

from django.core.management.base import BaseCommand, CommandError
from django.db import transaction
from tqdm import tqdm

from collaboration import services
from collaboration.actors import Actor
from collaboration.documents import parse_purchase_order
from collaboration.errors import DomainError
from collaboration.models import Channel

# Orders committed per database transaction (each order still in its own savepoint).
CHUNK = 200


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
        progress = tqdm(total=len(documents), unit="PO", disable=no_progress, file=self.stderr._out)
        for start in range(0, len(documents), CHUNK):
            with transaction.atomic():
                for index, data in enumerate(documents[start : start + CHUNK], start=start):
                    label = data.get("number") if isinstance(data, dict) else None
                    try:
                        document = parse_purchase_order(data)
                        result = services.purchase_order_upsert(document=document, actor=actor)
                    except DomainError as error:
                        counts["failed"] += 1
                        failures.append(f"#{index + 1} {label or '(no number)'}: {error.message}{_details(error)}")
                    else:
                        counts[result.outcome] += 1
                    progress.update(1)
        progress.close()
        for failure in failures:
            self.stderr.write(f"failed {failure}")
        self.stdout.write(
            f"created {counts['created']}, updated {counts['updated']}, "
            f"unchanged {counts['unchanged']}, failed {counts['failed']}"
        )
        if failures:
            raise CommandError(f"{len(failures)} purchase order(s) failed.", returncode=1)


def _details(error: DomainError) -> str:
    if not error.details:
        return ""
    return " " + json.dumps(error.details, default=str)
