"""`manage.py edi_import FILE...`: process EDIFACT files as if they had arrived in a mailbox.

Prints one JSON object per interchange, on its own line. Exit status 0 when every file was
processed (a rejected interchange is a result, not a failure); 2 for a file that cannot be read.
"""
import json
from pathlib import Path

from django.core.management.base import BaseCommand, CommandError

from edi.inbound import receive_file
from edi.outbound import write_pending


class Command(BaseCommand):
    help = "Process EDIFACT files (ORDRSP, DESADV, CONTRL) and print one JSON line per interchange."

    def add_arguments(self, parser):
        parser.add_argument("files", nargs="+", metavar="FILE")

    def handle(self, *args, files, **options):
        unreadable = []
        for name in files:
            path = Path(name)
            try:
                data = path.read_bytes()
            except OSError as error:
                self.stderr.write(f"{name}: cannot be read ({error.strerror or error}).")
                unreadable.append(name)
                continue
            results = receive_file(data, file_name=str(path))
            write_pending()  # the CONTRL answers, so the paths printed exist
            if not results:
                self.stdout.write(json.dumps({"file": str(path), "sender": "", "control_ref": "", "status": "rejected",
                                              "messages": [], "errors": [], "contrl": None}))
            for result in results:
                self.stdout.write(json.dumps({**result.as_json(), "file": str(path)}, ensure_ascii=False))
        if unreadable:
            raise CommandError(f"{len(unreadable)} of {len(files)} files could not be read.", returncode=2)
