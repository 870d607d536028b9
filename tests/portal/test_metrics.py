"""/metrics: outbox depth, lag, delivery rate, dead letters and open cases in Prometheus text format."""
from datetime import timedelta

from django.db import transaction
from django.utils import timezone

from erp_bridge import outbox, relay
from erp_bridge.models import OutboxMessage


def publish(aggregate: str) -> OutboxMessage:
    with transaction.atomic():
        return outbox.publish(type="acknowledgement.decided", aggregate=aggregate, payload={})


def sample(text: str, name: str) -> float:
    line = next(line for line in text.splitlines() if line.startswith(name))
    return float(line.rsplit(" ", 1)[1])


def test_metrics_report_depth_lag_rate_and_dead_letters(client, db):
    delivered, waiting, dead = publish("PO-1"), publish("PO-2"), publish("PO-3")
    relay.deliver(delivered.id)  # file connector: delivered
    OutboxMessage.objects.filter(id=waiting.id).update(occurred_at=timezone.now() - timedelta(seconds=90))
    OutboxMessage.objects.filter(id=dead.id).update(status="dead")
    response = client.get("/metrics")
    assert response.status_code == 200 and response["Content-Type"].startswith("text/plain; version=0.0.4")
    text = response.content.decode()
    assert "# TYPE portal_outbox_pending gauge" in text
    assert sample(text, 'portal_outbox_pending{destination="erp"}') == 1
    assert sample(text, 'portal_outbox_dead_letters{destination="erp"}') == 1
    assert sample(text, 'portal_outbox_delivered_total{destination="erp"}') == 1
    assert sample(text, 'portal_outbox_deliveries_last_minute{destination="erp"}') == 1
    assert 89 <= sample(text, 'portal_outbox_lag_seconds{destination="erp"}') < 200
    assert sample(text, 'portal_exception_cases_open{kind="delivery_failed"}') == 0


def test_metrics_token_is_required_when_set(client, db, settings):
    settings.METRICS_TOKEN = "scrape-secret"
    assert client.get("/metrics").status_code == 401
    assert client.get("/metrics", HTTP_AUTHORIZATION="Bearer wrong").status_code == 401
    assert client.get("/metrics", HTTP_AUTHORIZATION="Bearer scrape-secret").status_code == 200


def test_metrics_report_each_destinations_mode_down_time_and_batch_files(client, db, settings, tmp_path):
    from erp_bridge import batches
    from erp_bridge.models import DestinationState

    settings.ERP_BATCH_DIR = tmp_path / "batches"
    batches.forget_cached_states()
    try:
        relay.deliver(publish("PO-1").id)
        DestinationState.objects.create(destination="planning", down_since=timezone.now() - timedelta(seconds=120))
        batches.destination_switch_to_batch(destination="erp", by="test")
        publish("PO-2")
        batches.batch_write(destination="erp")
        publish("PO-3")
        batches.batch_write(destination="erp")
    finally:
        batches.forget_cached_states()
    text = client.get("/metrics").content.decode()
    assert "# TYPE portal_destination_mode gauge" in text
    assert sample(text, 'portal_destination_mode{destination="erp",mode="batch"}') == 1
    assert sample(text, 'portal_destination_mode{destination="erp",mode="online"}') == 0
    assert sample(text, 'portal_destination_mode{destination="planning",mode="online"}') == 1
    assert sample(text, 'portal_outbox_batch_files_total{destination="erp"}') == 2
    assert sample(text, 'portal_outbox_batch_files_total{destination="planning"}') == 0
    assert 119 <= sample(text, 'portal_destination_down_seconds{destination="planning"}') < 200
    assert sample(text, 'portal_destination_down_seconds{destination="erp"}') == 0
    # One delivered online, two into batch files.
    assert sample(text, 'portal_outbox_deliveries_last_hour{destination="erp"}') == 3


def test_metrics_and_the_admin_page_share_one_computation(db):
    from portal.metrics import CHART_MINUTES, delivery_figures

    relay.deliver(publish("PO-1").id)
    relay.deliver(publish("PO-2").id)
    (erp,) = delivery_figures()
    assert (erp.destination, erp.delivered, erp.deliveries_last_hour) == ("erp", 2, 2)
    assert len(erp.per_minute) == CHART_MINUTES and sum(erp.per_minute) == 2


def test_metrics_count_requests_by_view_and_status(client, db):
    def count(text: str, view: str, status: str) -> float:
        name = f'portal_http_requests_total{{method="GET",status="{status}",view="{view}"}}'
        return next((float(line.rsplit(" ", 1)[1]) for line in text.splitlines() if line.startswith(name)), 0.0)

    before = client.get("/metrics").content.decode()
    client.get("/healthz")
    client.get("/healthz")
    client.get("/no-such-page/")
    after = client.get("/metrics").content.decode()
    assert count(after, "healthz", "200") - count(before, "healthz", "200") == 2
    assert count(after, "unmatched", "404") - count(before, "unmatched", "404") == 1
    assert "# TYPE portal_http_request_duration_seconds histogram" in after


def test_metrics_report_the_task_queue_depth_and_a_broker_outage(client, db, settings):
    from portal.celery import app

    app.control.purge()
    try:
        for n in range(3):
            app.send_task("erp_bridge.tasks.deliver_message", args=[f"00000000-0000-0000-0000-00000000000{n}"])
        text = client.get("/metrics").content.decode()
        assert sample(text, 'portal_celery_queue_depth{queue="celery"}') == 3
        assert sample(text, "portal_broker_up") == 1
    finally:
        app.control.purge()
    settings.CELERY_BROKER_URL = "redis://127.0.0.1:9/0"  # nothing listens there
    text = client.get("/metrics").content.decode()
    assert sample(text, "portal_broker_up") == 0 and "portal_celery_queue_depth{" not in text
