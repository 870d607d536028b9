"""Package labels and packing list of a 200-package, 500-line ASN on PostgreSQL: labels/s and seconds.

The shipment: 20 pallets of 9 cartons each (200 packages with SSCCs), 500 shipment lines of one
500-line purchase order spread over the cartons, submitted through the shipment service. Each
render loads the shipment afresh (the query count is printed: it must not grow with packages).
Usage: python bench/labels.py [--pallets 20] [--cartons-per-pallet 9] [--lines 500] [--repeat 5]
"""
from __future__ import annotations

import argparse
import statistics
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
from database import prepare_database, setup_django  # noqa: E402


def make_shipment(*, pallets: int, cartons_per_pallet: int, lines: int):
    from django.contrib.auth import get_user_model

    from collaboration import services
    from collaboration.actors import Actor
    from collaboration.documents import parse_purchase_order, parse_shipment
    from collaboration.models import Membership, Shipment, Supplier
    from collaboration.services import LineResponse

    supplier = Supplier.objects.create(code="BIG", name="Supplier BIG Metallteile GmbH", gs1_company_prefix="4012345")
    users = get_user_model().objects
    sales = users.create_user("sales@big.example", password="bench-password-123")
    dock = users.create_user("dock@big.example", password="bench-password-123")
    Membership.objects.create(user=sales, supplier=supplier, role="sales")
    Membership.objects.create(user=dock, supplier=supplier, role="logistics")

    print(f"Creating a {lines}-line purchase order and accepting it ...", flush=True)
    services.purchase_order_upsert(document=parse_purchase_order({
        "number": "BIG-PO", "revision": 1, "supplier": "BIG", "currency": "EUR", "order_date": "2026-11-01",
        "ship_to": "PLANT-1",
        "lines": [{"line": 10 * (i + 1), "item": f"ITEM-{i:04d}", "description": "Machined bracket, zinc plated",
                   "quantity": "400", "uom": "PCE", "unit_price": "2.50", "requested_date": "2026-12-15"}
                  for i in range(lines)],
    }), actor=Actor.system("bench", channel="erp"))
    services.acknowledgement_submit(number="BIG-PO", revision=1, actor=Actor.for_user(sales, channel="portal"),
                                    responses=[LineResponse(line=10 * (i + 1), action="accept") for i in range(lines)])

    cartons = [f"C{p + 1}-{c + 1}" for p in range(pallets) for c in range(cartons_per_pallet)]
    contents: dict[str, list[dict]] = {carton: [] for carton in cartons}
    for i in range(lines):
        contents[cartons[i % len(cartons)]].append({"line": i + 1, "quantity": "24"})
    packages = []
    for p in range(pallets):
        packages.append({"reference": f"P{p + 1}", "kind": "pallet"})
        packages += [{"reference": f"C{p + 1}-{c + 1}", "kind": "carton", "parent": f"P{p + 1}",
                      "contents": contents[f"C{p + 1}-{c + 1}"]} for c in range(cartons_per_pallet)]
    print(f"Submitting the ASN with {lines} lines and {len(packages)} packages ...", flush=True)
    shipment = services.shipment_submit(document=parse_shipment({
        "number": "ASN-BENCH", "ship_to": "PLANT-1", "despatch_date": "2026-12-01", "expected_arrival": "2026-12-03",
        "carrier": "DHL Freight", "tracking_number": "JD014600006281230641",
        "lines": [{"line": i + 1, "purchase_order": "BIG-PO", "order_line": 10 * (i + 1), "quantity": "24",
                   "lot": f"L-{i % 7:02d}"} for i in range(lines)],
        "packages": packages,
    }), actor=Actor.for_user(dock, channel="portal"))
    return Shipment.objects.get(pk=shipment.pk), len(packages)


def timed(render, repeat: int, label: str):
    """Median seconds of `repeat` renders, the query count of each, and the last document."""
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    timings, query_counts, document = [], set(), b""
    for run in range(1, repeat + 1):
        with CaptureQueriesContext(connection) as queries:
            started = time.perf_counter()
            document = render()
            timings.append(time.perf_counter() - started)
        query_counts.add(len(queries))
        print(f"  {label}: run {run}/{repeat} {timings[-1]:.3f} s", flush=True)
    return statistics.median(timings), min(timings), query_counts, document


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--pallets", type=int, default=20)
    parser.add_argument("--cartons-per-pallet", type=int, default=9)
    parser.add_argument("--lines", type=int, default=500)
    parser.add_argument("--repeat", type=int, default=5)
    args = parser.parse_args()

    print("Preparing the benchmark database ...", flush=True)
    setup_django(prepare_database())
    import pypdfium2

    from collaboration.labels import package_labels_pdf, packing_list_pdf
    from collaboration.models import Shipment

    shipment, count = make_shipment(pallets=args.pallets, cartons_per_pallet=args.cartons_per_pallet, lines=args.lines)
    fresh = lambda: Shipment.objects.get(pk=shipment.pk)  # noqa: E731 - the supplier load is counted too

    results = []
    for page in ("a6", "4x6", "a4"):
        print(f"Labels, {page}, {count} packages:", flush=True)
        median, best, queries, pdf = timed(lambda: package_labels_pdf(fresh(), page=page), args.repeat, page)
        results.append((f"labels {page}", median, best, queries, pdf, f"{count / median:,.0f} labels/s"))
    print(f"Packing list, {count} packages, {args.lines} lines:", flush=True)
    median, best, queries, pdf = timed(lambda: packing_list_pdf(fresh()), args.repeat, "packing list")
    results.append(("packing list", median, best, queries, pdf, ""))

    print(f"\n{'document':<16}{'median s':>10}{'best s':>9}{'pages':>7}{'KiB':>8}  queries  rate")
    for name, median, best, queries, pdf, rate in results:
        pages = len(pypdfium2.PdfDocument(pdf))
        print(f"{name:<16}{median:10.3f}{best:9.3f}{pages:7d}{len(pdf) / 1024:8.0f}  {sorted(queries)!s:<8} {rate}")


if __name__ == "__main__":
    main()
