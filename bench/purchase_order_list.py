"""PO list page for a supplier with 5,000 POs on PostgreSQL: p50/p95 server time and query count.

Server time is measured around Django's test client (the whole request through middleware,
view, template), without network. The query count is compared with a supplier that has 50 POs.
Usage: python bench/purchase_order_list.py [--orders 5000] [--requests 300]
"""
from __future__ import annotations

import argparse
import statistics
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
from database import prepare_database, setup_django  # noqa: E402


def load_orders(supplier_code: str, count: int) -> None:
    from collaboration import services
    from collaboration.actors import Actor
    from collaboration.documents import parse_purchase_order
    from collaboration.models import Channel
    from tqdm import tqdm

    actor = Actor.system("bench", channel=Channel.ERP)
    documents = [
        parse_purchase_order({
            "number": f"{supplier_code}-{n:06d}", "revision": 1, "supplier": supplier_code, "currency": "EUR",
            "order_date": f"2026-{n % 12 + 1:02d}-{n % 28 + 1:02d}", "ship_to": "PLANT-1",
            "lines": [
                {"line": 10 * (i + 1), "item": f"ITEM-{(n + i) % 500:04d}", "description": "Part",
                 "quantity": "100", "uom": "PCE", "unit_price": "2.50", "requested_date": "2026-12-15"}
                for i in range(5)
            ],
        })
        for n in range(count)
    ]
    for start in tqdm(range(0, count, 250), desc=f"orders for {supplier_code}", unit="batch", file=sys.stdout):
        services.purchase_orders_upsert(documents=documents[start : start + 250], actor=actor)


def measure(client, url: str, params_list: list[dict], requests: int) -> tuple[list[float], set[int]]:
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    timings, query_counts = [], set()
    for i in range(requests):
        params = params_list[i % len(params_list)]
        with CaptureQueriesContext(connection) as queries:
            started = time.perf_counter()
            response = client.get(url, params)
            timings.append((time.perf_counter() - started) * 1000)
        assert response.status_code == 200, response.status_code
        query_counts.add(len(queries))
    return timings, query_counts


def percentile(values: list[float], fraction: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(round(fraction * (len(ordered) - 1))))]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--orders", type=int, default=5_000)
    parser.add_argument("--requests", type=int, default=300)
    args = parser.parse_args()

    print("Preparing the benchmark database ...", flush=True)
    setup_django(prepare_database())
    from django.contrib.auth import get_user_model
    from django.test import Client
    from django.urls import reverse

    from collaboration.models import Membership, Supplier

    users = {}
    for code, count in (("BIG", args.orders), ("SMALL", 50)):
        supplier = Supplier.objects.create(code=code, name=f"Supplier {code}")
        user = get_user_model().objects.create_user(f"sales@{code.lower()}.example", password="bench-password-123")
        Membership.objects.create(user=user, supplier=supplier, role="sales")
        users[code] = user
        load_orders(code, count)

    url = reverse("collaboration:purchase-order-list")
    scenarios = {
        "first page": [{}],
        "pages 1-50": [{"page": p} for p in range(1, 51)],
        "status filter": [{"status": "awaiting_acknowledgement", "page": p} for p in range(1, 20)],
        "search item": [{"q": f"ITEM-{i:04d}"} for i in range(0, 500, 7)],
        "search number": [{"q": f"BIG-{i:06d}"} for i in range(0, args.orders, 97)],
    }
    print(f"\nPO list, supplier with {args.orders:,} POs, {args.requests} requests per scenario:")
    print(f"{'scenario':<16}{'p50 ms':>9}{'p95 ms':>9}{'max ms':>9}  queries")
    for code in ("BIG", "SMALL"):
        client = Client()
        client.force_login(users[code])
        client.get(url)  # warm-up
        for name, params in scenarios.items():
            if code == "SMALL" and name != "first page":
                continue
            timings, counts = measure(client, url, params, args.requests)
            label = name if code == "BIG" else "first page, 50 POs"
            print(
                f"{label:<16}{statistics.median(timings):9.1f}{percentile(timings, 0.95):9.1f}"
                f"{max(timings):9.1f}  {sorted(counts)}"
            )


if __name__ == "__main__":
    main()
