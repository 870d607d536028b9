"""Forecasts from the planning system (versions, bucket rules) and the supplier's commitments (full
or lower with a reason, the firm-zone shortfall case, the planning event); bad input changes nothing."""
from __future__ import annotations

from datetime import date
from decimal import Decimal

import pytest

from collaboration import services
from collaboration.actors import Actor
from collaboration.documents import parse_forecast
from collaboration.errors import DocumentContentConflict, InvalidDocument, NotFound, PermissionDenied, StaleRevision, UnknownSupplier
from collaboration.models import AuditEvent, ExceptionCase, Forecast, ForecastBucket
from collaboration.services import CommitmentInput
from erp_bridge.models import OutboxMessage
from tests.factories import MembershipFactory, UserFactory, create_forecast, forecast_document

PLANNING = Actor.system("planning", channel="erp")
WEEK1, WEEK2, WEEK3 = date(2027, 1, 4), date(2027, 1, 11), date(2027, 1, 18)


def record(**kwargs):
    return services.forecast_record(document=parse_forecast(forecast_document(**kwargs)), actor=PLANNING)


@pytest.fixture
def sales(nordwerk_sales):
    return Actor.for_user(nordwerk_sales, channel="portal")


def commit(forecast: Forecast, actor: Actor, *entries, version: int | None = None) -> Forecast:
    return services.forecast_commit(
        supplier_id=forecast.supplier_id, item=forecast.item, ship_to=forecast.ship_to,
        version=version or forecast.version, actor=actor,
        commitments=[CommitmentInput(start, Decimal(quantity), reason) for start, quantity, reason in entries])


def buckets(forecast: Forecast) -> list[ForecastBucket]:
    return list(ForecastBucket.objects.filter(version__forecast=forecast, version__version=forecast.version).order_by("start"))


# --- Versions from the planning system ---------------------------------------------------------

def test_versions_are_kept_a_repeat_is_a_no_op_and_an_older_or_changed_one_is_refused(nordwerk):
    assert record().outcome == "created"
    assert record().outcome == "unchanged"
    assert record(version=2, quantities=("500", "400", "300", "300")).outcome == "updated"
    forecast = Forecast.objects.get()
    assert forecast.version == 2 and forecast.versions.count() == 2
    assert [b.quantity for b in buckets(forecast)] == [500, 400, 300, 300]
    with pytest.raises(StaleRevision):
        record(version=1)
    with pytest.raises(DocumentContentConflict):
        record(version=2, quantities=("1", "2", "3", "4"))
    assert Forecast.objects.get().version == 2 and ForecastBucket.objects.count() == 8
    assert AuditEvent.objects.filter(action="forecast.received").count() == 2


def test_monthly_buckets_end_on_the_last_day_of_their_month(nordwerk):
    result = record(buckets=[{"start": "2027-01-04", "period": "week", "quantity": "10", "zone": "firm"},
                             {"start": "2027-02-01", "period": "month", "quantity": "40", "zone": "planned"},
                             {"start": "2027-03-01", "period": "month", "quantity": "40", "zone": "planned"}])
    assert [(b.start, b.end) for b in buckets(result.forecast)] == [
        (date(2027, 1, 4), date(2027, 1, 10)), (date(2027, 2, 1), date(2027, 2, 28)), (date(2027, 3, 1), date(2027, 3, 31))]


@pytest.mark.parametrize("bad, field, words", [
    ([{"start": "2027-01-11", "period": "week", "quantity": "1", "zone": "firm"},
      {"start": "2027-01-04", "period": "week", "quantity": "1", "zone": "firm"}], "buckets", "go backwards"),
    ([{"start": "2027-01-04", "period": "week", "quantity": "1", "zone": "firm"},
      {"start": "2027-01-08", "period": "week", "quantity": "1", "zone": "firm"}], "buckets", "overlap"),
    ([{"start": "2027-01-04", "period": "week", "quantity": "1", "zone": "planned"},
      {"start": "2027-01-11", "period": "week", "quantity": "1", "zone": "firm"}], "buckets", "firm zone comes first"),
    ([{"start": "2027-01-04", "period": "week", "quantity": "-5", "zone": "firm"}], "buckets", "cannot be negative"),
    ([{"start": "2027-01-15", "period": "month", "quantity": "5", "zone": "firm"}], "buckets", "starts on the 1st"),
    ([{"start": "2027-02-30", "period": "week", "quantity": "5", "zone": "firm"}], "buckets", "valid date"),
    ([], "buckets", "at least 1"),
])
def test_bad_buckets_are_refused_by_field_and_nothing_is_stored(nordwerk, bad, field, words):
    with pytest.raises(InvalidDocument) as refused:
        record(buckets=bad)
    assert field in refused.value.details and words in str(refused.value.details)
    assert not Forecast.objects.exists()


def test_an_unknown_supplier_is_refused(db):
    with pytest.raises(UnknownSupplier):
        record(supplier="NOBODY")


# --- Commitments -------------------------------------------------------------------------------

def test_full_commitment_sends_the_planning_event_and_opens_no_case(nordwerk, sales):
    forecast = create_forecast()
    commit(forecast, sales, (WEEK1, "400", ""), (WEEK2, "400", ""))
    assert [b.committed_quantity for b in buckets(forecast)] == [400, 400, None, None]
    event = OutboxMessage.objects.get(type="forecast.commitment")
    assert event.destination == "planning" and event.aggregate == "FC:NORDWERK:PLANT-1:BRK-2201"
    assert event.payload["version"] == 1 and [b["committed"] for b in event.payload["buckets"]] == ["400", "400"]
    assert event.payload["buckets"][0] == {"start": "2027-01-04", "end": "2027-01-10", "zone": "firm", "forecast": "400",
                                           "committed": "400", "reason": ""}
    assert not ExceptionCase.objects.exists()


def test_a_commitment_below_the_firm_forecast_opens_one_case_a_full_one_closes_it(nordwerk, sales):
    forecast = create_forecast()
    commit(forecast, sales, (WEEK1, "250", "Furnace maintenance in week 1"), (WEEK3, "100", "Planned zone: no case"))
    case = ExceptionCase.objects.get(status="open")
    assert case.kind == "forecast_shortfall" and case.forecast == forecast and case.supplier == nordwerk
    assert case.details["buckets"] == [{"start": "2027-01-04", "forecast": "400", "committed": "250",
                                        "reason": "Furnace maintenance in week 1"}]
    assert "150 PCE less" in case.summary
    commit(forecast, sales, (WEEK2, "300", "Short of castings"))  # a second shortfall replaces the case
    assert ExceptionCase.objects.filter(status="open").count() == 1
    assert len(ExceptionCase.objects.get(status="open").details["buckets"]) == 2
    commit(forecast, sales, (WEEK1, "400", ""), (WEEK2, "400", ""))
    assert not ExceptionCase.objects.filter(status="open").exists()
    assert OutboxMessage.objects.filter(type="forecast.commitment").count() == 3


@pytest.mark.parametrize("entry, words", [
    ((WEEK1, "401", ""), "at most the forecast"),
    ((WEEK1, "-1", "x"), "cannot be negative"),
    ((WEEK1, "300", " "), "Say why"),
    ((date(2027, 1, 5), "1", "x"), "no bucket starting 2027-01-05"),
])
def test_a_bad_commitment_changes_nothing(nordwerk, sales, entry, words):
    forecast = create_forecast()
    with pytest.raises(InvalidDocument) as refused:
        commit(forecast, sales, (WEEK2, "400", ""), entry)
    assert words in str(refused.value.details["commitments"])
    assert all(b.committed_quantity is None for b in buckets(forecast))
    assert not OutboxMessage.objects.filter(type="forecast.commitment").exists() and not ExceptionCase.objects.exists()


def test_a_commitment_to_an_older_version_is_refused(nordwerk, sales):
    forecast = create_forecast()
    record(version=2, quantities=("600", "400", "300", "300"))
    with pytest.raises(StaleRevision, match="now at version 2"):
        commit(forecast, sales, (WEEK1, "400", ""), version=1)
    assert not ForecastBucket.objects.filter(committed_quantity__isnull=False).exists()


def test_only_the_suppliers_sales_and_admin_users_commit_and_only_their_own_forecasts(nordwerk, alpenguss, sales):
    forecast = create_forecast()
    theirs = create_forecast("AL-1", supplier="ALPENGUSS")
    quality = Actor.for_user(MembershipFactory(user=UserFactory(username="qa@nordwerk.example"), supplier=nordwerk,
                                               role="quality").user, channel="portal")
    with pytest.raises(PermissionDenied):
        commit(forecast, quality, (WEEK1, "400", ""))
    with pytest.raises(PermissionDenied):  # another supplier's forecast: not theirs to commit
        commit(theirs, sales, (WEEK1, "400", ""))
    with pytest.raises(NotFound):  # an item the supplier has no forecast for
        services.forecast_commit(supplier_id=nordwerk.pk, item="AL-1", ship_to="PLANT-1", version=1, actor=sales,
                                 commitments=[CommitmentInput(WEEK1, Decimal("1"), "x")])
    assert not ForecastBucket.objects.filter(committed_quantity__isnull=False).exists()
