"""Property-based fuzzing of the JSON APIs from their own OpenAPI schema (schemathesis):
whatever an authenticated client sends, the answer is never a server error."""
import pytest
import schemathesis
from hypothesis import HealthCheck, settings

from portal.wsgi import application
from tests.support.fuzzing import examples

schema = schemathesis.openapi.from_wsgi("/api/schema/", application)


@pytest.fixture
def in_process_requests():
    """Calls go straight to the WSGI app, not through Django's test client: like the client,
    keep Django from closing the test's database connection at the end of each request."""
    from django.core import signals
    from django.db import close_old_connections

    signals.request_started.disconnect(close_old_connections)
    signals.request_finished.disconnect(close_old_connections)
    yield
    signals.request_started.connect(close_old_connections)
    signals.request_finished.connect(close_old_connections)


@pytest.fixture
def fuzz_credentials(db, in_process_requests, nordwerk, nordwerk_sales, django_user_model):
    from collaboration import services
    from collaboration.actors import Actor
    from collaboration.models import Membership
    from erp_bridge.tokens import erp_token_create
    from tests.factories import create_forecast, create_purchase_order

    Membership.objects.filter(user=nordwerk_sales).update(role="admin")
    nordwerk_sales.refresh_from_db()
    _, supplier_token = services.api_token_create(
        supplier=nordwerk, name="fuzz", scopes=["read", "acknowledge", "ship", "quality", "plan", "invoice"], expires_at=None,
        actor=Actor.for_user(nordwerk_sales, channel="portal"),
    )
    _, erp_token = erp_token_create(name="fuzz-erp")
    for number in ("PO-1", "PO-2"):
        create_purchase_order(number, supplier=nordwerk, line_count=2)
    create_forecast()  # the first forecast: id 1 on a fresh database, which the fuzzer tries often
    return {"supplier": supplier_token, "erp": erp_token}


@schema.parametrize()
@settings(max_examples=examples(25), deadline=None, suppress_health_check=list(HealthCheck))
def test_api_never_answers_with_a_server_error(case, fuzz_credentials, settings):
    settings.API_THROTTLE_RATE = "100000/min"
    token = fuzz_credentials["erp"] if "/erp/" in case.path else fuzz_credentials["supplier"]
    response = case.call(headers={"Authorization": f"Bearer {token}"})
    assert response.status_code < 500, response.text[:500]
    case.validate_response(response, checks=[schemathesis.checks.not_a_server_error])
