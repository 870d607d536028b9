"""The correlation id: taken from the caller or made per request, answered in the response, stored
with audit rows and outbox events, sent to the ERP, and on every log line."""
import json
import os
import subprocess
import sys
from pathlib import Path

from django.urls import reverse

from collaboration.models import AuditEvent
from erp_bridge.models import OutboxMessage
from portal import correlation
from tests.factories import create_purchase_order

ROOT = Path(__file__).resolve().parents[2]


def test_a_request_without_an_id_gets_a_new_one_each_time(client, db):
    first, second = client.get("/healthz"), client.get("/healthz")
    assert len(first["X-Correlation-ID"]) == 32 and first["X-Correlation-ID"] != second["X-Correlation-ID"]


def test_the_callers_id_is_kept_and_an_unsafe_one_replaced(client, db):
    assert client.get("/healthz", headers={"X-Correlation-ID": "erp-run-42:7"})["X-Correlation-ID"] == "erp-run-42:7"
    assert client.get("/healthz", headers={"X-Request-ID": "lb.123"})["X-Correlation-ID"] == "lb.123"
    for unsafe in ("two words", "x" * 65, "-leading-dash", "line\nbreak", "naïve"):
        answered = client.get("/healthz", headers={"X-Correlation-ID": unsafe})["X-Correlation-ID"]
        assert answered != unsafe and len(answered) == 32


def test_audit_rows_and_outbox_events_carry_the_requests_id(client, db, nordwerk, nordwerk_sales):
    create_purchase_order("PO-1", supplier=nordwerk)
    client.force_login(nordwerk_sales)
    response = client.post(reverse("collaboration:acknowledgement-submit", args=["PO-1"]),
                           {"revision": 1, "accept_remaining": "1"}, headers={"X-Correlation-ID": "trace-7"})
    assert response.status_code == 302
    submitted = AuditEvent.objects.get(action="acknowledgement.submitted", purchase_order="PO-1")
    assert submitted.correlation_id == "trace-7"
    assert {m.correlation_id for m in OutboxMessage.objects.filter(aggregate="PO-1")} == {"trace-7"}
    # The ERP's push that created the order ran outside any request: it has an id of its own.
    assert AuditEvent.objects.get(action="purchase_order.received").correlation_id != "trace-7"


def test_log_lines_are_json_with_the_correlation_id():
    code = ("import django, logging; django.setup(); from portal import correlation\n"
            "with correlation.bound('trace-json'): logging.getLogger('erp_bridge.relay').warning('sent %s', 'PO-1')\n")
    env = {**os.environ, "DJANGO_SETTINGS_MODULE": "portal.settings", "LOG_FORMAT": "json"}
    done = subprocess.run([sys.executable, "-c", code], cwd=ROOT, env=env, capture_output=True, text=True, timeout=60)
    [line] = [line for line in done.stderr.splitlines() if line.startswith("{")]
    record = json.loads(line)
    assert record["message"] == "sent PO-1" and record["correlation_id"] == "trace-json"
    assert record["level"] == "WARNING" and record["logger"] == "erp_bridge.relay" and record["time"].endswith("+00:00")


def test_a_management_command_runs_under_one_id_the_callers_if_given():
    code = "from portal import correlation; print('ID', correlation.current())"
    env = {**os.environ, "DJANGO_SETTINGS_MODULE": "portal.settings", "CORRELATION_ID": "nightly-import-7"}
    done = subprocess.run([sys.executable, "manage.py", "shell", "-c", code], cwd=ROOT, env=env, capture_output=True, text=True,
                          timeout=60)
    assert "ID nightly-import-7" in done.stdout, done.stderr
    del env["CORRELATION_ID"]
    done = subprocess.run([sys.executable, "manage.py", "shell", "-c", code], cwd=ROOT, env=env, capture_output=True, text=True,
                          timeout=60)
    assert len(done.stdout.split("ID ")[1].strip()) == 32


def test_a_task_runs_under_the_id_it_was_queued_with_or_a_new_one():
    from portal.celery import app

    @app.task(name="tests.correlation_probe")
    def probe():
        return correlation.current()

    assert probe.apply(headers={"correlation_id": "queued-under-7"}).get() == "queued-under-7"
    fresh = probe.apply().get()
    assert len(fresh) == 32 and correlation.current() == ""


def test_queued_tasks_carry_the_current_id_in_their_headers(settings):
    from portal.celery import app

    captured = {}

    def capture(headers=None, **kwargs):
        captured.update(headers or {})

    from celery import signals

    signals.before_task_publish.connect(capture)
    try:
        with app.connection_for_write() as conn, correlation.bound("web-request-3"):
            app.send_task("tests.correlation_probe", connection=conn, queue="correlation-probe")
    finally:
        signals.before_task_publish.disconnect(capture)
        with app.connection_for_write() as conn:
            conn.default_channel.queue_purge("correlation-probe")
    assert captured["correlation_id"] == "web-request-3"
