"""The forecast pages: the overview (change against the previous version, commitment state, a fixed
number of queries), one forecast (waterfall, chart, commitment form with errors by period), the
download; a buyer sees every supplier's."""
from __future__ import annotations

import csv
import io

from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse
from openpyxl import load_workbook

from collaboration.models import ExceptionCase, Forecast, ForecastBucket
from portal.models import AccountSettings
from tests.factories import create_forecast

LIST = reverse("collaboration:forecast-list")


def detail_url(forecast: Forecast) -> str:
    return reverse("collaboration:forecast-detail", args=[forecast.pk])


def test_the_overview_shows_the_change_against_the_previous_version_and_the_commitment(nordwerk, nordwerk_sales, client):
    create_forecast("BRK-1")
    create_forecast("BRK-1", version=2, quantities=("500", "400", "300", "300"))
    create_forecast("BRK-2", quantities=("10", "10"))
    client.force_login(nordwerk_sales)
    text = client.get(LIST).content.decode()
    assert "2 forecasts" in text
    row = text[text.index('data-testid="forecast-BRK-1"'):text.index('data-testid="forecast-BRK-2"')]
    assert '<span class="diff up">+100</span>' in row and "900 PCE" in row and "1500 PCE" in row  # firm 500+400, total
    assert "not committed" in row
    assert "first version" in text[text.index('data-testid="forecast-BRK-2"'):]


def test_the_overview_costs_the_same_queries_for_3_or_30_items(nordwerk, nordwerk_sales, client):
    client.force_login(nordwerk_sales)
    for index in range(3):
        create_forecast(f"ITEM-{index:02}")
        create_forecast(f"ITEM-{index:02}", version=2)
    with CaptureQueriesContext(connection) as few:
        client.get(LIST)
    for index in range(3, 30):
        create_forecast(f"ITEM-{index:02}")
        create_forecast(f"ITEM-{index:02}", version=2)
    with CaptureQueriesContext(connection) as many:
        assert "30 forecasts" in client.get(LIST).content.decode()
    assert len(many) == len(few)


def test_the_forecast_page_shows_the_waterfall_and_the_chart(nordwerk, nordwerk_sales, client):
    forecast = create_forecast()
    create_forecast(version=2, quantities=("400", "350", "300", "320", "100"))
    client.force_login(nordwerk_sales)
    text = client.get(detail_url(forecast)).content.decode()
    waterfall = text[text.index('class="data compact waterfall"'):]
    assert '<td class="num down">350' in waterfall and '<td class="num up">320' in waterfall
    assert waterfall.count("<tr><th scope=\"row\">") == 2  # versions 2 and 1
    assert '<svg viewBox' in text and "previous version" in text and "firm" in text


def test_committing_less_in_the_firm_zone_needs_a_reason_then_opens_a_case(nordwerk, nordwerk_sales, client):
    forecast = create_forecast()
    client.force_login(nordwerk_sales)
    refused = client.post(detail_url(forecast), {"version": "1", "commit-2027-01-04": "300", "reason-2027-01-04": "",
                                                 "commit-2027-01-11": "abc"})
    assert refused.status_code == 400
    text = refused.content.decode()
    assert "Enter a number." in text and 'value="300"' in text  # what was typed stays
    assert not ForecastBucket.objects.filter(committed_quantity__isnull=False).exists()
    refused = client.post(detail_url(forecast), {"version": "1", "commit-2027-01-04": "300"})
    assert refused.status_code == 400 and "Say why you commit less" in refused.content.decode()
    done = client.post(detail_url(forecast), {"version": "1", "commit-2027-01-04": "300",
                                              "reason-2027-01-04": "Die repair"}, follow=True)
    assert "Your commitment is stored" in done.content.decode()
    assert ExceptionCase.objects.get(kind="forecast_shortfall").details["buckets"][0]["reason"] == "Die repair"
    assert "100 PCE short in the firm zone" in client.get(LIST).content.decode()


def test_commit_every_period_in_full_and_a_stale_version_is_refused(nordwerk, nordwerk_sales, client):
    forecast = create_forecast()
    client.force_login(nordwerk_sales)
    create_forecast(version=2, quantities=("1", "2", "3", "4"))
    stale = client.post(detail_url(forecast), {"version": "1", "action": "full"})
    assert stale.status_code == 409 and "now at version 2" in stale.content.decode()
    client.post(detail_url(forecast), {"version": "2", "action": "full"})
    assert list(ForecastBucket.objects.filter(version__version=2).order_by("start")
                .values_list("committed_quantity", flat=True)) == [1, 2, 3, 4]


def test_a_german_user_types_a_decimal_comma(nordwerk, nordwerk_sales, client):
    forecast = create_forecast(quantities=("400.5", "400"))
    AccountSettings.objects.create(user=nordwerk_sales, language="de")
    client.force_login(nordwerk_sales)
    client.post(detail_url(forecast), {"version": "1", "commit-2027-01-04": "400,5"})
    assert ForecastBucket.objects.get(start="2027-01-04").committed_quantity == ForecastBucket.objects.get(start="2027-01-04").quantity


def test_the_download_has_one_row_per_period_with_the_previous_version(nordwerk, nordwerk_sales, client):
    create_forecast()
    create_forecast(version=2, quantities=("450", "400", "300", "300"))
    client.force_login(nordwerk_sales)
    rows = list(csv.DictReader(io.StringIO(client.get(reverse("collaboration:forecast-download", args=["csv"]))
                                           .content.decode("utf-8-sig"))))
    assert len(rows) == 4
    assert {k: rows[0][k] for k in ("Item", "Version", "Start", "End", "Zone", "Quantity", "Previous version", "Change")} == {
        "Item": "BRK-2201", "Version": "2", "Start": "2027-01-04", "End": "2027-01-10", "Zone": "firm", "Quantity": "450",
        "Previous version": "400", "Change": "50"}
    workbook = load_workbook(io.BytesIO(client.get(reverse("collaboration:forecast-download", args=["xlsx"])).content))
    assert workbook.active.max_row == 5 and workbook.active["B2"].value == "BRK-2201"


def test_a_supplier_sees_only_its_own_forecasts_and_a_buyer_sees_all(nordwerk, alpenguss, nordwerk_sales, admin_user, client):
    create_forecast("OURS-1")
    theirs = create_forecast("THEIRS-1", supplier="ALPENGUSS")
    client.force_login(nordwerk_sales)
    text = client.get(LIST).content.decode()
    assert "OURS-1" in text and "THEIRS-1" not in text
    assert client.get(detail_url(theirs)).status_code == 404
    client.force_login(admin_user)
    text = client.get(LIST).content.decode()
    assert "OURS-1" in text and "THEIRS-1" in text and "ALPENGUSS" in text
    page = client.get(detail_url(theirs)).content.decode()
    assert "THEIRS-1" in page and 'name="commit-' not in page  # buyers read; suppliers commit
