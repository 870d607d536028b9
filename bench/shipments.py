"""ASN and receipt figures on PostgreSQL.

1. An ASN of 500 lines in 200 packages (20 pallets of 9 cartons) submitted through the REST API
   (PUT /api/v1/shipments/{number}, in-process client: server time including JSON parsing,
   validation, SSCC allocation, storage and the outbox events), then the same shipment as an .xlsx
   uploaded through the portal's upload page; each run is cancelled before the next.
2. Receipt matching: 10,000 receipt lines (50 receipts of 200 lines, each line with the SSCC of
   its carton and its lot) recorded and matched against the ASNs: lines per second.
Usage: python bench/shipments.py [--runs 3] [--receipt-orders 50] [--receipt-lines 200]
"""
from __future__ import annotations

import argparse
import io
import os
import statistics
import sys
import time
from datetime import date, timedelta
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
os.environ.setdefault("BENCH_DATABASE_URL", "postgres://postgres@127.0.0.1:5432/portal_bench_shipments")
from database import prepare_database, setup_django  # noqa: E402

PALLETS, CARTONS_PER_PALLET = 20, 9


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=3)
    parser.add_argument("--asn-lines", type=int, default=500)
    parser.add_argument("--receipt-orders", type=int, default=50)
    parser.add_argument("--receipt-lines", type=int, default=200)
    args = parser.parse_args()
    print("Preparing the benchmark database ...", flush=True)
    env = prepare_database()
    env.update({"API_THROTTLE_RATE": "1000000/min", "GS1_COMPANY_PREFIX": "4012345"})
    setup_django(env)
    from django.contrib.auth import get_user_model
    from django.test import Client
    from openpyxl import Workbook

    from collaboration import services
    from collaboration.actors import Actor
    from collaboration.documents import parse_purchase_order, parse_receipt, parse_shipment
    from collaboration.models import Membership, Shipment, Supplier
    from collaboration.shipment_spreadsheets import COLUMNS

    supplier = Supplier.objects.create(code="BENCH", name="Bench supplier")
    user = get_user_model().objects.create_user("dock@bench.example")
    Membership.objects.create(user=user, supplier=supplier, role="admin")
    actor = Actor.for_user(user, channel="portal")
    erp = Actor.system("bench", channel="erp")
    _, token = services.api_token_create(supplier=supplier, name="bench", scopes=["read", "ship"], expires_at=None,
                                         actor=actor)
    day = date.today() + timedelta(days=30)

    def orders(prefix: str, count: int, lines: int) -> list[str]:
        numbers = []
        for n in range(count):
            number = f"{prefix}-{n:04d}"
            services.purchase_order_upsert(actor=erp, document=parse_purchase_order({
                "number": number, "revision": 1, "supplier": "BENCH", "currency": "EUR", "order_date": date.today().isoformat(),
                "ship_to": "PLANT-1", "lines": [
                    {"line": 10 * (k + 1), "item": f"IT-{k:04d}", "description": "Bench item", "quantity": "100",
                     "uom": "PCE", "unit_price": "1.50", "requested_date": day.isoformat()} for k in range(lines)]}))
            services.acknowledgement_accept_remaining(number=number, actor=actor)
            numbers.append(number)
            print(f"\r  {prefix}: {n + 1}/{count} orders loaded and accepted", end="", flush=True)
        print()
        return numbers

    def asn_rows(numbers: list[str], per_order: int, total: int) -> list[tuple[str, int, str, str]]:
        """(PO, PO line, carton, pallet) for `total` lines spread over 180 cartons on 20 pallets."""
        cartons = PALLETS * CARTONS_PER_PALLET
        rows = []
        for index in range(total):
            carton = index % cartons
            rows.append((numbers[index // per_order], 10 * (index % per_order + 1), f"C{carton + 1}",
                         f"P{carton // CARTONS_PER_PALLET + 1}"))
        return rows

    def asn_document(number: str, rows) -> dict:
        packages = {f"P{p + 1}": {"reference": f"P{p + 1}", "kind": "pallet", "contents": []} for p in range(PALLETS)}
        for _, _, carton, pallet in rows:
            packages.setdefault(carton, {"reference": carton, "kind": "carton", "parent": pallet, "contents": []})
        for position, (_, _, carton, _) in enumerate(rows, start=1):
            packages[carton]["contents"].append({"line": position, "quantity": "100"})
        return {"number": number, "ship_to": "PLANT-1", "despatch_date": day.isoformat(),
                "expected_arrival": day.isoformat(), "status": "submitted",
                "lines": [{"line": position, "purchase_order": po, "order_line": line, "quantity": "100", "lot": "LOT-1"}
                          for position, (po, line, _, _) in enumerate(rows, start=1)],
                "packages": list(packages.values())}

    def asn_xlsx(number: str, rows) -> bytes:
        workbook = Workbook()
        sheet = workbook.active
        sheet.append(COLUMNS)
        for index, (po, line, carton, pallet) in enumerate(rows):
            values = {"Shipment": number, "Ship-to": "PLANT-1", "Despatch date": day.isoformat(),
                      "Expected arrival": day.isoformat(), "PO": po, "PO line": line, "Quantity": 100, "Lot": "LOT-1",
                      "Package": carton, "Package type": "carton", "On pallet": pallet} if index == 0 else {
                      "PO": po, "PO line": line, "Quantity": 100, "Lot": "LOT-1", "Package": carton,
                      "Package type": "carton", "On pallet": pallet}
            sheet.append([values.get(column, "") for column in COLUMNS])
        buffer = io.BytesIO()
        workbook.save(buffer)
        return buffer.getvalue()

    print(f"1. ASN of {args.asn_lines} lines in {PALLETS * (CARTONS_PER_PALLET + 1)} packages", flush=True)
    per_order = 20
    numbers = orders("PO-ASN", -(-args.asn_lines // per_order), per_order)
    rows = asn_rows(numbers, per_order, args.asn_lines)
    api = Client(HTTP_AUTHORIZATION=f"Bearer {token}")
    portal = Client()
    portal.force_login(user)
    timings: dict[str, list[float]] = {"API (JSON)": [], "portal upload (.xlsx)": []}
    for run in range(args.runs):
        number = f"ASN-API-{run}"
        body = asn_document(number, rows)
        started = time.perf_counter()
        response = api.put(f"/api/v1/shipments/{number}", body, content_type="application/json")
        timings["API (JSON)"].append(time.perf_counter() - started)
        assert response.status_code in (200, 201), response.content[:500]
        services.shipment_cancel(number=number, supplier_id=supplier.pk, actor=actor)
        number = f"ASN-XLSX-{run}"
        content = asn_xlsx(number, rows)
        upload = io.BytesIO(content)
        upload.name = "asn.xlsx"
        started = time.perf_counter()
        response = portal.post("/shipments/upload/", {"file": upload, "submit": "on"})
        timings["portal upload (.xlsx)"].append(time.perf_counter() - started)
        assert response.status_code == 302, response.content.decode()[:2000]
        shipment = Shipment.objects.get(number=number)
        assert shipment.lines.count() == args.asn_lines
        assert shipment.packages.count() == len({row[2] for row in rows} | {row[3] for row in rows})
        services.shipment_cancel(number=number, supplier_id=supplier.pk, actor=actor)
        print(f"  run {run + 1}/{args.runs} done", flush=True)
    for label, values in timings.items():
        print(f"  {label:24s} median {statistics.median(values):6.2f} s   best {min(values):6.2f} s   ({args.runs} runs)")

    total = args.receipt_orders * args.receipt_lines
    print(f"2. Receipt matching: {total:,} receipt lines", flush=True)
    numbers = orders("PO-RCV", args.receipt_orders, args.receipt_lines)
    ssccs: dict[tuple[str, int], str] = {}
    for index, number in enumerate(numbers):
        document = asn_document(f"ASN-RCV-{index}", asn_rows([number], args.receipt_lines, args.receipt_lines))
        shipment = services.shipment_submit(document=parse_shipment(document), actor=actor)
        for line in shipment.lines.prefetch_related("packed__package"):
            ssccs[(number, line.order_line.line_number)] = line.packed.all()[0].package.sscc
    documents = [
        parse_receipt({"reference": f"GR-{number}", "purchase_order": number, "received_on": day.isoformat(),
                       "lines": [{"line": 10 * (k + 1), "quantity": "100", "lot": "LOT-1",
                                  "sscc": ssccs[(number, 10 * (k + 1))]} for k in range(args.receipt_lines)]})
        for number in numbers
    ]
    started = time.perf_counter()
    for index, document in enumerate(documents):
        services.receipt_record(document=document, actor=erp)
        print(f"\r  {index + 1}/{len(documents)} receipts recorded", end="", flush=True)
    elapsed = time.perf_counter() - started
    print()
    received = Shipment.objects.filter(number__startswith="ASN-RCV-", receipt_status="received").count()
    assert received == len(numbers), f"{received} of {len(numbers)} shipments matched"
    print(f"  {total:,} receipt lines recorded and matched in {elapsed:.2f} s: {total / elapsed:,.0f} lines/s "
          f"({received} ASNs received as announced)")


if __name__ == "__main__":
    main()
