"""`manage.py edi_export`: write pending outbound interchanges (ORDERS, ORDCHG, CONTRL) to the mailboxes."""
import json

from django.core.management.base import BaseCommand

from edi.outbound import outbound_path, write_pending


class Command(BaseCommand):
    help = "Write pending outbound EDIFACT interchanges to the partners' outbound mailboxes; one JSON line per file."

    def handle(self, *args, **options):
        for interchange in write_pending():
            self.stdout.write(json.dumps({
                "file": str(outbound_path(interchange)), "partner": interchange.partner.supplier.code if interchange.partner else None,
                "control_ref": interchange.control_ref, "message_types": interchange.message_types,
            }))
