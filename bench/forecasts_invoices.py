"""Forecasts, inventory and invoices on PostgreSQL (issue 10):

- a forecast batch file of 2,000 items x 52 weekly buckets through `manage.py import_erp_batch`
  (seconds; first import, a new version of every item, an all-unchanged repeat);
- the forecast pages of a supplier with 500 items in two versions: the overview (first page and
  pages 1-10), one forecast (waterfall and chart), the CSV download of all 500 (p50/p95 server time,
  queries);
- the match preview of a 500-line invoice (portal and API), and its submission (server time).

Server time is measured around Django's test client (middleware, view, template), without network.
Usage: python bench/forecasts_invoices.py [--items 2000] [--weeks 52] [--page-items 500] [--lines 500] [--requests 100]
"""
from __future__ import annotations

import argparse
import json
import statistics
import sys
import tempfile
import time
from datetime import date, timedelta
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
from database import prepare_database, setup_django  # noqa: E402
from purchase_order_list import percentile  # noqa: E402

MONDAY = date(2027, 1, 4)


def forecast_line(supplier: str, item: int, weeks: int, version: int) -> str:
    buckets = [{"start": (MONDAY + timedelta(weeks=w)).isoformat(), "period": "week", "zone": "firm" if w < 8 else "planned",
                "quantity": str(100 + (item + w * version) % 400)} for w in range(weeks)]
    return json.dumps({"type": "forecast", "document": {
        "supplier": supplier, "item": f"ITEM-{item:05d}", "ship_to": "PLANT-1", "version": version, "uom": "PCE",
        "buckets": buckets}})


def import_file(path: Path) -> float:
    from django.core.management import call_command

    started = time.perf_counter()
    call_command("import_erp_batch", str(path))
    return time.perf_counter() - started


def timed(client, method: str, url: str, requests: int, **kwargs) -> tuple[list[float], set[int]]:
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    timings, counts = [], set()
    for _ in range(requests):
        with CaptureQueriesContext(connection) as queries:
            started = time.perf_counter()
            response = getattr(client, method)(url, **kwargs)
            timings.append((time.perf_counter() - started) * 1000)
        assert response.status_code in (200, 201), (url, response.status_code, response.content[:300])
        counts.add(len(queries))
    return timings, counts


def row(label: str, timings: list[float], counts: set[int]) -> None:
    print(f"{label:<34}{statistics.median(timings):9.1f}{percentile(timings, 0.95):9.1f}{max(timings):9.1f}  {sorted(counts)}")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--items", type=int, default=2_000)
    parser.add_argument("--weeks", type=int, default=52)
    parser.add_argument("--page-items", type=int, default=500)
    parser.add_argument("--lines", type=int, default=500)
    parser.add_argument("--requests", type=int, default=100)
    args = parser.parse_args()

    print("Preparing the benchmark database ...", flush=True)
    setup_django(prepare_database())
    from django.contrib.auth import get_user_model
    from django.db import connection
    from django.test import Client
    from django.urls import reverse
    from rest_framework.test import APIClient

    from collaboration import services
    from collaboration.actors import Actor
    from collaboration.documents import parse_purchase_order, parse_receipt
    from collaboration.models import Forecast, ForecastBucket, Membership, Supplier

    for code in ("BATCH", "PAGES", "INVOICING"):
        supplier = Supplier.objects.create(code=code, name=f"Supplier {code}")
        user = get_user_model().objects.create_user(f"sales@{code.lower()}.example", password="bench-password-123")
        Membership.objects.create(user=user, supplier=supplier, role="sales")

    # 1. The batch file.
    with tempfile.TemporaryDirectory() as folder:
        timings = {}
        for label, version in (("first import", 1), ("new version of every item", 2), ("repeat (unchanged)", 2)):
            path = Path(folder) / f"forecasts-v{version}.jsonl"
            if not path.exists():
                path.write_text("\n".join(forecast_line("BATCH", i, args.weeks, version) for i in range(args.items)) + "\n")
            timings[label] = import_file(path)
    buckets = ForecastBucket.objects.filter(version__forecast__supplier__code="BATCH").count()
    print(f"\nForecast batch file, {args.items:,} items x {args.weeks} weekly buckets ({buckets:,} buckets stored):")
    for label, seconds in timings.items():
        print(f"  {label:<28}{seconds:8.1f} s  {args.items / seconds:8.0f} items/s  {args.items * args.weeks / seconds:9.0f} buckets/s")

    # 2. The forecast pages of a supplier with 500 items in two versions.
    actor = Actor.system("bench", channel="erp")
    with tempfile.TemporaryDirectory() as folder:
        for version in (1, 2):
            path = Path(folder) / f"pages-v{version}.jsonl"
            path.write_text("\n".join(forecast_line("PAGES", i, args.weeks, version) for i in range(args.page_items)) + "\n")
            import_file(path)
    with connection.cursor() as cursor:
        cursor.execute("VACUUM ANALYZE")
    client = Client()
    client.force_login(get_user_model().objects.get(username="sales@pages.example"))
    ids = list(Forecast.objects.filter(supplier__code="PAGES").values_list("pk", flat=True))
    print(f"\nForecast pages, supplier with {args.page_items} items in 2 versions, {args.requests} requests each:")
    print(f"{'page':<34}{'p50 ms':>9}{'p95 ms':>9}{'max ms':>9}  queries")
    listing = reverse("collaboration:forecast-list")
    client.get(listing)
    row("overview, first page", *timed(client, "get", listing, args.requests))
    pages = [timed(client, "get", listing, max(1, args.requests // 10), data={"page": p}) for p in range(1, 11)]
    row("overview, pages 1-10", [t for ts, _ in pages for t in ts], set().union(*(c for _, c in pages)))
    details = [timed(client, "get", reverse("collaboration:forecast-detail", args=[ids[i * 37 % len(ids)]]), 1)
               for i in range(args.requests)]
    row("one forecast (waterfall, chart)", [t for ts, _ in details for t in ts], set().union(*(c for _, c in details)))
    row("CSV download of all items", *timed(client, "get", reverse("collaboration:forecast-download", args=["csv"]), 5))

    # 3. The match preview of a 500-line invoice.
    services.purchase_order_upsert(actor=actor, document=parse_purchase_order({
        "number": "PO-BIG", "revision": 1, "supplier": "INVOICING", "currency": "EUR", "order_date": "2027-01-04",
        "ship_to": "PLANT-1", "lines": [{"line": n, "item": f"P-{n:04d}", "quantity": "100", "uom": "PCE",
                                         "unit_price": "2.50", "requested_date": "2027-02-01"} for n in range(1, args.lines + 1)]}))
    services.receipt_record(actor=actor, document=parse_receipt({
        "reference": "GR-BIG", "purchase_order": "PO-BIG", "received_on": "2027-01-20",
        "lines": [{"line": n, "quantity": "100"} for n in range(1, args.lines + 1)]}))
    lines = [{"purchase_order": "PO-BIG", "line": n, "quantity": "100" if n % 10 else "104",
              "unit_price": "2.50" if n % 7 else "2.65", "reason": "" if n % 10 and n % 7 else "agreed by phone"}
             for n in range(1, args.lines + 1)]
    body = {"number": "INV-BIG", "invoice_date": "2027-01-25", "currency": "EUR", "tax_rate": "19", "lines": lines}
    user = get_user_model().objects.get(username="sales@invoicing.example")
    portal = Client()
    portal.force_login(user)
    form = {"number": "INV-BIG", "invoice_date": "2027-01-25", "tax_rate": "19", "action": "preview"}
    for index, line in enumerate(lines):
        form.update({f"line-{index}-include": "1", f"line-{index}-quantity": line["quantity"],
                     f"line-{index}-unit_price": line["unit_price"], f"line-{index}-reason": line["reason"]})
    api = APIClient()
    api.force_authenticate(user)
    print(f"\nInvoice of {args.lines} lines against one order ({args.requests // 5} requests each):")
    print(f"{'request':<34}{'p50 ms':>9}{'p95 ms':>9}{'max ms':>9}  queries")
    row("portal: preview the match", *timed(portal, "post", f"{reverse('collaboration:invoice-new')}?po=PO-BIG",
                                            max(1, args.requests // 5), data=form))
    row("API: POST /api/v1/invoice-previews", *timed(api, "post", "/api/v1/invoice-previews", max(1, args.requests // 5),
                                                     data=body, format="json"))
    row("API: submit (PUT), once", *timed(api, "put", "/api/v1/invoices/INV-BIG", 1, data=body, format="json"))


if __name__ == "__main__":
    main()
