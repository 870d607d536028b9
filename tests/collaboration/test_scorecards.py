"""Supplier scorecards: each measure on a hand-computed example, the period's edges, who sees which
supplier, the CSV export and the query count."""
from __future__ import annotations

import csv
import io
from datetime import date, datetime, time, timedelta
from decimal import Decimal

import pytest
from django.urls import reverse
from django.utils import timezone

from collaboration import scorecards, services
from collaboration.actors import Actor
from collaboration.documents import parse_receipt
from collaboration.models import (
    Acknowledgement,
    AcknowledgementLine,
    PurchaseOrder,
    PurchaseOrderLine,
    QualityIncident,
    Receipt,
    Shipment,
)
from tests.factories import MembershipFactory, SupplierFactory, UserFactory

START, END = date(2026, 9, 1), date(2026, 9, 30)
TODAY = date(2026, 10, 15)
ERP = Actor.system("erp-test", channel="erp")


def at(day: date, hour: int = 10) -> datetime:
    return datetime.combine(day, time(hour), tzinfo=timezone.get_current_timezone())


class Book:
    """Writes the rows a supplier's period consists of, with the dates the measures look at."""

    def __init__(self, supplier):
        self.supplier = supplier
        self.count = 0

    def order(self, *, status="acknowledged", due=None) -> PurchaseOrder:
        self.count += 1
        return PurchaseOrder.objects.create(
            number=f"{self.supplier.code}-{self.count}", supplier=self.supplier, revision=1, currency="EUR",
            order_date=START - timedelta(days=30), ship_to="PLANT-1", status=status, content_hash="x", acknowledgement_due=due)

    def line(self, po, number=10, *, quantity="100", confirmed_quantity=None, requested=date(2026, 9, 10), confirmed_date=None):
        return PurchaseOrderLine.objects.create(
            purchase_order=po, line_number=number, item="BRK-1", quantity=Decimal(quantity), uom="PCE", unit_price=1,
            requested_date=requested, changed_in_revision=1, confirmed_date=confirmed_date,
            confirmed_quantity=Decimal(confirmed_quantity) if confirmed_quantity else None)

    def answer(self, *, submitted: date, due: date | None, decisions=("auto_accepted",)) -> Acknowledgement:
        po = self.order(due=due)
        ack = Acknowledgement.objects.create(purchase_order=po, revision=1, status="decided", channel="portal",
                                             submitted_at=at(submitted), due_on=due)
        for n, decision in enumerate(decisions, start=1):
            AcknowledgementLine.objects.create(acknowledgement=ack, order_line=self.line(po, n * 10), action="accept",
                                               quantity=100, unit_price=1, promised_date=START, decision=decision)
        return ack

    def receive(self, line, quantity: str, on: date) -> Receipt:
        """Through the ERP's receipt service, which keeps each line's running total."""
        self.count += 1
        return services.receipt_record(actor=ERP, document=parse_receipt({
            "reference": f"GR-{self.supplier.code}-{self.count}", "purchase_order": line.purchase_order.number,
            "received_on": on.isoformat(), "lines": [{"line": line.line_number, "quantity": quantity}]})).obj

    def shipment(self, *, despatched: date, receipt_status: str, status="submitted"):
        self.count += 1
        return Shipment.objects.create(supplier=self.supplier, number=f"ASN-{self.count}", status=status, ship_to="PLANT-1",
                                       despatch_date=despatched, expected_arrival=despatched + timedelta(days=2),
                                       receipt_status=receipt_status)

    def incident(self, opened: date):
        self.count += 1
        made = QualityIncident.objects.create(reference=f"QI-{self.supplier.code}-{self.count}", supplier=self.supplier,
                                              item="BRK-1", quantity_on_hold=1, description="x", opened_channel="admin")
        QualityIncident.objects.filter(pk=made.pk).update(opened_at=at(opened))


@pytest.fixture
def alpha(db):
    supplier = SupplierFactory(code="ALPHA", name="Alpha Castings")
    book = Book(supplier)
    # Acknowledgements: 3 on time (one on its due day), 1 late, 1 outside the period; one order whose
    # answer fell due in the period and never came, one due only after the period (not counted).
    book.answer(submitted=date(2026, 9, 2), due=date(2026, 9, 3), decisions=("auto_accepted", "auto_accepted", "pending"))
    book.answer(submitted=date(2026, 9, 5), due=date(2026, 9, 5), decisions=("auto_accepted", "approved", "superseded"))
    book.answer(submitted=date(2026, 9, 30), due=date(2026, 10, 2), decisions=("auto_accepted", "declined", "superseded"))
    book.answer(submitted=date(2026, 9, 12), due=date(2026, 9, 9), decisions=("auto_accepted",))
    book.answer(submitted=date(2026, 8, 31), due=date(2026, 8, 29), decisions=("declined", "declined"))
    book.order(status="awaiting_acknowledgement", due=date(2026, 9, 20))
    book.order(status="awaiting_acknowledgement", due=date(2026, 10, 20))
    # Receipts: lines due 10 Sep (requested) or confirmed otherwise.
    po = book.order()
    exact = book.line(po, 10, quantity="100")
    split = book.line(po, 20, quantity="200", confirmed_quantity="250", confirmed_date=date(2026, 9, 20))
    short = book.line(po, 30, quantity="300")
    book.receive(exact, "60", date(2026, 9, 8))   # on time
    book.receive(exact, "40", date(2026, 9, 10))  # on time (its day) -> 100 of 100: exact
    book.receive(split, "250", date(2026, 9, 21))  # a day late -> 250 of 250 confirmed: exact
    book.receive(short, "310", date(2026, 9, 15))  # late; 310 ...
    book.receive(short, "-10", date(2026, 9, 16))  # ... less a return of 10 = 300: exact, not a delivery line
    early = book.line(po, 40, quantity="50")
    book.receive(early, "50", date(2026, 8, 20))   # outside the period
    over = book.line(po, 50, quantity="100")
    book.receive(over, "90", date(2026, 9, 9))     # on time, 90 of 100 ...
    book.receive(over, "20", date(2026, 10, 3))    # ... the rest after the period does not count
    # ASNs despatched in the period: 2 received as announced, 1 with differences, 1 not received yet.
    book.shipment(despatched=date(2026, 9, 1), receipt_status="received")
    book.shipment(despatched=date(2026, 9, 30), receipt_status="received")
    book.shipment(despatched=date(2026, 9, 14), receipt_status="differences")
    book.shipment(despatched=date(2026, 9, 28), receipt_status="not_received")
    book.shipment(despatched=date(2026, 8, 28), receipt_status="differences")
    book.shipment(despatched=date(2026, 9, 3), receipt_status="received", status="cancelled")
    book.incident(date(2026, 9, 3))
    book.incident(date(2026, 9, 30))
    book.incident(date(2026, 10, 1))
    return supplier


@pytest.fixture
def beta(db):
    supplier = SupplierFactory(code="BETA", name="Beta Forge")
    book = Book(supplier)
    book.answer(submitted=date(2026, 9, 20), due=date(2026, 9, 10), decisions=("pending",))
    book.shipment(despatched=date(2026, 9, 2), receipt_status="differences")
    return supplier


def test_each_measure_matches_the_hand_computed_figures(alpha, beta):
    [card] = scorecards.scorecards(start=START, end=END, suppliers=[alpha], today=TODAY)
    # On time: answers on 2 Sep, 5 Sep, 30 Sep by their due dates; 12 Sep late; the missing answer
    # due 20 Sep late: 3 of 5.
    assert card.acknowledgement_on_time == scorecards.Rate(3, 5) and card.acknowledgement_on_time.percent == Decimal("60.0")
    # Accuracy: lines of the four answers in the period without the superseded: 5 auto of 8.
    assert card.acknowledgement_accuracy == scorecards.Rate(5, 8) and card.acknowledgement_accuracy.percent == Decimal("62.5")
    # Delivery: positive receipt lines in the period: 60, 40 and 90 on time; 250 and 310 late.
    assert card.on_time_delivery == scorecards.Rate(3, 5) and card.on_time_delivery.percent == Decimal("60.0")
    # Quantity: lines 10, 20, 30 exact; line 50 has 90 of 100 by the end of the period.
    assert card.quantity_accuracy == scorecards.Rate(3, 4) and card.quantity_accuracy.percent == Decimal("75.0")
    assert card.asn_accuracy == scorecards.Rate(2, 3) and card.asn_accuracy.percent == Decimal("66.7")
    # Incidents: 2 in the period over 60 + 40 + 250 + 310 + 90 = 750 units.
    assert (card.incidents, card.units_received) == (2, Decimal(750))
    assert card.incidents_per_thousand == Decimal("2.67")


def test_suppliers_are_measured_apart_and_empty_measures_have_no_rate(alpha, beta):
    cards = scorecards.scorecards(start=START, end=END, suppliers=[alpha, beta], today=TODAY)
    assert [card.supplier.code for card in cards] == ["ALPHA", "BETA"]
    beta_card = cards[1]
    assert beta_card.acknowledgement_on_time == scorecards.Rate(0, 1)
    assert beta_card.acknowledgement_accuracy == scorecards.Rate(0, 1)
    assert beta_card.asn_accuracy == scorecards.Rate(0, 1)
    assert beta_card.on_time_delivery.percent is None and beta_card.incidents_per_thousand is None


def test_a_supplier_sees_its_own_scorecard_only(client, alpha, beta):
    user = UserFactory(username="sales@alpha.example")
    MembershipFactory(user=user, supplier=alpha, role="sales")
    client.force_login(user)
    response = client.get(reverse("collaboration:scorecards"), {"start": "2026-09-01", "end": "2026-09-30"})
    assert response.status_code == 200
    assert [card.supplier.code for card in response.context["cards"]] == ["ALPHA"]
    assert "BETA" not in response.content.decode()
    assert client.get(reverse("collaboration:scorecards"), {"supplier": "BETA"}).status_code == 404


def test_a_buyer_sees_every_supplier_and_downloads_the_csv(client, alpha, beta):
    client.force_login(UserFactory(username="buyer", is_staff=True))
    response = client.get(reverse("collaboration:scorecards"), {"start": "2026-09-01", "end": "2026-09-30", "format": "csv"})
    assert response.status_code == 200 and response["Content-Type"].startswith("text/csv")
    assert 'filename="scorecards-20260901-20260930.csv"' in response["Content-Disposition"]
    rows = list(csv.DictReader(io.StringIO(response.content.decode())))
    assert [row["supplier"] for row in rows] == ["ALPHA", "BETA"]
    alpha_row = rows[0]
    assert (alpha_row["acknowledgement_on_time_pct"], alpha_row["acknowledgements_on_time"], alpha_row["acknowledgements_due"]) == ("60.0", "3", "5")
    assert (alpha_row["quantity_accuracy_pct"], alpha_row["asn_accuracy_pct"], alpha_row["incidents_per_1000_units"]) == ("75.0", "66.7", "2.67")
    assert rows[1]["on_time_delivery_pct"] == ""  # no receipts: no rate, not 0
    page = client.get(reverse("collaboration:scorecards"), {"supplier": "BETA", "days": "365"})
    assert [card.supplier.code for card in page.context["cards"]] == ["BETA"]


def test_a_wrong_period_is_explained_and_the_default_shown(client, alpha):
    client.force_login(UserFactory(username="buyer", is_staff=True))
    for params, message in (({"start": "2026-09-30", "end": "2026-09-01"}, "ends before it starts"),
                            ({"start": "yesterday", "end": "2026-09-01"}, "YYYY-MM-DD"),
                            ({"start": "2020-01-01", "end": "2026-09-01"}, "at most three years")):
        response = client.get(reverse("collaboration:scorecards"), params)
        assert response.status_code == 200 and message in response.context["error"]
        assert (response.context["end"] - response.context["start"]).days == 89


def test_the_scorecard_query_count_does_not_grow_with_suppliers_or_data(client, alpha, beta, django_assert_num_queries):
    client.force_login(UserFactory(username="buyer", is_staff=True))
    for n in range(5):
        Book(SupplierFactory()).answer(submitted=date(2026, 9, 3), due=date(2026, 9, 4), decisions=("auto_accepted", "pending"))
    # session, user, memberships, the suppliers (shown and in the picker), then 7 grouped queries for
    # all of them and one look for receipts after the period
    with django_assert_num_queries(12):
        client.get(reverse("collaboration:scorecards"), {"start": "2026-09-01", "end": "2026-09-30"})


def test_a_period_up_to_today_reads_each_lines_running_total(alpha):
    # Up to 15 October line 50 has 90 + 20 = 110 of 100: still not exact; nothing lies after the period.
    [card] = scorecards.scorecards(start=START, end=TODAY, suppliers=[alpha], today=TODAY)
    assert card.quantity_accuracy == scorecards.Rate(3, 4)
    assert card.on_time_delivery == scorecards.Rate(3, 6)  # the 20 on 3 October was late too
