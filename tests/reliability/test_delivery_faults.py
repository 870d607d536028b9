"""Delivery under faults, on real components: PostgreSQL, Redis, Celery worker processes and a
loopback ERP receiver that can be told to fail. Scaled down for the test run; each scenario ends
with 0 lost, 0 applied twice, 0 order violations at the receiver."""
from __future__ import annotations

import contextlib
import os
import signal
import subprocess
import threading
import time

import pytest
from django.db import transaction

from erp_bridge import outbox
from erp_bridge.models import OutboxMessage
from tests.support.celery_worker import celery_worker, wait_until
from tests.support.erp_receiver import Scripted

pytestmark = pytest.mark.services

# Sizes for the test run; bench/fault_runs.py sets these to the full sizes of the scenarios.
KILL_EVENTS = int(os.environ.get("FAULT_KILL_EVENTS", "150"))
CONCURRENT_ORDERS = int(os.environ.get("FAULT_CONCURRENT_ORDERS", "20"))
CONCURRENT_UPDATES = int(os.environ.get("FAULT_CONCURRENT_UPDATES", "10"))
REFUSED_EVENTS = int(os.environ.get("FAULT_REFUSED_EVENTS", "200"))
WORKERS = int(os.environ.get("FAULT_WORKERS", "2"))


def publish(aggregate: str, n: int) -> None:
    with transaction.atomic():
        outbox.publish(type="acknowledgement.decided", aggregate=aggregate, payload={"n": n})


def worker_env(receiver, **extra) -> dict[str, str]:
    return {
        "ERP_WEBHOOK_URL": receiver.url, "ERP_WEBHOOK_SECRET": receiver.secret, "ERP_RETRY_BASE_SECONDS": "0.2",
        "ERP_RETRY_MAX_SECONDS": "2", "OUTBOX_SWEEP_SECONDS": "1", "ERP_CLAIM_LEASE_SECONDS": "3", "ERP_READ_TIMEOUT": "2",
        **extra,
    }


def all_recorded() -> bool:
    """The receiver may have applied an event a moment before the worker records it delivered."""
    return wait_until(lambda: not OutboxMessage.objects.exclude(status="delivered").exists(), timeout=30)


def assert_all_applied_once_in_order(receiver, expected: int) -> None:
    assert len(receiver.applied) == expected, f"lost {expected - len(receiver.applied)}"
    assert receiver.order_violations == 0
    assert receiver.bad_signatures == 0
    assert OutboxMessage.objects.exclude(status="delivered").count() == 0
    # 'duplicates' are re-sent events the receiver recognised and did not apply again.
    print(f"sent {expected}, applied {len(receiver.applied)}, duplicates recognised {receiver.duplicates}")


def test_erp_outage_with_errors_rate_limits_and_timeouts_loses_nothing(
    transactional_db, postgres, redis_broker, erp_receiver, tmp_path
):
    erp_receiver.fail_next(
        *[Scripted(503, body="maintenance")] * 5,
        Scripted(429, headers={"Retry-After": "1"}),
        *[Scripted(500)] * 3,
    )
    with celery_worker(tmp_path=tmp_path, env=worker_env(erp_receiver), concurrency=2, beat=True) as worker:
        for n in range(40):
            publish(f"PO-{n % 8}", n)
        assert wait_until(lambda: len(erp_receiver.applied) == 40, timeout=120), worker.log()[-3000:]
        assert all_recorded()
    assert_all_applied_once_in_order(erp_receiver, 40)
    retried = OutboxMessage.objects.filter(attempts__outcome="retry").distinct().count()
    assert retried >= 1


def pool_processes() -> list[int]:
    from portal.celery import app

    stats = app.control.inspect(timeout=2).stats() or {}
    return [pid for worker_stats in stats.values() for pid in worker_stats.get("pool", {}).get("processes", [])]


def test_killed_worker_child_delays_but_loses_nothing(transactional_db, postgres, redis_broker, erp_receiver, tmp_path):
    """A pool process is SIGKILLed every 2 s (the first once a tenth is applied) until all arrived."""
    orders = max(KILL_EVENTS // 10, 1)
    env = worker_env(erp_receiver)
    kills: list[float] = []
    def publisher() -> None:
        from django.db import connection

        try:
            for n in range(KILL_EVENTS):
                publish(f"PO-{n % orders}", n)
        finally:
            connection.close()

    with celery_worker(tmp_path=tmp_path, env=env, concurrency=WORKERS, beat=True) as worker:
        publishing = threading.Thread(target=publisher)
        publishing.start()
        deadline = time.monotonic() + 120 + KILL_EVENTS / 10
        while len(erp_receiver.applied) < KILL_EVENTS and time.monotonic() < deadline:
            due = len(erp_receiver.applied) >= KILL_EVENTS // 10 and (not kills or time.time() - kills[-1] >= 2)
            if due:
                # A pool process, not the embedded beat (which production runs as its own service).
                for pid in pool_processes()[:1]:
                    with contextlib.suppress(ProcessLookupError):  # already replaced since the worker answered
                        os.kill(pid, signal.SIGKILL)
                        kills.append(time.time())
            time.sleep(0.1)
        publishing.join()
        assert wait_until(lambda: len(erp_receiver.applied) == KILL_EVENTS, timeout=60), worker.log()[-3000:]
        assert all_recorded()
    assert kills
    assert_all_applied_once_in_order(erp_receiver, KILL_EVENTS)
    # Recovery: messages whose claim died with a process (a claim without a recorded attempt) are
    # delivered once their lease expired and the sweeper handed them out again.
    from django.db.models import Count, F

    orphaned = OutboxMessage.objects.annotate(recorded=Count("attempts")).filter(attempt_count__gt=F("recorded"))
    recovery = [min((m.delivered_at.timestamp() - k for k in kills if k <= m.delivered_at.timestamp()), default=0)
                for m in orphaned]
    print(f"{len(kills)} pool processes killed; {len(recovery)} claims lost with them; kill to delivery max "
          f"{max(recovery, default=0):.1f} s (lease {env['ERP_CLAIM_LEASE_SECONDS']} s, sweep every "
          f"{env['OUTBOX_SWEEP_SECONDS']} s)")


def test_concurrent_updates_keep_per_order_sequence(transactional_db, postgres, redis_broker, erp_receiver, tmp_path):
    errors: list[BaseException] = []

    def publisher(orders: range) -> None:
        from django.db import connection

        try:
            for n in range(CONCURRENT_UPDATES):
                for order in orders:
                    publish(f"PO-{order}", n)
        except BaseException as error:  # noqa: BLE001 (reported below)
            errors.append(error)
        finally:
            connection.close()

    with celery_worker(tmp_path=tmp_path, env=worker_env(erp_receiver), concurrency=WORKERS, beat=True) as worker:
        # Four publishers write updates of the same orders at the same time.
        threads = [threading.Thread(target=publisher, args=(range(CONCURRENT_ORDERS),)) for _ in range(4)]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join()
        assert not errors, errors
        expected = 4 * CONCURRENT_ORDERS * CONCURRENT_UPDATES
        assert wait_until(lambda: len(erp_receiver.applied) == expected, timeout=180 + expected / 20), worker.log()[-3000:]
        assert all_recorded()
    assert_all_applied_once_in_order(erp_receiver, expected)
    sequences = OutboxMessage.objects.filter(aggregate="PO-0").order_by("sequence").values_list("sequence", flat=True)
    assert list(sequences) == list(range(1, 4 * CONCURRENT_UPDATES + 1))


@pytest.fixture
def private_redis(redis_broker, tmp_path):
    """A Redis of this test's own for the worker (restarting the shared one would hurt others).
    The test process keeps sending its on_commit nudges to the shared broker, where nobody
    listens: every nudge is lost, so delivery rests on the outbox rows and the beat sweeper."""
    import shutil
    import socket

    binary = shutil.which("redis-server")
    if binary is None:
        pytest.skip("needs redis-server on PATH")
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]
    url = f"redis://127.0.0.1:{port}/0"

    def start() -> subprocess.Popen:
        process = subprocess.Popen([binary, "--port", str(port), "--bind", "127.0.0.1", "--save", "", "--appendonly", "no",
                                    "--dir", str(tmp_path)], stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        import redis

        assert wait_until(lambda: _pings(redis.Redis.from_url(url, socket_connect_timeout=0.5)), timeout=10)
        return process

    server = {"process": start()}

    def restart(down_seconds: float = 1.0) -> None:
        server["process"].kill()
        server["process"].wait()
        time.sleep(down_seconds)
        server["process"] = start()

    yield url, restart
    server["process"].kill()
    server["process"].wait()


def _pings(client) -> bool:
    import redis

    try:
        return client.ping()
    except redis.RedisError:
        return False


def test_broker_restarts_lose_nothing(transactional_db, postgres, private_redis, erp_receiver, tmp_path):
    url, restart = private_redis
    env = worker_env(erp_receiver, CELERY_BROKER_URL=url)
    with celery_worker(tmp_path=tmp_path, env=env, concurrency=2, beat=True) as worker:
        published = 0
        for round_ in range(3):
            for _ in range(30):
                publish(f"PO-{published % 10}", published)
                published += 1
            restart()
        assert wait_until(lambda: len(erp_receiver.applied) == published, timeout=180), worker.log()[-3000:]
        assert all_recorded()
    assert_all_applied_once_in_order(erp_receiver, published)


def test_permanent_refusals_dead_letter_then_replay_delivers_each_once(
    transactional_db, postgres, redis_broker, erp_receiver, tmp_path
):
    """The ERP refuses every event of some orders (422); those become dead letters with a buyer case
    and hold back the later events of their order only. After the cause is fixed, a replay of all
    dead letters delivers everything once, in order."""
    from django.core.management import call_command

    from collaboration.models import ExceptionCase

    orders = max(REFUSED_EVENTS // 10, 2)
    refused = {f"PO-{n}" for n in range(0, orders, 5)}
    for aggregate in refused:
        erp_receiver.refuse(aggregate, Scripted(422, body=f"unknown vendor for {aggregate}"))
    with celery_worker(tmp_path=tmp_path, env=worker_env(erp_receiver), concurrency=WORKERS, beat=True) as worker:
        for n in range(REFUSED_EVENTS):
            publish(f"PO-{n % orders}", n)
        expected_online = sum(1 for n in range(REFUSED_EVENTS) if f"PO-{n % orders}" not in refused)
        assert wait_until(lambda: len(erp_receiver.applied) == expected_online
                          and OutboxMessage.objects.filter(status="dead").count() == len(refused), timeout=180), \
            worker.log()[-3000:]
        dead = OutboxMessage.objects.filter(status="dead")
        assert set(dead.values_list("aggregate", flat=True)) == refused
        assert set(dead.values_list("sequence", flat=True)) == {1}  # the first of each refused order
        assert ExceptionCase.objects.filter(kind="delivery_failed", status="open").count() == len(refused)
        # Later events of refused orders wait behind their dead letter; nothing of them was applied.
        assert not {event["aggregate"] for event in erp_receiver.applied.values()} & refused
        erp_receiver.accept()  # the cause is fixed in the ERP
        call_command("outbox", "replay", "--all")
        assert wait_until(lambda: len(erp_receiver.applied) == REFUSED_EVENTS, timeout=180), worker.log()[-3000:]
        assert all_recorded()
    assert_all_applied_once_in_order(erp_receiver, REFUSED_EVENTS)
    assert not ExceptionCase.objects.filter(kind="delivery_failed", status="open").exists()
