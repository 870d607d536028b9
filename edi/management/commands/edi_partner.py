"""python manage.py edi_partner add --supplier CODE --edi-id ID --qualifier Q [--mailbox DIR] ..."""
from django.core.management.base import BaseCommand, CommandError

from collaboration.errors import DomainError
from edi.models import MESSAGE_TYPES, TradingPartner
from edi.partners import trading_partner_add


class Command(BaseCommand):
    help = "Add or update a supplier's EDIFACT trading partner (identity, syntax, mailbox), or list them."

    def add_arguments(self, parser):
        actions = parser.add_subparsers(dest="action", required=True)
        add = actions.add_parser("add", help="add or update a partner")
        add.add_argument("--supplier", required=True, help="Supplier code.")
        add.add_argument("--edi-id", required=True, help="The partner's UNB interchange id.")
        add.add_argument("--qualifier", default="", help="Its code qualifier, e.g. 14 (GLN) or ZZZ.")
        add.add_argument("--mailbox", help="Absolute folder; files arrive in DIR/in and are written to DIR/out.")
        add.add_argument("--charset", default="UNOC", choices=TradingPartner.Charset.values)
        add.add_argument("--directory", default="D96A", choices=TradingPartner.Directory.values)
        add.add_argument("--syntax-version", type=int, default=3, choices=[1, 2, 3, 4])
        add.add_argument("--messages", help=f"Comma-separated message types (default all: {','.join(MESSAGE_TYPES)}).")
        actions.add_parser("list", help="list the partners")

    def handle(self, *args, action: str, **options):
        if action == "list":
            for partner in TradingPartner.objects.select_related("supplier"):
                self.stdout.write(f"{partner.supplier.code:<12} {partner.qualifier or '-':<4} {partner.edi_id:<20} "
                                  f"{partner.charset} {partner.directory} in={partner.inbound_dir} out={partner.outbound_dir}")
            return
        try:
            partner, created = trading_partner_add(
                supplier_code=options["supplier"], edi_id=options["edi_id"], qualifier=options["qualifier"],
                mailbox=options["mailbox"], charset=options["charset"], directory=options["directory"],
                syntax_version=options["syntax_version"],
                message_types=[t.strip().upper() for t in options["messages"].split(",")] if options["messages"] else None,
            )
        except DomainError as error:
            details = "; ".join(f"{field}: {' '.join(map(str, messages))}" for field, messages in error.details.items())
            raise CommandError(f"{error.message} {details}".strip()) from None
        self.stdout.write(self.style.SUCCESS(
            f"{'Added' if created else 'Updated'} trading partner {partner}: inbound {partner.inbound_dir}, "
            f"outbound {partner.outbound_dir}."))
