"""Inventory positions from the ERP (counts in time order, bad figures refused) and as suppliers and
buyers read them: days of cover against the forecast, below-minimum highlighted and filtered."""
from __future__ import annotations

import json
from datetime import date
from decimal import Decimal

import pytest
from django.urls import reverse
from django.utils import timezone

from collaboration import services
from collaboration.actors import Actor
from collaboration.documents import parse_inventory_position
from collaboration.errors import DocumentContentConflict, InvalidDocument, StaleRevision, UnknownSupplier
from collaboration.inventory import days_of_cover
from collaboration.models import AuditEvent, InventoryPosition
from tests.factories import create_forecast

ERP = Actor.system("erp", channel="erp")
D = Decimal


def position(**overrides) -> dict:
    return {"supplier": "NORDWERK", "item": "BRK-2201", "site": "PLANT-1", "uom": "PCE", "as_of": "2027-01-04T06:00:00Z",
            "on_hand": "500", "in_transit": "100", "consignment": "50", "min_level": "600", "max_level": "2000", **overrides}


def record(**overrides):
    return services.inventory_position_record(document=parse_inventory_position(position(**overrides)), actor=ERP)


# --- Days of cover -----------------------------------------------------------------------------

WEEK = [(date(2027, 1, 4), date(2027, 1, 10), D(700)), (date(2027, 1, 11), date(2027, 1, 17), D(350))]


@pytest.mark.parametrize("stock, today, days, beyond", [
    (D(700), date(2027, 1, 4), D(7), False),          # exactly the first week
    (D(350), date(2027, 1, 4), D("3.5"), False),      # 100 a day
    (D(800), date(2027, 1, 4), D(9), False),          # the first week, then 50 a day
    (D(400), date(2027, 1, 8), D(5), False),          # from Friday: 300 for the 3 days left of week 1, then 50 a day
    (D(5000), date(2027, 1, 4), D(14), True),         # outlasts the forecast
    (D(0), date(2027, 1, 4), D(0), False),
])
def test_days_of_cover_uses_the_stock_up_day_by_day(stock, today, days, beyond):
    cover = days_of_cover(stock, WEEK, today=today)
    assert (cover.days, cover.beyond_horizon) == (days, beyond)


def test_days_without_demand_between_buckets_count_as_covered():
    buckets = [(date(2027, 1, 4), date(2027, 1, 10), D(70)), (date(2027, 2, 1), date(2027, 2, 28), D(280))]
    assert days_of_cover(D(80), buckets, today=date(2027, 1, 4)).days == D(7 + 21 + 1)  # week 1, the gap, 10 of Feb.


def test_no_forecast_no_cover():
    assert days_of_cover(D(80), [], today=date(2027, 1, 4)).days is None
    assert days_of_cover(D(80), WEEK, today=date(2027, 3, 1)).days is None  # the forecast lies in the past


# --- Counts from the ERP -----------------------------------------------------------------------

def test_counts_replace_each_other_in_time_order(nordwerk):
    assert record().outcome == "created"
    assert record().outcome == "unchanged"
    assert record(as_of="2027-01-04T07:00:00+01:00").outcome == "unchanged"  # the same instant, another zone
    assert record(as_of="2027-01-05T06:00:00Z", on_hand="450").outcome == "updated"
    with pytest.raises(StaleRevision):
        record(as_of="2027-01-04T12:00:00Z", on_hand="1")
    with pytest.raises(DocumentContentConflict):
        record(as_of="2027-01-05T06:00:00Z", on_hand="9")
    stored = InventoryPosition.objects.get()
    assert stored.on_hand == 450 and stored.below_minimum  # 450 + 50 consignment < 600
    assert AuditEvent.objects.filter(action="inventory.counted").count() == 2


@pytest.mark.parametrize("bad, field", [
    ({"on_hand": "-1"}, "on_hand"),
    ({"consignment": "-0.5"}, "consignment"),
    ({"min_level": "100", "max_level": "50"}, "non_field_errors"),
    ({"as_of": "2027-01-04T06:00:00"}, "as_of"),
    ({"uom": ""}, "uom"),
])
def test_bad_figures_are_refused_by_field(nordwerk, bad, field):
    with pytest.raises(InvalidDocument) as refused:
        record(**bad)
    assert field in refused.value.details
    assert not InventoryPosition.objects.exists()


def test_unknown_supplier(db):
    with pytest.raises(UnknownSupplier):
        record(supplier="NOBODY")


def test_the_erp_api_and_batch_files_take_counts(erp_client, nordwerk, tmp_path):
    url = "/api/v1/erp/suppliers/NORDWERK/inventory/PLANT-1/BRK-2201"
    response = erp_client.put(url, data=json.dumps(position()), content_type="application/json")
    assert response.status_code == 201 and response.json()["outcome"] == "created"
    bad = erp_client.put(url, data=json.dumps(position(on_hand="-3")), content_type="application/json")
    assert bad.status_code == 400 and "on_hand" in bad.json()["errors"]
    from django.core.management import call_command

    batch = tmp_path / "stock.jsonl"
    batch.write_text(json.dumps({"type": "inventory_position", "document": position(item="BRK-9", on_hand="7")}) + "\n")
    call_command("import_erp_batch", str(batch), "--no-progress")
    assert InventoryPosition.objects.get(item="BRK-9").on_hand == 7


# --- The page and the API ----------------------------------------------------------------------

@pytest.fixture
def stock(nordwerk, alpenguss):
    create_forecast(start=timezone.localdate(), quantities=("700", "350"))
    record()                                                    # 650 at 100 a day lasts 6.5 days; below minimum
    record(item="BRK-2202", on_hand="900", consignment="0")     # no forecast
    record(supplier="ALPENGUSS", item="AL-1", on_hand="1")      # another supplier's


def test_the_page_shows_cover_and_highlights_positions_below_minimum(stock, nordwerk_sales, client):
    client.force_login(nordwerk_sales)
    text = client.get(reverse("collaboration:inventory-list")).content.decode()
    assert "AL-1" not in text and "2 positions" in text
    low = text[text.index('data-testid="position-BRK-2201-PLANT-1"'):text.index('data-testid="position-BRK-2202-PLANT-1"')]
    assert 'class="below-minimum"' in low and "below minimum" in low and "<td class=\"num\">6.5</td>" in low
    assert "no forecast" in text[text.index('data-testid="position-BRK-2202-PLANT-1"'):]
    only_low = client.get(reverse("collaboration:inventory-list"), {"below": "1"}).content.decode()
    assert "BRK-2201" in only_low and "BRK-2202" not in only_low


def test_a_buyer_sees_every_suppliers_positions(stock, admin_user, client):
    client.force_login(admin_user)
    text = client.get(reverse("collaboration:inventory-list"), {"below": "1"}).content.decode()
    assert "AL-1" in text and "ALPENGUSS" in text and "BRK-2201" in text


def test_the_supplier_api_lists_positions_with_cover(stock, api_client_for, nordwerk):
    body = api_client_for(nordwerk, scopes=["plan"]).get("/api/v1/inventory").json()
    by_item = {row["item"]: row for row in body["results"]}
    assert set(by_item) == {"BRK-2201", "BRK-2202"}
    assert by_item["BRK-2201"]["days_of_cover"] == "6.5" and by_item["BRK-2201"]["below_minimum"] is True
    assert by_item["BRK-2202"]["days_of_cover"] is None
