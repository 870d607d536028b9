"""The control tower, supplier scorecards and a PO timeline on large data (PostgreSQL).

Generates 200 suppliers, 100,000 POs with 1,000,000 lines and what happens to them over 400 days
(answers with their lines, cases, shipments, receipts, incidents, documents, outbox events with
delivery attempts, audit rows, EDI interchanges) straight in SQL, then measures server time (Django's
test client around the whole request) and queries per request.
Usage: python bench/control_tower.py [--suppliers 200] [--orders 100000] [--lines-per-order 10] [--requests 40]
"""
from __future__ import annotations

import argparse
import statistics
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
from database import prepare_database, setup_django  # noqa: E402

# Each statement fills one table from generate_series; %(x)s are the sizes. Dates spread over 400
# days back from today; 1 PO in 20 waits for an answer, 1 in 50 for the buyer.
GENERATE = [
    ("suppliers", """
        INSERT INTO collaboration_supplier (code, name, is_active, created_at, gs1_company_prefix)
        SELECT 'SUP' || lpad(s::text, 4, '0'), 'Supplier ' || s, true, now(), ''
        FROM generate_series(1, %(suppliers)s) s"""),
    ("purchase orders", """
        INSERT INTO collaboration_purchaseorder (number, revision, currency, order_date, ship_to, status, content_hash,
            acknowledgement_due, created_at, updated_at, supplier_id, buyer)
        SELECT 'PO-' || lpad(i::text, 7, '0'), 1, 'EUR', current_date - (i %% 400), 'PLANT-' || (i %% 3 + 1),
            CASE WHEN i %% 20 = 0 THEN 'awaiting_acknowledgement' WHEN i %% 50 = 1 THEN 'awaiting_buyer'
                 WHEN i %% 97 = 3 THEN 'changed' ELSE 'acknowledged' END,
            md5(i::text), current_date - (i %% 400) + 3, now(), now(),
            (SELECT min(id) FROM collaboration_supplier) + i %% %(suppliers)s, 'P-' || (i %% 20 + 10)
        FROM generate_series(1, %(orders)s) i"""),
    ("order lines", """
        INSERT INTO collaboration_purchaseorderline (line_number, item, description, quantity, uom, unit_price, requested_date,
            is_cancelled, response_status, confirmed_quantity, confirmed_price, confirmed_date, confirmed_revision,
            changed_in_revision, purchase_order_id, received_quantity)
        SELECT l * 10, 'ITEM-' || lpad(((po.id + l) %% 5000)::text, 5, '0'), 'Part', 100, 'PCE', 2.5, po.order_date + 30,
            false, CASE WHEN po.status = 'acknowledged' THEN 'confirmed' ELSE 'open' END,
            CASE WHEN po.status = 'acknowledged' THEN 100 END, CASE WHEN po.status = 'acknowledged' THEN 2.5 END,
            CASE WHEN po.status = 'acknowledged' THEN po.order_date + 30 + (po.id %% 3)::int END,
            CASE WHEN po.status = 'acknowledged' THEN 1 END, 1, po.id, 0
        FROM collaboration_purchaseorder po, generate_series(1, %(lines)s) l"""),
    ("acknowledgements", """
        INSERT INTO collaboration_acknowledgement (revision, status, channel, actor_label, created_at, submitted_at,
            purchase_order_id, due_on)
        SELECT 1, 'decided', (ARRAY['portal', 'api', 'edi'])[po.id %% 3 + 1], 'bench', now(),
            (po.order_date + (po.id %% 5)::int)::timestamptz + interval '10 hours', po.id, po.acknowledgement_due
        FROM collaboration_purchaseorder po WHERE po.status IN ('acknowledged', 'awaiting_buyer')"""),
    ("answered lines", """
        INSERT INTO collaboration_acknowledgementline (action, quantity, unit_price, promised_date, reason_text, decision,
            decision_comment, acknowledgement_id, order_line_id)
        SELECT CASE WHEN ol.id %% 9 = 0 THEN 'change' ELSE 'accept' END, 100, 2.5, ol.requested_date, '',
            CASE WHEN ol.id %% 9 <> 0 THEN 'auto_accepted' WHEN po.status = 'awaiting_buyer' THEN 'pending'
                 WHEN ol.id %% 2 = 0 THEN 'approved' ELSE 'declined' END, '', a.id, ol.id
        FROM collaboration_acknowledgement a JOIN collaboration_purchaseorder po ON po.id = a.purchase_order_id
        JOIN collaboration_purchaseorderline ol ON ol.purchase_order_id = po.id"""),
    ("exception cases", """
        INSERT INTO collaboration_exceptioncase (kind, status, summary, details, opened_at, decided_at, decision_comment,
            purchase_order_id, supplier_id)
        SELECT (ARRAY['proposal_outside_tolerance', 'line_rejected', 'receipt_short', 'receipt_over', 'receipt_late',
                      'delivery_failed'])[po.id %% 6 + 1],
            CASE WHEN po.id %% 10 = 0 THEN 'open' ELSE 'approved' END, 'bench case', '{}',
            po.order_date::timestamptz + interval '2 days',
            CASE WHEN po.id %% 10 <> 0 THEN po.order_date::timestamptz + interval '4 days' END, '', po.id, po.supplier_id
        FROM collaboration_purchaseorder po WHERE po.id %% 5 = 0"""),
    ("shipments", """
        INSERT INTO collaboration_shipment (number, revision, status, ship_to, despatch_date, expected_arrival, carrier,
            tracking_number, created_at, updated_at, submitted_at, supplier_id, receipt_status)
        SELECT 'DN-' || po.number, 1, 'submitted', po.ship_to, po.order_date + 25, po.order_date + 28, 'DHL', '', now(), now(),
            now(), po.supplier_id,
            CASE WHEN po.order_date + 28 > current_date THEN 'not_received' WHEN po.id %% 7 = 0 THEN 'differences'
                 WHEN po.id %% 31 = 0 THEN 'partial' ELSE 'received' END
        FROM collaboration_purchaseorder po WHERE po.status = 'acknowledged'"""),
    ("shipment lines", """
        INSERT INTO collaboration_shipmentline (line_number, quantity, lot, serial_numbers, order_line_id, shipment_id,
            received_quantity)
        SELECT ol.line_number / 10, 100, '', '[]', ol.id, s.id, CASE WHEN s.receipt_status = 'not_received' THEN 0 ELSE 100 END
        FROM collaboration_shipment s JOIN collaboration_purchaseorder po ON 'DN-' || po.number = s.number
        JOIN collaboration_purchaseorderline ol ON ol.purchase_order_id = po.id AND ol.line_number <= 20"""),
    ("receipts", """
        INSERT INTO collaboration_receipt (reference, received_on, content_hash, document, recorded_at, purchase_order_id)
        SELECT 'GR-' || po.id, po.order_date + 27 + (po.id %% 4)::int, md5(po.id::text), '{}', now(), po.id
        FROM collaboration_purchaseorder po WHERE po.status = 'acknowledged' AND po.order_date + 28 <= current_date"""),
    ("receipt lines", """
        INSERT INTO collaboration_receiptline (quantity, sscc, lot, order_line_id, receipt_id, item)
        SELECT CASE WHEN r.id %% 7 = 0 THEN 90 ELSE 100 END, '', '', ol.id, r.id, ''
        FROM collaboration_receipt r JOIN collaboration_purchaseorderline ol ON ol.purchase_order_id = r.purchase_order_id"""),
    ("received totals", """
        UPDATE collaboration_purchaseorderline ol SET received_quantity = t.total
        FROM (SELECT order_line_id, sum(quantity) AS total FROM collaboration_receiptline GROUP BY order_line_id) t
        WHERE t.order_line_id = ol.id"""),
    ("quality incidents", """
        INSERT INTO collaboration_qualityincident (reference, item, lot, quantity_on_hold, uom, description, status, hold_status,
            hold_comment, opened_channel, opened_at, content_hash, purchase_order_id, supplier_id)
        SELECT 'QI-' || po.id, 'ITEM-1', '', 5, 'PCE', 'bench', CASE WHEN po.id %% 3 = 0 THEN 'open' ELSE 'closed' END,
            CASE WHEN po.id %% 3 = 0 THEN 'on_hold' ELSE 'released' END, '', 'erp', po.order_date::timestamptz + interval '30 days',
            '', po.id, po.supplier_id
        FROM collaboration_purchaseorder po WHERE po.id %% 40 = 0"""),
    ("quality documents", """
        INSERT INTO collaboration_qualitydocument (file, original_name, content_type, size, sha256, uploaded_at, document_type,
            title, item, lot, issued_on, expires_on, review_status, review_comment, supplier_id)
        SELECT 'quality/bench.pdf', 'bench.pdf', 'application/pdf', 1, md5(i::text), now(), 'certificate_of_conformity', '',
            'ITEM-' || i, '', current_date - 300, current_date - 300 + (i %% 500),
            CASE WHEN i %% 10 = 0 THEN 'pending' ELSE 'approved' END, '', (SELECT min(id) FROM collaboration_supplier) + i %% %(suppliers)s
        FROM generate_series(1, %(orders)s / 20) i"""),
    ("outbox events", """
        INSERT INTO erp_bridge_outboxmessage (id, destination, type, aggregate, sequence, occurred_at, schema_version, payload,
            status, attempt_count, next_attempt_at, delivered_at, last_error, correlation_id)
        SELECT md5(po.id::text || '-' || n)::uuid, 'erp', 'acknowledgement.decided', po.number, n,
            po.order_date::timestamptz + n * interval '1 day',
            1, '{}', CASE WHEN po.id %% 1000 = 0 AND n = 3 THEN 'dead' WHEN po.order_date >= current_date - 1 AND n = 3
                          THEN 'pending' ELSE 'delivered' END, 1, now(),
            CASE WHEN NOT (po.id %% 1000 = 0 AND n = 3) AND NOT (po.order_date >= current_date - 1 AND n = 3)
                 THEN po.order_date::timestamptz + n * interval '1 day' + (po.id %% 90) * interval '1 second' END,
            CASE WHEN po.id %% 1000 = 0 AND n = 3 THEN '422 unknown item' ELSE '' END, md5(po.id::text)
        FROM collaboration_purchaseorder po, generate_series(1, 3) n"""),
    ("delivery attempts", """
        INSERT INTO erp_bridge_deliveryattempt (attempted_at, outcome, status_code, latency_ms, error, message_id)
        SELECT coalesce(m.delivered_at, m.occurred_at), CASE m.status WHEN 'delivered' THEN 'delivered' ELSE 'failed' END,
            CASE m.status WHEN 'delivered' THEN 200 ELSE 422 END, 12, '', m.id
        FROM erp_bridge_outboxmessage m WHERE m.status <> 'pending'"""),
    ("audit rows", """
        INSERT INTO collaboration_auditevent (occurred_at, actor_label, channel, action, object_type, object_id, purchase_order,
            after, supplier_id, correlation_id)
        SELECT po.order_date::timestamptz + n * interval '1 day', 'bench', 'portal',
            (ARRAY['purchase_order.received', 'acknowledgement.submitted', 'receipt.recorded'])[n],
            'collaboration.purchaseorder', po.id::text, po.number, '{}', po.supplier_id, md5(po.id::text)
        FROM collaboration_purchaseorder po, generate_series(1, 3) n"""),
    ("trading partners", """
        INSERT INTO edi_tradingpartner (edi_id, qualifier, syntax_version, charset, directory, message_types, inbound_dir,
            outbound_dir, is_active, last_control_ref, created_at, supplier_id)
        SELECT 'EDI' || s.id, '14', 3, 'UNOC', 'D96A', '["ORDRSP", "DESADV"]', '', '', true, 0, now(), s.id
        FROM collaboration_supplier s WHERE s.id %% 4 = 0"""),
    ("interchanges", """
        INSERT INTO edi_interchange (direction, control_ref, sender, recipient, status, raw, file_name, message_types, errors,
            created_at, partner_id, correlation_id)
        SELECT CASE WHEN i %% 2 = 0 THEN 'in' ELSE 'out' END, i::text, 'x', 'y',
            CASE WHEN i %% 25 = 0 THEN 'rejected' WHEN i %% 2 = 0 THEN 'accepted' ELSE 'acknowledged' END, 'UNA'::bytea, '',
            '["ORDRSP"]', '[]', now() - (i %% 60) * interval '1 day', p.id, ''
        FROM generate_series(1, %(orders)s / 10) i
        JOIN edi_tradingpartner p ON p.id = (SELECT min(id) FROM edi_tradingpartner) + i %% (SELECT count(*) FROM edi_tradingpartner)"""),
]


def generate(sizes: dict) -> None:
    from django.db import connection

    total = time.perf_counter()
    with connection.cursor() as cursor:
        for n, (name, sql) in enumerate(GENERATE, start=1):
            started = time.perf_counter()
            cursor.execute(sql, sizes)
            print(f"  [{n:2}/{len(GENERATE)}] {name:<20} {cursor.rowcount:>10,} rows  {time.perf_counter() - started:6.1f} s", flush=True)
        # What autovacuum would have done by the time a database holds a year of orders (it may be
        # off or behind here): statistics for the planner, the visibility map for index-only scans.
        cursor.execute("VACUUM ANALYZE")
    print(f"  generated in {time.perf_counter() - total:.0f} s", flush=True)


def percentile(values: list[float], fraction: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(round(fraction * (len(ordered) - 1))))]


def measure(client, label: str, url: str, requests: int, **headers) -> None:
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    client.get(url, headers=headers)  # warm: templates, connection, caches
    timings, counts = [], set()
    for _ in range(requests):
        with CaptureQueriesContext(connection) as queries:
            started = time.perf_counter()
            response = client.get(url, headers=headers)
            timings.append((time.perf_counter() - started) * 1000)
        assert response.status_code == 200, (url, response.status_code)
        counts.add(len(queries))
    print(f"  {label:<58} p50 {statistics.median(timings):7.1f} ms  p95 {percentile(timings, 0.95):7.1f} ms"
          f"  max {max(timings):7.1f} ms  queries {'/'.join(map(str, sorted(counts)))}", flush=True)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--suppliers", type=int, default=200)
    parser.add_argument("--orders", type=int, default=100_000)
    parser.add_argument("--lines-per-order", type=int, default=10)
    parser.add_argument("--requests", type=int, default=40)
    args = parser.parse_args()

    print(f"Preparing PostgreSQL: {args.suppliers} suppliers, {args.orders:,} POs × {args.lines_per_order} lines", flush=True)
    env = prepare_database()
    setup_django(env)
    from django.contrib.auth import get_user_model
    from django.db import connection
    from django.test import Client

    from collaboration.models import PurchaseOrder, PurchaseOrderLine, Supplier

    generate({"suppliers": args.suppliers, "orders": args.orders, "lines": args.lines_per_order})
    print(f"  {PurchaseOrder.objects.count():,} POs, {PurchaseOrderLine.objects.count():,} lines, "
          f"{PurchaseOrder.objects.filter(status__in=PurchaseOrder.OPEN_STATUSES).count():,} awaiting an answer", flush=True)
    with connection.cursor() as cursor:
        cursor.execute("SELECT pg_size_pretty(pg_database_size(current_database()))")
        print(f"  database size {cursor.fetchone()[0]}", flush=True)

    client = Client()
    client.force_login(get_user_model().objects.create_user("bench-buyer", is_staff=True, is_superuser=True))
    supplier = Supplier.objects.order_by("code")[7]
    po = PurchaseOrder.objects.filter(supplier=supplier).order_by("-order_date").first()
    n = args.requests
    print(f"Server time over {n} requests each (after one warm-up):", flush=True)
    measure(client, "control tower, all suppliers (page with charts)", "/control-tower/", n)
    measure(client, "control tower, htmx refresh of the figures", "/control-tower/", n, hx_request="true")
    measure(client, f"control tower, supplier {supplier.code}", f"/control-tower/?supplier={supplier.code}", n)
    measure(client, "control tower, buyer P-12", "/control-tower/?buyer=P-12", n)
    measure(client, "list: overdue acknowledgements, page 1", "/control-tower/acknowledgement-overdue/", n)
    measure(client, "list: open exceptions over a week old", "/control-tower/exceptions/?age=older", n)
    measure(client, f"scorecard of {supplier.code}, last 12 months", f"/scorecards/?supplier={supplier.code}&days=365", n)
    measure(client, f"scorecard of {supplier.code}, last 12 months, CSV",
            f"/scorecards/?supplier={supplier.code}&days=365&format=csv", n)
    measure(client, f"scorecards of all {args.suppliers} suppliers, last 30 days", "/scorecards/?days=30", max(5, n // 8))
    measure(client, f"scorecards of all {args.suppliers} suppliers, last 12 months", "/scorecards/?days=365", max(5, n // 8))
    measure(client, f"timeline of {po.number}", f"/control-tower/purchase-orders/{po.number}/", n)


if __name__ == "__main__":
    main()
