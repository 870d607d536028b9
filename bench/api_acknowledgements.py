"""Acknowledgements through the supplier REST API on PostgreSQL + Redis with a real Celery worker.

1,000 POs x 10 lines are acknowledged by 4 concurrent API clients (one POST per PO: 9 lines
accepted, 1 changed inside tolerance) against gunicorn; the worker delivers every
acknowledgement.decided event to a loopback ERP receiver. Prints acknowledgements per second,
p50/p95 API latency, and the time from the first request until the last event reached the ERP.
Usage: python bench/api_acknowledgements.py [--orders 1000] [--lines 10] [--clients 4] [--broker redis://127.0.0.1:6379/14]
"""
from __future__ import annotations

import argparse
import json
import socket
import statistics
import subprocess
import sys
import threading
import time
from concurrent.futures import ThreadPoolExecutor
from datetime import timedelta
from pathlib import Path

import requests

sys.path.insert(0, str(Path(__file__).resolve().parent))
from database import ROOT, prepare_database, setup_django  # noqa: E402

SECRET = "bench-webhook-secret"


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def start(command: list[str], env: dict, log: Path) -> subprocess.Popen:
    handle = open(log, "wb")
    return subprocess.Popen(command, cwd=ROOT, env=env, stdout=handle, stderr=subprocess.STDOUT, start_new_session=True)


def wait_for(predicate, timeout: float, what: str) -> None:
    deadline = time.monotonic() + timeout
    while not predicate():
        if time.monotonic() > deadline:
            raise SystemExit(f"timed out waiting for {what}")
        time.sleep(0.2)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--orders", type=int, default=1000)
    parser.add_argument("--lines", type=int, default=10)
    parser.add_argument("--clients", type=int, default=4)
    parser.add_argument("--web-workers", type=int, default=2)
    parser.add_argument("--broker", default="redis://127.0.0.1:6379/14")
    args = parser.parse_args()

    print("Preparing the benchmark database ...", flush=True)
    env = prepare_database()
    env.update({"CELERY_BROKER_URL": args.broker, "API_THROTTLE_RATE": "1000000/min", "ERP_WEBHOOK_SECRET": SECRET,
                "DATABASE_CONN_MAX_AGE": "60"})
    setup_django(env)
    from django.utils import timezone

    from collaboration import services
    from collaboration.actors import Actor
    from collaboration.documents import parse_purchase_order
    from collaboration.models import Membership, Supplier
    from django.contrib.auth import get_user_model
    from tests.support.celery_worker import stop_process_group
    from tests.support.erp_receiver import ErpReceiver

    supplier = Supplier.objects.create(code="BENCH", name="Bench supplier")
    admin = get_user_model().objects.create_user("admin@bench.example")
    Membership.objects.create(user=admin, supplier=supplier, role="admin")
    _, token = services.api_token_create(supplier=supplier, name="bench", scopes=["read", "acknowledge"],
                                         expires_at=None, actor=Actor.for_user(admin, channel="portal"))
    requested = timezone.localdate() + timedelta(days=60)
    print(f"Loading {args.orders:,} POs x {args.lines} lines ...", flush=True)
    documents = [
        parse_purchase_order({
            "number": f"PO-{n:06d}", "revision": 1, "supplier": "BENCH", "currency": "EUR", "order_date": "2026-11-01",
            "ship_to": "PLANT-1",
            "lines": [{"line": 10 * (i + 1), "item": f"ITEM-{i:03d}", "description": "Part", "quantity": "100",
                       "uom": "PCE", "unit_price": "2.50", "requested_date": requested.isoformat()} for i in range(args.lines)],
        })
        for n in range(args.orders)
    ]
    actor = Actor.system("bench", channel="erp")
    for start_at in range(0, len(documents), 250):
        services.purchase_orders_upsert(documents=documents[start_at:start_at + 250], actor=actor)
    from collaboration.models import TolerancePolicy

    TolerancePolicy.objects.filter(supplier=None, item="").update(days_earlier=5)
    from django.db import connections

    connections.close_all()

    import redis

    redis.Redis.from_url(args.broker).flushdb()
    receiver = ErpReceiver(secret=SECRET).start()
    env["ERP_WEBHOOK_URL"] = receiver.url
    logs = ROOT / "var" / "bench"
    logs.mkdir(parents=True, exist_ok=True)
    port = free_port()
    web = start([sys.executable, "-m", "gunicorn", "portal.wsgi", "-b", f"127.0.0.1:{port}", "-w", str(args.web_workers),
                 "--threads", "2", "--log-level", "warning"], env, logs / "gunicorn.log")
    worker = start([sys.executable, "-m", "celery", "-A", "portal", "worker", "--concurrency=2", "-l", "WARNING",
                    "--without-gossip", "--without-mingle"], env, logs / "worker.log")
    base = f"http://127.0.0.1:{port}"
    try:
        wait_for(lambda: _up(base), 60, "gunicorn")
        time.sleep(3)  # worker start-up
        session_local = threading.local()
        latencies: list[float] = []
        failures: list[str] = []
        lock = threading.Lock()
        earlier = (requested - timedelta(days=2)).isoformat()

        def acknowledge(n: int) -> None:
            session = getattr(session_local, "session", None)
            if session is None:
                session = session_local.session = requests.Session()
                session.headers.update({"Authorization": f"Bearer {token}", "Content-Type": "application/json"})
            lines = [{"line": 10 * (i + 1), "action": "accept"} for i in range(args.lines - 1)]
            lines.append({"line": 10 * args.lines, "action": "change", "promised_date": earlier})
            body = json.dumps({"revision": 1, "lines": lines})
            started = time.perf_counter()
            response = session.post(f"{base}/api/v1/purchase-orders/PO-{n:06d}/acknowledgements/", data=body,
                                    headers={"Idempotency-Key": f"bench-{n}"}, timeout=60)
            elapsed = (time.perf_counter() - started) * 1000
            with lock:
                latencies.append(elapsed)
                if response.status_code != 201:
                    failures.append(f"PO-{n:06d}: {response.status_code} {response.text[:200]}")

        print(f"Acknowledging with {args.clients} concurrent clients ...", flush=True)
        started = time.perf_counter()
        with ThreadPoolExecutor(max_workers=args.clients) as pool:
            list(pool.map(acknowledge, range(args.orders)))
        api_seconds = time.perf_counter() - started
        wait_for(lambda: len(receiver.applied) >= args.orders - len(failures), 600, "the last event at the ERP")
        delivered_seconds = time.perf_counter() - started
    finally:
        stop_process_group(web)
        stop_process_group(worker)
        receiver.stop()
    ordered = sorted(latencies)
    print(f"\nAPI: {args.orders:,} acknowledgements ({args.orders * args.lines:,} lines), {len(failures)} failed")
    print(f"  acknowledgements/s        {args.orders / api_seconds:8.1f}   (lines/s {args.orders * args.lines / api_seconds:,.0f})")
    print(f"  latency p50 / p95 / max   {statistics.median(ordered):6.1f} / {ordered[int(0.95 * (len(ordered) - 1))]:6.1f} / {ordered[-1]:6.1f} ms")
    print(f"  first request -> last event at the ERP  {delivered_seconds:6.1f} s  (API phase {api_seconds:.1f} s)")
    print(f"  ERP receiver: {len(receiver.applied):,} applied, {receiver.duplicates} duplicates, "
          f"{receiver.order_violations} order violations, {receiver.bad_signatures} bad signatures")
    for failure in failures[:5]:
        print("  failure:", failure)


def _up(base: str) -> bool:
    try:
        return requests.get(f"{base}/healthz", timeout=2).status_code in (200, 503)
    except requests.RequestException:
        return False


if __name__ == "__main__":
    main()
