"""Forecasts pushed by the planning system through the ERP API and in batch files: stored once per
version, bad buckets refused with problems by field, nothing half-stored."""
import json

from django.core.management import CommandError, call_command
import pytest

from collaboration.models import Forecast, ForecastBucket
from tests.factories import forecast_document

URL = "/api/v1/erp/suppliers/NORDWERK/forecasts/PLANT-1/BRK-2201"


def put(client, data, url=URL):
    return client.put(url, data=json.dumps(data), content_type="application/json")


def test_a_forecast_version_is_created_then_unchanged_then_updated(erp_client, nordwerk):
    first = put(erp_client, forecast_document())
    assert first.status_code == 201, first.content
    assert first.json() == {"supplier": "NORDWERK", "ship_to": "PLANT-1", "item": "BRK-2201", "version": 1, "outcome": "created"}
    assert put(erp_client, forecast_document()).json()["outcome"] == "unchanged"
    assert put(erp_client, forecast_document(version=2)).json()["outcome"] == "updated"
    older = put(erp_client, forecast_document(version=1))
    assert older.status_code == 409 and older.json()["code"] == "stale_revision"


def test_the_url_names_the_forecast(erp_client, nordwerk):
    other = put(erp_client, forecast_document(item="OTHER-1"))
    assert other.status_code == 400 and "item" in other.json()["errors"]
    document = forecast_document()
    del document["supplier"], document["item"], document["ship_to"]
    assert put(erp_client, document).status_code == 201


def test_overlapping_buckets_get_a_problem_and_store_nothing(erp_client, nordwerk):
    document = forecast_document(buckets=[{"start": "2027-01-04", "period": "week", "quantity": "1", "zone": "firm"},
                                          {"start": "2027-01-06", "period": "week", "quantity": "1", "zone": "firm"}])
    response = put(erp_client, document)
    assert response.status_code == 400 and response["Content-Type"] == "application/problem+json"
    assert "overlap" in json.dumps(response.json()["errors"]["buckets"])
    assert not Forecast.objects.exists()


def test_unknown_supplier_is_422(erp_client, db):
    response = put(erp_client, forecast_document(supplier="NOBODY"), url="/api/v1/erp/suppliers/NOBODY/forecasts/PLANT-1/BRK-2201")
    assert response.status_code == 422 and response.json()["code"] == "unknown_supplier"


def test_a_supplier_token_cannot_push_forecasts(api_client_for, nordwerk):
    client = api_client_for(nordwerk, scopes=["read", "plan"])
    assert put(client, forecast_document()).status_code in (401, 403)
    assert not Forecast.objects.exists()


def test_forecasts_arrive_in_an_erp_batch_file_and_a_bad_line_fails_alone(db, nordwerk, tmp_path):
    lines = [
        {"type": "forecast", "document": forecast_document("BRK-1")},
        {"type": "forecast", "document": forecast_document("BRK-2", quantities=("1", "-2"))},
        {"type": "forecast", "document": forecast_document("BRK-3", firm=0)},
    ]
    path = tmp_path / "forecasts.jsonl"
    path.write_text("\n".join(json.dumps(line) for line in lines) + "\n")
    with pytest.raises(CommandError):
        call_command("import_erp_batch", str(path), "--no-progress")
    assert sorted(Forecast.objects.values_list("item", flat=True)) == ["BRK-1", "BRK-3"]
    assert ForecastBucket.objects.filter(zone="planned").count() == 2 + 4


def test_a_batch_file_may_carry_several_versions_of_a_forecast_and_each_line_succeeds_or_fails_alone(db, nordwerk, tmp_path):
    lines = [
        {"type": "forecast", "document": forecast_document("BRK-1", version=1)},
        {"type": "forecast", "document": forecast_document("BRK-2", version=1)},
        {"type": "forecast", "document": forecast_document("BRK-1", version=2, quantities=("9", "9"))},  # a new run
        {"type": "forecast", "document": forecast_document("BRK-2", version=1, quantities=("1",))},  # conflict
        {"type": "forecast", "document": forecast_document("BRK-3", supplier="NOBODY")},
        {"type": "forecast", "document": forecast_document("BRK-4", version=3)},
    ]
    path = tmp_path / "forecasts.jsonl"
    path.write_text("\n".join(json.dumps(line) for line in lines) + "\n")
    with pytest.raises(CommandError, match="2 line"):
        call_command("import_erp_batch", str(path), "--no-progress")
    assert dict(Forecast.objects.values_list("item", "version")) == {"BRK-1": 2, "BRK-2": 1, "BRK-4": 3}
    assert list(ForecastBucket.objects.filter(version__forecast__item="BRK-1", version__version=2)
                .values_list("quantity", flat=True)) == [9, 9]
    assert ForecastBucket.objects.filter(version__forecast__item="BRK-2").count() == 4  # the first version only
