"""`manage.py reconcile [--po NUMBER ...] [--fail-on-drift]`: compare the portal with the ERP now."""
from django.core.management.base import BaseCommand, CommandError

from erp_bridge.models import Drift
from erp_bridge.reconcile import reconcile


class Command(BaseCommand):
    help = "Compare purchase orders with the ERP (Tryton) and list what differs; nothing is overwritten."

    def add_arguments(self, parser):
        parser.add_argument("--po", action="append", dest="numbers", metavar="NUMBER", help="Only this order (repeatable).")
        parser.add_argument("--fail-on-drift", action="store_true", help="Exit with status 1 if anything differs.")

    def handle(self, *args, numbers=None, fail_on_drift=False, **options):
        try:
            report = reconcile(numbers=numbers)
        except RuntimeError as error:
            raise CommandError(str(error)) from None
        for difference in report.differences:
            self.stdout.write(
                f"{difference.purchase_order} line {difference.line or '-'} {difference.field}: "
                f"portal {difference.portal_value} / ERP {difference.erp_value}"
            )
        if report.skipped:
            self.stdout.write(f"skipped while updates are in flight: {', '.join(report.skipped)}")
        self.stdout.write(str(report))
        open_count = Drift.objects.filter(status=Drift.Status.OPEN).count()
        self.stdout.write(f"{open_count} open drift(s) in the admin.")
        if fail_on_drift and report.differences:
            raise CommandError(f"{len(report.differences)} difference(s) with the ERP.")
