"""Delivery throughput and latency of the outbox relay on PostgreSQL + Redis, with 1, 2 and 4
worker processes, next to the raw rate of a do-nothing Celery task on the same broker and workers.

Per worker count, three measurements:
- trivial: `portal.tasks.noop` tasks sent in bulk, timed until the workers have taken them all;
- throughput: a backlog of N events over 100 POs is committed while no worker runs (every
  publish still sends its nudge), then workers start; rate = events / (last - first delivery);
- latency: with workers running, events are committed at a steady rate (below the measured
  throughput); p50 / p95 from commit (`occurred_at`) to the ERP's 2xx (`delivered_at`).
The loopback ERP receiver dedupes by idempotency key and checks per-PO order throughout.
Usage: python bench/relay_throughput.py [--events 3000] [--workers 1,2,4] [--paced 600] [--broker redis://127.0.0.1:6379/13]
"""
from __future__ import annotations

import argparse
import statistics
import subprocess
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
from database import ROOT, prepare_database, setup_django  # noqa: E402

SECRET = "bench-webhook-secret"
AGGREGATES = 100
PACE = 0.25  # the latency phase commits events at this share of the measured throughput


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--events", type=int, default=3000, help="backlog for the throughput phase")
    parser.add_argument("--paced", type=int, default=600, help="events of the latency phase")
    parser.add_argument("--workers", default="1,2,4")
    parser.add_argument("--pace", type=float, default=PACE, help="latency phase rate as a share of the throughput")
    parser.add_argument("--broker", default="redis://127.0.0.1:6379/13")
    args = parser.parse_args()

    print("Preparing the benchmark database ...", flush=True)
    env = prepare_database()
    env.update({"CELERY_BROKER_URL": args.broker, "ERP_WEBHOOK_SECRET": SECRET, "OUTBOX_SWEEP_SECONDS": "5"})
    setup_django(env)
    import redis

    from erp_bridge.models import OutboxMessage, OutboxSequence
    from tests.support.erp_receiver import ErpReceiver

    broker = redis.Redis.from_url(args.broker)
    rows = []
    for workers in [int(w) for w in args.workers.split(",")]:
        broker.flushdb()
        OutboxMessage.objects.all().delete()
        OutboxSequence.objects.all().delete()  # the receiver expects sequences from 1
        receiver = ErpReceiver(secret=SECRET).start()
        env["ERP_WEBHOOK_URL"] = receiver.url
        try:
            print(f"{workers} worker process(es): backlog of {args.events:,} events ...", flush=True)
            _publish(args.events, start=0)
            with _worker(env, workers):
                _wait(lambda: len(receiver.applied) >= args.events, "backlog")
                first_last = _delivery_span()
                rate = args.events / first_last if first_last else 0.0
                print(f"  delivered at {rate:.0f} events/s; trivial tasks ...", flush=True)
                _wait(lambda: broker.llen("celery") == 0, "left-over nudges")
                trivial = _trivial_rate(broker)
                print(f"  {trivial:.0f} trivial tasks/s; {args.paced} events paced at {rate * args.pace:.0f}/s ...", flush=True)
                since = time.time()
                _publish(args.paced, start=args.events, per_second=max(rate * args.pace, 1.0))
                _wait(lambda: len(receiver.applied) >= args.events + args.paced, "paced")
            latencies = _latencies(since)
        finally:
            receiver.stop()
        rows.append((workers, rate, statistics.median(latencies), latencies[int(0.95 * (len(latencies) - 1))],
                     trivial, rate / trivial if trivial else 0.0, args.events + args.paced - len(receiver.applied),
                     receiver.duplicates, receiver.order_violations))
    print(f"\n{'workers':>7} {'events/s':>9} {'p50 ms':>8} {'p95 ms':>8} {'trivial/s':>10} {'ratio':>6} {'lost':>5} {'dups':>5} {'order':>6}")
    for row in rows:
        print(f"{row[0]:>7} {row[1]:>9.0f} {row[2]:>8.0f} {row[3]:>8.0f} {row[4]:>10.0f} {row[5]:>6.2f} {row[6]:>5} {row[7]:>5} {row[8]:>6}")


def _publish(count: int, *, start: int, per_second: float | None = None) -> None:
    from django.db import transaction

    from erp_bridge import outbox

    began = time.perf_counter()
    for n in range(start, start + count):
        with transaction.atomic():
            outbox.publish(type="acknowledgement.decided", aggregate=f"PO-{n % AGGREGATES}", payload={"n": n})
        if per_second:
            ahead = (n - start + 1) / per_second - (time.perf_counter() - began)
            if ahead > 0:
                time.sleep(ahead)


class _worker:
    """A Celery worker (with beat, as deployed) for the duration of a `with` block."""

    def __init__(self, env: dict, concurrency: int) -> None:
        self.env, self.concurrency = env, concurrency

    def __enter__(self):
        from django.db import connections

        connections.close_all()
        logs = ROOT / "var" / "bench"
        logs.mkdir(parents=True, exist_ok=True)
        self.process = subprocess.Popen(
            [sys.executable, "-m", "celery", "-A", "portal", "worker", f"--concurrency={self.concurrency}", "-l",
             "WARNING", "--without-gossip", "--without-mingle", "-B", "-s", str(logs / "relay-beat")],
            cwd=ROOT, env=self.env, stdout=open(logs / f"relay-worker-{self.concurrency}.log", "wb"),
            stderr=subprocess.STDOUT, start_new_session=True,
        )
        return self

    def __exit__(self, *exc) -> None:
        from tests.support.celery_worker import stop_process_group

        stop_process_group(self.process)


def _wait(predicate, what: str, timeout: float = 900) -> None:
    deadline = time.monotonic() + timeout
    while not predicate():
        if time.monotonic() > deadline:
            raise SystemExit(f"{what}: not everything delivered within {timeout:.0f} s")
        time.sleep(0.1)


def _delivery_span() -> float:
    from django.db.models import Max, Min

    from erp_bridge.models import OutboxMessage

    span = OutboxMessage.objects.aggregate(first=Min("delivered_at"), last=Max("delivered_at"))
    return (span["last"] - span["first"]).total_seconds()


def _latencies(since: float) -> list[float]:
    from datetime import datetime, timezone

    from erp_bridge.models import OutboxMessage

    messages = OutboxMessage.objects.filter(occurred_at__gte=datetime.fromtimestamp(since, tz=timezone.utc))
    return sorted((m.delivered_at - m.occurred_at).total_seconds() * 1000 for m in messages.only("delivered_at", "occurred_at"))


def _trivial_rate(broker, count: int = 3000) -> float:
    """Do-nothing tasks per second through the same broker and workers, until the queue is drained."""
    from portal.tasks import noop

    started = time.perf_counter()
    for _ in range(count):
        noop.delay()
    _wait(lambda: broker.llen("celery") == 0, "trivial tasks")
    return count / (time.perf_counter() - started)


if __name__ == "__main__":
    main()
