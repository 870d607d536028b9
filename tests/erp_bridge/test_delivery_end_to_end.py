"""End to end on real components: portal accept -> PostgreSQL outbox -> Redis -> Celery worker -> signed POST
to a loopback ERP receiver that verifies the signature and applies each event once."""
import json

import pytest
from django.urls import reverse

from erp_bridge.models import OutboxMessage
from tests.factories import create_purchase_order
from tests.support.celery_worker import celery_worker, wait_until
from tests.support.erp_receiver import Scripted

pytestmark = pytest.mark.services


def accept_all(client, number: str, *, revision: int, **headers):
    url = reverse("collaboration:acknowledgement-submit", args=[number])
    return client.post(url, {"revision": revision, "accept_remaining": "1"}, headers=headers)


def test_accepted_orders_reach_the_erp_once_signed_and_in_order(
    transactional_db, postgres, redis_broker, erp_receiver, client, nordwerk, nordwerk_sales, tmp_path
):
    for number in ("PO-1", "PO-2", "PO-3"):
        create_purchase_order(number, supplier=nordwerk)
    # The ERP is briefly unavailable: the first delivery fails and must be retried, not lost.
    erp_receiver.fail_next(Scripted(503, body="ERP restarting"))
    worker_env = {
        "ERP_WEBHOOK_URL": erp_receiver.url,
        "ERP_WEBHOOK_SECRET": erp_receiver.secret,
        "ERP_RETRY_BASE_SECONDS": "0.5",
        "OUTBOX_SWEEP_SECONDS": "1",
    }
    client.force_login(nordwerk_sales)
    with celery_worker(tmp_path=tmp_path, env=worker_env, concurrency=2, beat=True) as worker:
        for number in ("PO-1", "PO-2", "PO-3"):
            response = accept_all(client, number, revision=1, x_correlation_id=f"trace-{number}")
            assert response.status_code == 302 and response["X-Correlation-ID"] == f"trace-{number}"
        # A change order for PO-1 and its re-acknowledgement: a second event for the same PO.
        create_purchase_order("PO-1", supplier=nordwerk, revision=2, line_count=2)
        accept_all(client, "PO-1", revision=2)

        assert wait_until(lambda: len(erp_receiver.applied) == 4, timeout=90), worker.log()[-4000:]
        assert wait_until(lambda: not OutboxMessage.objects.exclude(status="delivered").exists(), timeout=30)

        # Nudge every message again, as a lost acknowledgement or a duplicate task would: nothing is re-sent.
        from erp_bridge.tasks import deliver_message

        requests_before = erp_receiver.requests
        for message_id in OutboxMessage.objects.values_list("id", flat=True):
            deliver_message.delay(str(message_id))
        wait_until(lambda: False, timeout=3)
        assert erp_receiver.requests == requests_before

    assert erp_receiver.bad_signatures == 0
    assert erp_receiver.duplicates == 0
    assert erp_receiver.order_violations == 0
    events = [erp_receiver.applied[key] for key in erp_receiver.order]
    assert sorted((e["aggregate"], e["sequence"]) for e in events) == [("PO-1", 1), ("PO-1", 2), ("PO-2", 1), ("PO-3", 1)]
    po1 = [e for e in events if e["aggregate"] == "PO-1"]
    assert [e["payload"]["revision"] for e in po1] == [1, 2]
    assert all(e["type"] == "acknowledgement.decided" for e in events)
    outcomes = sorted(
        OutboxMessage.objects.filter(destination="erp").values_list("attempts__outcome", flat=True)
    )
    assert outcomes.count("retry") == 1 and outcomes.count("delivered") == 4
    # The id of each web request went with its event to the ERP, and the worker logged the call under it.
    first_events = {e["aggregate"]: key for key, e in erp_receiver.applied.items() if e["payload"]["revision"] == 1}
    assert {po: erp_receiver.correlation_ids[key] for po, key in first_events.items()} == {
        "PO-1": "trace-PO-1", "PO-2": "trace-PO-2", "PO-3": "trace-PO-3"}
    records = [json.loads(line) for line in worker.log().splitlines() if line.startswith("{")]
    calls = [r for r in records if r.get("logger") == "erp_bridge.relay" and r.get("correlation_id") == "trace-PO-2"]
    assert any(c["message"].startswith("acknowledgement.decided PO-2#1 to erp: delivered") for c in calls), calls
    assert any(c["message"].startswith("commitment.decided PO-2#1 to planning: delivered") for c in calls), calls
