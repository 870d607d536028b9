"""Outbox operations from the command line: `outbox replay` resends dead letters, `outbox status` counts,
`outbox batch` / `outbox online` switch a destination between batch files and online delivery, and
`outbox write-batches` writes due batch files now."""
from django.conf import settings
from django.core.management.base import BaseCommand, CommandError
from django.db.models import Count

from collaboration.errors import DomainError
from erp_bridge import batches
from erp_bridge.models import OutboxMessage
from erp_bridge.tasks import replay


class Command(BaseCommand):
    help = "Replay dead letters, show the outbox's state, or switch a destination between batch files and online."

    def add_arguments(self, parser):
        sub = parser.add_subparsers(dest="action", required=True)
        replay_parser = sub.add_parser("replay", help="Resend dead letters: --all, or narrow with the filters.")
        replay_parser.add_argument("--all", action="store_true", help="Every dead letter.")
        replay_parser.add_argument("--id", action="append", default=[], help="A message id (repeatable).")
        replay_parser.add_argument("--type", help="Event type, e.g. acknowledgement.decided.")
        replay_parser.add_argument("--aggregate", help="Purchase order number.")
        replay_parser.add_argument("--destination", help="erp or planning.")
        sub.add_parser("status", help="Messages per destination and status, and each destination's mode.")
        for name, text in [("online", "Switch back to online delivery: the relay sends the pending events."),
                           ("batch", "Switch to batch files: events go to numbered JSON lines files.")]:
            switch_parser = sub.add_parser(name, help=text)
            switch_parser.add_argument("--destination", required=True, help="erp or planning.")
        sub.add_parser("write-batches", help="Write the due batch files now instead of waiting for the beat.")

    def handle(self, *args, action: str, **options):
        if action == "status":
            return self._status()
        if action in ("online", "batch"):
            return self._switch(action, options["destination"])
        if action == "write-batches":
            written = batches.batches_write_due()
            for batch in written:
                self.stdout.write(f"{batch.destination}: {batch.file_name}, {batch.event_count} event(s)")
            self.stdout.write(f"wrote {len(written)} batch file(s)")
            return
        dead = OutboxMessage.objects.filter(status=OutboxMessage.Status.DEAD)
        filters = {key: options[key] for key in ("type", "aggregate", "destination") if options[key]}
        if options["id"]:
            dead = dead.filter(id__in=options["id"])
        dead = dead.filter(**filters)
        if not (options["all"] or options["id"] or filters):
            raise CommandError("Say which dead letters to replay: --all, --id, --type, --aggregate or --destination.")
        ids = replay(dead)
        self.stdout.write(f"replayed {len(ids)} dead letter(s)")

    def _status(self) -> None:
        rows = OutboxMessage.objects.values("destination", "status").annotate(n=Count("id")).order_by("destination", "status")
        for row in rows:
            self.stdout.write(f"{row['destination']:<10} {row['status']:<10} {row['n']}")
        for state in batches.destination_states():
            batch = state.mode == batches.BATCH or state.destination in batches.batch_only()
            mode = "batch files" if batch else "online"
            since = f" since {state.switched_at:%Y-%m-%d %H:%M:%S} ({state.switched_by})" if state.switched_at else ""
            down = f", down since {state.down_since:%Y-%m-%d %H:%M:%S}" if state.down_since else ""
            last = batches.last_batch(state.destination)
            self.stdout.write(f"{state.destination:<10} {mode}{since}{down}"
                              + (f", last batch file {last.file_name}" if last else ""))

    def _switch(self, action: str, destination: str) -> None:
        by = "command line (manage.py outbox)"
        try:
            if action == "batch":
                changed = batches.destination_switch_to_batch(destination=destination, by=by)
            else:
                changed = batches.destination_switch_to_online(destination=destination, by=by)
        except DomainError as error:
            raise CommandError(error.message) from None
        if action == "batch":
            directory = batches.batch_path(destination, 1).parent
            self.stdout.write(f"{destination}: batch files{'' if changed else ' already'}; written every "
                              f"{settings.ERP_BATCH_SECONDS:g} s to {directory} (or now: manage.py outbox write-batches)")
            return
        self.stdout.write(f"{destination}: online{'' if changed else ' already'}; the relay sends the pending events.")
        self.stdout.write(batches.switch_back_note(destination))
