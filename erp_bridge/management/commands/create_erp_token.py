"""Create an ERP API token and print it once; only its hash is kept."""
from django.core.management.base import BaseCommand, CommandError

from erp_bridge.models import ErpApiToken
from erp_bridge.tokens import erp_token_create


class Command(BaseCommand):
    help = "Create an ERP API token (printed once, stored hashed)."

    def add_arguments(self, parser):
        parser.add_argument("name", help="A name for the ERP system or integration using the token.")

    def handle(self, *args, name: str, **options):
        if ErpApiToken.objects.filter(name=name).exists():
            raise CommandError(f"A token named {name!r} exists already; choose another name or revoke it in the admin.")
        token, raw = erp_token_create(name=name)
        self.stderr.write(f"ERP token {token.name!r} created. Store it now: it cannot be shown again.")
        self.stdout.write(raw)
