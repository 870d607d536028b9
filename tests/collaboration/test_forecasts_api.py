"""The forecast API for supplier systems: read forecasts with the previous version, commit with the
'plan' scope; problems with codes; another supplier's forecasts do not exist."""
from __future__ import annotations

from collaboration.models import ExceptionCase, ForecastBucket
from erp_bridge.models import OutboxMessage
from tests.factories import create_forecast


def commit(client, forecast, commitments, version=1):
    return client.post(f"/api/v1/forecasts/{forecast.pk}/commitments", {"version": version, "commitments": commitments},
                       content_type="application/json")


def test_a_supplier_system_reads_its_forecasts_with_the_previous_version(api_client_for, nordwerk, alpenguss):
    create_forecast()
    forecast = create_forecast(version=2, quantities=("450", "400", "300", "300", "200"))
    create_forecast("THEIRS-1", supplier="ALPENGUSS")
    client = api_client_for(nordwerk, scopes=["plan"])
    listed = client.get("/api/v1/forecasts")
    assert listed.status_code == 200 and [f["item"] for f in listed.json()["results"]] == ["BRK-2201"]
    body = client.get(f"/api/v1/forecasts/{forecast.pk}").json()
    assert body["version"] == 2 and len(body["buckets"]) == 5
    assert body["buckets"][0] == {"start": "2027-01-04", "end": "2027-01-10", "period": "week", "zone": "firm",
                                  "quantity": "450.0000", "previous_quantity": "400.0000", "committed_quantity": None,
                                  "commit_reason": ""}
    assert body["buckets"][4]["previous_quantity"] is None


def test_commitments_with_the_plan_scope_reach_planning_and_the_buyer(api_client_for, nordwerk):
    forecast = create_forecast()
    client = api_client_for(nordwerk, scopes=["plan"])
    response = commit(client, forecast, [{"start": "2027-01-04", "quantity": "400"},
                                         {"start": "2027-01-11", "quantity": "320", "reason": "Press 4 overhaul"}])
    assert response.status_code == 200, response.content
    assert [b["committed_quantity"] for b in response.json()["buckets"][:2]] == ["400.0000", "320.0000"]
    assert OutboxMessage.objects.filter(type="forecast.commitment", destination="planning").count() == 1
    assert ExceptionCase.objects.get(kind="forecast_shortfall").details["buckets"][0]["committed"] == "320"


def test_bad_commitments_are_problems_and_change_nothing(api_client_for, nordwerk, alpenguss):
    forecast = create_forecast()
    theirs = create_forecast("THEIRS-1", supplier="ALPENGUSS")
    client = api_client_for(nordwerk, scopes=["read", "plan"])
    above = commit(client, forecast, [{"start": "2027-01-04", "quantity": "999"}])
    assert above.status_code == 400 and above["Content-Type"] == "application/problem+json"
    assert "at most the forecast" in str(above.json()["errors"]["commitments"]["2027-01-04"])
    negative = commit(client, forecast, [{"start": "2027-01-04", "quantity": "-1"}])
    assert negative.status_code == 400
    stale = commit(client, forecast, [{"start": "2027-01-04", "quantity": "400"}], version=7)
    assert stale.status_code == 409 and stale.json()["code"] == "stale_revision"
    other = commit(client, theirs, [{"start": "2027-01-04", "quantity": "400"}])
    assert other.status_code == 404
    read_only = commit(api_client_for(nordwerk, scopes=["read"]), forecast, [{"start": "2027-01-04", "quantity": "400"}])
    assert read_only.status_code == 403
    assert not ForecastBucket.objects.filter(committed_quantity__isnull=False).exists()
    assert not OutboxMessage.objects.filter(type="forecast.commitment").exists()
