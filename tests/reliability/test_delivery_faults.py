"""Delivery under faults, on real components: PostgreSQL, Redis, Celery worker processes and a
loopback ERP receiver that can be told to fail. Scaled down for the test run; each scenario ends
with 0 lost, 0 applied twice, 0 order violations at the receiver."""
from __future__ import annotations

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
    with celery_worker(tmp_path=tmp_path, env=worker_env(erp_receiver), concurrency=2, beat=True) as worker:
        for n in range(150):
            publish(f"PO-{n % 15}", n)
        kills = 0
        deadline = time.monotonic() + 120
        while len(erp_receiver.applied) < 150 and time.monotonic() < deadline:
            if kills < 3 and len(erp_receiver.applied) >= 30 * (kills + 1):
                # A pool process, not the embedded beat (which production runs as its own service).
                pool = pool_processes()
                if pool:
                    os.kill(pool[0], signal.SIGKILL)
                    kills += 1
            time.sleep(0.1)
        assert wait_until(lambda: len(erp_receiver.applied) == 150, timeout=60), worker.log()[-3000:]
        assert all_recorded()
    assert kills >= 1
    assert_all_applied_once_in_order(erp_receiver, 150)


def test_concurrent_updates_keep_per_order_sequence(transactional_db, postgres, redis_broker, erp_receiver, tmp_path):
    errors: list[BaseException] = []

    def publisher(orders: range) -> None:
        from django.db import connection

        try:
            for n in range(10):
                for order in orders:
                    publish(f"PO-{order}", n)
        except BaseException as error:  # noqa: BLE001 (reported below)
            errors.append(error)
        finally:
            connection.close()

    with celery_worker(tmp_path=tmp_path, env=worker_env(erp_receiver), concurrency=2, beat=True) as worker:
        # Four publishers write updates of the same 20 orders at the same time.
        threads = [threading.Thread(target=publisher, args=(range(20),)) for _ in range(4)]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join()
        assert not errors, errors
        assert wait_until(lambda: len(erp_receiver.applied) == 800, timeout=180), worker.log()[-3000:]
        assert all_recorded()
    assert_all_applied_once_in_order(erp_receiver, 800)
    sequences = OutboxMessage.objects.filter(aggregate="PO-0").order_by("sequence").values_list("sequence", flat=True)
    assert list(sequences) == list(range(1, 41))


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
