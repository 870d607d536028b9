"""Outbox operations from the command line: `outbox replay` resends dead letters, `outbox status` counts."""
from django.core.management.base import BaseCommand, CommandError
from django.db.models import Count

from erp_bridge.models import OutboxMessage
from erp_bridge.tasks import replay


class Command(BaseCommand):
    help = "Replay dead letters (all, or filtered) or show the outbox's state."

    def add_arguments(self, parser):
        sub = parser.add_subparsers(dest="action", required=True)
        replay_parser = sub.add_parser("replay", help="Resend dead letters: --all, or narrow with the filters.")
        replay_parser.add_argument("--all", action="store_true", help="Every dead letter.")
        replay_parser.add_argument("--id", action="append", default=[], help="A message id (repeatable).")
        replay_parser.add_argument("--type", help="Event type, e.g. acknowledgement.decided.")
        replay_parser.add_argument("--aggregate", help="Purchase order number.")
        replay_parser.add_argument("--destination", help="erp or planning.")
        sub.add_parser("status", help="Messages per destination and status.")

    def handle(self, *args, action: str, **options):
        if action == "status":
            rows = OutboxMessage.objects.values("destination", "status").annotate(n=Count("id")).order_by("destination", "status")
            for row in rows:
                self.stdout.write(f"{row['destination']:<10} {row['status']:<10} {row['n']}")
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
