"""Delivery throughput of the outbox relay on PostgreSQL + Redis, with 1, 2 and 4 worker processes,
next to the raw throughput of a trivial Celery task on the same broker in the same run.

For each worker count: N events over 100 POs are published (committed), then workers deliver
them to a loopback ERP receiver. Prints delivered events/s, p50/p95 commit-to-ERP latency, the
ratio to the trivial task's rate (goal >= 0.5), and 0 lost / duplicates / order violations.
Usage: python bench/relay_throughput.py [--events 2000] [--workers 1,2,4] [--broker redis://127.0.0.1:6379/13]
"""
from __future__ import annotations

import argparse
import statistics
import subprocess
import sys
import time
from datetime import datetime
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
from database import ROOT, prepare_database, setup_django  # noqa: E402

SECRET = "bench-webhook-secret"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--events", type=int, default=2000)
    parser.add_argument("--workers", default="1,2,4")
    parser.add_argument("--broker", default="redis://127.0.0.1:6379/13")
    args = parser.parse_args()

    print("Preparing the benchmark database ...", flush=True)
    env = prepare_database()
    env.update({"CELERY_BROKER_URL": args.broker, "ERP_WEBHOOK_SECRET": SECRET, "OUTBOX_SWEEP_SECONDS": "2",
                "DATABASE_CONN_MAX_AGE": "60"})
    setup_django(env)
    import redis
    from django.db import connections, transaction

    from erp_bridge import outbox
    from erp_bridge.models import OutboxMessage, OutboxSequence
    from tests.support.celery_worker import stop_process_group
    from tests.support.erp_receiver import ErpReceiver

    logs = ROOT / "var" / "bench"
    logs.mkdir(parents=True, exist_ok=True)
    rows = []
    for workers in [int(w) for w in args.workers.split(",")]:
        redis.Redis.from_url(args.broker).flushdb()
        OutboxMessage.objects.all().delete()
        OutboxSequence.objects.all().delete()  # each run's receiver expects sequences from 1
        receiver = ErpReceiver(secret=SECRET).start()
        env["ERP_WEBHOOK_URL"] = receiver.url
        connections.close_all()
        worker = subprocess.Popen(
            [sys.executable, "-m", "celery", "-A", "portal", "worker", f"--concurrency={workers}", "-l", "WARNING",
             "--without-gossip", "--without-mingle", "-B", "-s", str(logs / "relay-beat")],
            cwd=ROOT, env=env, stdout=open(logs / f"relay-worker-{workers}.log", "wb"), stderr=subprocess.STDOUT,
            start_new_session=True,
        )
        try:
            time.sleep(4)
            trivial = _trivial_rate(env, args.broker)
            print(f"{workers} worker process(es): publishing {args.events:,} events ...", flush=True)
            started = time.perf_counter()
            for n in range(args.events):
                with transaction.atomic():
                    outbox.publish(type="acknowledgement.decided", aggregate=f"PO-{n % 100}", payload={"n": n})
            deadline = time.monotonic() + 600
            while len(receiver.applied) < args.events and time.monotonic() < deadline:
                time.sleep(0.2)
            elapsed = time.perf_counter() - started
        finally:
            stop_process_group(worker)
            receiver.stop()
        delivered = OutboxMessage.objects.filter(status="delivered")
        latencies = sorted(
            (m.delivered_at - m.occurred_at).total_seconds() * 1000 for m in delivered.only("delivered_at", "occurred_at")
        )
        rate = len(receiver.applied) / elapsed
        rows.append((workers, rate, statistics.median(latencies), latencies[int(0.95 * (len(latencies) - 1))],
                     trivial, rate / trivial if trivial else 0, args.events - len(receiver.applied),
                     receiver.duplicates, receiver.order_violations))
    print(f"\n{'workers':>7} {'events/s':>9} {'p50 ms':>8} {'p95 ms':>8} {'trivial/s':>10} {'ratio':>6} {'lost':>5} {'dups':>5} {'order':>6}")
    for row in rows:
        print(f"{row[0]:>7} {row[1]:>9.0f} {row[2]:>8.0f} {row[3]:>8.0f} {row[4]:>10.0f} {row[5]:>6.2f} {row[6]:>5} {row[7]:>5} {row[8]:>6}")


def _trivial_rate(env: dict, broker: str, count: int = 2000) -> float:
    """Tasks per second of a do-nothing task through the same broker and worker (Celery's own ping)."""
    code = (
        "import os,time,django; os.environ.setdefault('DJANGO_SETTINGS_MODULE','portal.settings'); django.setup();"
        "from portal.celery import app;"
        f"n={count}; t=time.perf_counter();"
        "rs=[app.send_task('celery.ping') for _ in range(n)];"
        "import redis; r=redis.Redis.from_url(os.environ['CELERY_BROKER_URL']);"
        "d=time.monotonic()+300\n"
        "while r.llen('celery') and time.monotonic()<d: time.sleep(0.05)\n"
        "print(n/(time.perf_counter()-t))"
    )
    result = subprocess.run([sys.executable, "-c", code], cwd=ROOT, env=env, capture_output=True, text=True, timeout=400)
    try:
        return float(result.stdout.strip().splitlines()[-1])
    except (ValueError, IndexError):
        print(result.stderr[-2000:])
        return 0.0


if __name__ == "__main__":
    main()
