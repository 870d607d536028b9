"""Load demo suppliers, users, purchase orders, forecasts and stock (idempotent: running it again changes nothing)."""
import io
import random
from datetime import date, timedelta
from decimal import Decimal

from django.apps import apps
from django.conf import settings
from django.contrib.auth import get_user_model
from django.core.management import call_command
from django.core.management.base import BaseCommand
from django.db import transaction

from collaboration import services
from collaboration.actors import Actor
from collaboration.documents import parse_forecast, parse_inventory_position, parse_purchase_order, parse_receipt, parse_shipment
from collaboration.models import Channel, Forecast, ItemRule, Membership, PurchaseOrder, Receipt, Shipment, Supplier, TolerancePolicy
from collaboration.services import LineResponse
from portal.models import AccountSettings

DEMO_PASSWORD = "portal-demo-2026"
EDI_PARTNER = ("7612345000004", "14")  # Alpenguss's UNB identity (a GLN)
# Code, name, GS1 Company Prefix (for the SSCCs on their labels).
SUPPLIERS = [("NORDWERK", "Nordwerk Metallteile GmbH", "4012345"), ("ALPENGUSS", "Alpenguss AG", "7612345")]
USERS = [
    ("sales@nordwerk.example", "NORDWERK", Membership.Role.SALES),
    ("admin@nordwerk.example", "NORDWERK", Membership.Role.ADMIN),
    ("dock@nordwerk.example", "NORDWERK", Membership.Role.LOGISTICS),
    ("quality@nordwerk.example", "NORDWERK", Membership.Role.QUALITY),
    ("sales@alpenguss.example", "ALPENGUSS", Membership.Role.SALES),
]
BUYER = "buyer@plant.example"
ITEMS = [
    ("BRK-2201", "Brake caliper bracket", "3.85"),
    ("HSG-1040", "Gearbox housing, cast", "48.20"),
    ("SHF-0310", "Drive shaft 310 mm", "12.75"),
    ("BLT-M8-40", "Hex bolt M8x40, zinc flake", "0.09"),
    ("PLT-0077", "Mounting plate, laser cut", "6.40"),
    ("SLV-2290", "Bearing sleeve", "2.15"),
]


BUYER_GROUPS = ["P-10", "P-20", "P-30"]  # the ERP's purchasing groups


def demo_orders(today: date) -> list[dict]:
    rng = random.Random(7001)
    orders = []
    for n in range(24):
        supplier = SUPPLIERS[n % 2][0]
        order_date = today - timedelta(days=40 - n)
        lines = []
        for index in range(rng.randint(1, 5)):
            item, description, price = rng.choice(ITEMS)
            lines.append(
                {
                    "line": (index + 1) * 10,
                    "item": item,
                    "description": description,
                    "quantity": str(rng.choice([50, 100, 250, 400, 1000, 5000])),
                    "uom": "PCE",
                    "unit_price": price,
                    "requested_date": (order_date + timedelta(days=rng.randint(20, 60))).isoformat(),
                }
            )
        orders.append(
            {
                "number": f"PO-{7001 + n}",
                "revision": 1,
                "supplier": supplier,
                "currency": "EUR",
                "order_date": order_date.isoformat(),
                "ship_to": "PLANT-1",
                "buyer": BUYER_GROUPS[n % len(BUYER_GROUPS)],
                "lines": lines,
            }
        )
    # One order changed by the ERP after it was sent: revision 2 with a new quantity on line 10.
    revised = {**orders[-2], "revision": 2, "lines": [dict(line) for line in orders[-2]["lines"]]}
    revised["lines"][0]["quantity"] = str(Decimal(revised["lines"][0]["quantity"]) + 100)
    orders.append(revised)
    return orders


class Command(BaseCommand):
    help = "Create demo suppliers, users (password printed) and purchase orders."

    def add_arguments(self, parser):
        parser.add_argument("--without-orders", action="store_true",
                            help="Suppliers and users only: the orders come from the ERP (e.g. Tryton).")

    def handle(self, *args, **options):
        User = get_user_model()
        with transaction.atomic():
            suppliers = {
                code: Supplier.objects.get_or_create(code=code, defaults={"name": name, "gs1_company_prefix": prefix})[0]
                for code, name, prefix in SUPPLIERS
            }
            for email, code, role in USERS:
                user, created = User.objects.get_or_create(username=email, defaults={"email": email})
                if created:
                    user.set_password(DEMO_PASSWORD)
                    user.save()
                Membership.objects.get_or_create(user=user, supplier=suppliers[code], defaults={"role": role})
            # Alpenguss works in German: its clerk has chosen it on the settings page.
            AccountSettings.objects.get_or_create(user=User.objects.get(username="sales@alpenguss.example"),
                                                  defaults={"language": "de"})
            buyer, created = User.objects.get_or_create(
                username=BUYER, defaults={"email": BUYER, "is_staff": True, "is_superuser": True}
            )
            if created:
                buyer.set_password(DEMO_PASSWORD)
                buyer.save()
            # Nordwerk may deliver up to 5 % more or less and up to 3 days late without asking.
            TolerancePolicy.objects.get_or_create(
                supplier=suppliers["NORDWERK"], item="",
                defaults={"quantity_under_pct": 5, "quantity_over_pct": 5, "days_earlier": 5, "days_later": 3},
            )
            # Bolts ship with their lot; cast housings need a material certificate on every ASN.
            ItemRule.objects.get_or_create(item="BLT-M8-40", defaults={"lot_controlled": True})
            ItemRule.objects.get_or_create(item="HSG-1040", defaults={"required_documents": ["material_certificate"]})
            if apps.is_installed("edi"):
                # Alpenguss trades by EDIFACT: its orders are also written as ORDERS files to its mailbox.
                call_command("edi_partner", "add", "--supplier", "ALPENGUSS", "--edi-id", EDI_PARTNER[0],
                             "--qualifier", EDI_PARTNER[1], stdout=io.StringIO())
            actor = Actor.system("demo-data", channel=Channel.ERP)
            for data in [] if options["without_orders"] else demo_orders(date.today()):
                # The demo's dates move with today; an order already loaded stays as it is.
                current = PurchaseOrder.objects.filter(number=data["number"]).values_list("revision", flat=True).first()
                if current is not None and current >= data["revision"]:
                    continue
                services.purchase_order_upsert(document=parse_purchase_order(data), actor=actor)
                # The demo's orders arrived over the last weeks: each answer fell due a few days after
                # its order date, so the control tower has overdue answers to show.
                PurchaseOrder.objects.filter(number=data["number"], revision=1).update(
                    acknowledgement_due=date.fromisoformat(data["order_date"]) + timedelta(days=settings.ACKNOWLEDGEMENT_LEAD_DAYS))
            if not options["without_orders"]:
                self._acknowledged_and_shipped(suppliers["NORDWERK"])
                self._proposal_for_the_buyer(suppliers["NORDWERK"])
            self._forecasts_and_stock(actor)
        self.stdout.write("Demo logins (password for all: %s):" % DEMO_PASSWORD)
        self.stdout.write("  (the buyer works in /admin/ and /control-tower/; suppliers see their orders, shipments and quality pages)")
        for email, code, role in USERS:
            self.stdout.write(f"  supplier {code:<10} {role:<9} {email}")
        self.stdout.write(f"  buyer (staff, admin)        {BUYER}")
        if apps.is_installed("edi"):
            mailbox = settings.EDI_MAILBOX_ROOT / "ALPENGUSS"
            self.stdout.write(f"EDIFACT partner ALPENGUSS ({EDI_PARTNER[1]}:{EDI_PARTNER[0]}): ORDERS and CONTRL in {mailbox}/out,"
                              f" drop ORDRSP / DESADV / INVOIC files into {mailbox}/in")

    def _forecasts_and_stock(self, actor: Actor) -> None:
        """Two versions of a 12-week forecast per item and ship-to (four weeks firm, then three months
        planned) and the stock at the plant, below its minimum for some items."""
        if Forecast.objects.exists():
            return
        rng = random.Random(7)
        monday = date.today() - timedelta(days=date.today().weekday())
        for index, (item, description, _price) in enumerate(ITEMS):
            supplier = "ALPENGUSS" if item == "HSG-1040" else "NORDWERK"
            weekly = rng.choice([200, 400, 600, 1200])
            last_day = monday + timedelta(weeks=8) - timedelta(days=1)
            first_month = date(last_day.year + last_day.month // 12, last_day.month % 12 + 1, 1)
            for version in (1, 2):
                # Eight weeks, then whole months: the weeks stop short of the first month's 1st.
                weeks = [monday + timedelta(weeks=week) for week in range(8)]
                buckets = [{"start": start.isoformat(), "period": "week", "zone": "firm" if week < 4 else "planned",
                            "quantity": str(weekly + (rng.choice([-1, 0, 1]) * weekly // 10 if version == 2 else 0))}
                           for week, start in enumerate(weeks)]
                month = first_month
                for _ in range(3):
                    buckets.append({"start": month.isoformat(), "period": "month", "zone": "planned",
                                    "quantity": str(weekly * 4 + (weekly // 2 if version == 2 else 0))})
                    month = date(month.year + month.month // 12, month.month % 12 + 1, 1)
                for bucket in buckets[:4]:
                    bucket["zone"] = "firm"
                services.forecast_record(actor=actor, document=parse_forecast({
                    "supplier": supplier, "item": item, "ship_to": "PLANT-1", "version": version, "uom": "PCE",
                    "description": description, "published_on": (monday - timedelta(days=7 * (2 - version))).isoformat(),
                    "buckets": buckets}))
            on_hand = weekly * rng.choice([1, 2, 3]) // (2 if index % 3 == 0 else 1)
            services.inventory_position_record(actor=actor, document=parse_inventory_position({
                "supplier": supplier, "item": item, "site": "PLANT-1", "uom": "PCE",
                "as_of": f"{date.today().isoformat()}T06:00:00Z", "on_hand": str(on_hand),
                "in_transit": str(weekly // 2 if index % 2 else 0), "consignment": str(weekly // 4 if item == "BLT-M8-40" else 0),
                "min_level": str(weekly * 2), "max_level": str(weekly * 6)}))

    def _proposal_for_the_buyer(self, supplier: Supplier) -> None:
        """Nordwerk's second order answered with less quantity, later, on its first line: outside
        tolerance, so an exception case waits for the buyer in the admin and the control tower."""
        po = PurchaseOrder.objects.filter(supplier=supplier).order_by("number")[1:2].first()
        line = po.lines.order_by("line_number").first() if po is not None else None
        if line is None or line.response_status != line.ResponseStatus.OPEN:
            return
        sales = Actor.for_user(get_user_model().objects.get(username="sales@nordwerk.example"), channel=Channel.PORTAL)
        services.acknowledgement_submit(number=po.number, revision=po.revision, actor=sales, responses=[LineResponse(
            line=line.line_number, action="change", quantity=(line.quantity * Decimal("0.8")).quantize(Decimal(1)),
            promised_date=max(line.requested_date, date.today()) + timedelta(days=14),
            reason_text="Casting capacity: 80 % now, the rest with the next order.")])

    def _acknowledged_and_shipped(self, supplier: Supplier) -> None:
        """Nordwerk's first order accepted and part of it on its way: one ASN, a pallet of cartons."""
        po = PurchaseOrder.objects.filter(supplier=supplier).order_by("number").first()
        if po is None or Shipment.objects.filter(supplier=supplier, number="DN-1001").exists():
            return
        sales = Actor.for_user(get_user_model().objects.get(username="sales@nordwerk.example"), channel=Channel.PORTAL)
        if po.is_open_for_acknowledgement:
            services.acknowledgement_accept_remaining(number=po.number, actor=sales)
        line = next((line for line in po.lines.all() if line.response_status == "confirmed"
                     and not ItemRule.objects.filter(item=line.item).exclude(required_documents=[]).exists()), None)
        if line is None:
            return
        half = (line.confirmed_quantity / 2).quantize(Decimal(1))
        lot = {"lot": "L-2026-11"} if ItemRule.objects.filter(item=line.item, lot_controlled=True).exists() else {}
        first = half // 2
        today = date.today()
        services.shipment_submit(actor=sales, document=parse_shipment({
            "number": "DN-1001", "ship_to": po.ship_to, "despatch_date": today.isoformat(),
            "expected_arrival": (today + timedelta(days=2)).isoformat(), "carrier": "DB Schenker",
            "lines": [{"line": 1, "purchase_order": po.number, "order_line": line.line_number, "quantity": str(half), **lot}],
            "packages": [
                {"reference": "P1", "kind": "pallet"},
                {"reference": "C1", "kind": "carton", "parent": "P1", "contents": [{"line": 1, "quantity": str(first)}]},
                {"reference": "C2", "kind": "carton", "parent": "P1",
                 "contents": [{"line": 1, "quantity": str(half - first)}]},
            ],
        }))
        # The ERP has booked it in: the supplier can invoice the shipment.
        if not Receipt.objects.filter(reference="GR-DEMO-1").exists():
            services.receipt_record(actor=Actor.system("demo-data", channel=Channel.ERP), document=parse_receipt({
                "reference": "GR-DEMO-1", "purchase_order": po.number, "received_on": today.isoformat(),
                "lines": [{"line": line.line_number, "quantity": str(half), **lot}]}))
