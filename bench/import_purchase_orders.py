"""Import 10,000 POs with 50,000 lines through `manage.py import_purchase_orders` on PostgreSQL.

Prints POs per second and the importer's peak memory, for a first import and a repeat (all unchanged).
Usage: python bench/import_purchase_orders.py [--orders 10000] [--lines-per-order 5]
"""
from __future__ import annotations

import argparse
import json
import os
import resource
import subprocess
import sys
import tempfile
import time
from datetime import date, timedelta
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
from database import ROOT, prepare_database  # noqa: E402

SUPPLIERS = 20


def make_documents(orders: int, lines_per_order: int) -> list[dict]:
    start = date(2026, 1, 1)
    return [
        {
            "number": f"PO-{100000 + n}",
            "revision": 1,
            "supplier": f"SUP{n % SUPPLIERS:03d}",
            "currency": "EUR",
            "order_date": (start + timedelta(days=n % 300)).isoformat(),
            "ship_to": "PLANT-1",
            "lines": [
                {
                    "line": 10 * (i + 1),
                    "item": f"ITEM-{(n * 7 + i) % 2000:05d}",
                    "description": "Machined part",
                    "quantity": str(100 + (n + i) % 900),
                    "uom": "PCE",
                    "unit_price": f"{1 + (n % 97) / 10:.2f}",
                    "requested_date": (start + timedelta(days=n % 300 + 30 + i)).isoformat(),
                }
                for i in range(lines_per_order)
            ],
        }
        for n in range(orders)
    ]


def run_import(env: dict[str, str], path: Path) -> tuple[float, float, str]:
    """(seconds, peak RSS in MiB of the import process, summary line)."""
    code = (
        "import resource, sys, subprocess;"
        "p = subprocess.run(sys.argv[1:], capture_output=False, stdout=subprocess.PIPE, text=True);"
        "print(p.stdout.strip().splitlines()[-1]);"
        "print(resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss)"
    )
    started = time.perf_counter()
    result = subprocess.run(
        [sys.executable, "-c", code, sys.executable, "manage.py", "import_purchase_orders", "--no-progress", str(path)],
        cwd=ROOT, env=env, stdout=subprocess.PIPE, text=True, check=True,
    )
    elapsed = time.perf_counter() - started
    summary, rss_kib = result.stdout.strip().splitlines()[-2:]
    return elapsed, int(rss_kib) / 1024, summary


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--orders", type=int, default=10_000)
    parser.add_argument("--lines-per-order", type=int, default=5)
    args = parser.parse_args()

    print("Preparing the benchmark database ...", flush=True)
    env = prepare_database()
    suppliers = [{"code": f"SUP{i:03d}", "name": f"Supplier {i}"} for i in range(SUPPLIERS)]
    subprocess.run(
        [sys.executable, "manage.py", "shell", "-c",
         "import json,sys; from collaboration.models import Supplier; "
         f"[Supplier.objects.create(**s) for s in json.loads({json.dumps(json.dumps(suppliers))})]"],
        cwd=ROOT, env=env, check=True,
    )
    documents = make_documents(args.orders, args.lines_per_order)
    with tempfile.TemporaryDirectory() as tmp:
        path = Path(tmp) / "orders.json"
        path.write_text(json.dumps(documents))
        size_mib = path.stat().st_size / 2**20
        lines = args.orders * args.lines_per_order
        print(f"File: {args.orders:,} POs, {lines:,} lines, {size_mib:.1f} MiB", flush=True)
        for label in ("first import", "repeat (unchanged)"):
            seconds, peak_mib, summary = run_import(env, path)
            print(
                f"{label:<20} {seconds:7.1f} s  {args.orders / seconds:8.0f} POs/s  "
                f"{lines / seconds:8.0f} lines/s  peak RSS {peak_mib:6.0f} MiB  [{summary}]",
                flush=True,
            )


if __name__ == "__main__":
    main()
