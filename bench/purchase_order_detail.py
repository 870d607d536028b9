"""PO detail page of a 500-line PO on PostgreSQL: p50/p95 server time and query count.

Half the lines carry submitted answers (accepts, and changes split into two deliveries), a few
more a draft, so the page shows what a busy order shows. Compared with a 5-line order: the
query count must be the same. Server time is measured around Django's test client.
Usage: python bench/purchase_order_detail.py [--lines 500] [--requests 300]
"""
from __future__ import annotations

import argparse
import statistics
import sys
from datetime import timedelta
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
from database import prepare_database, setup_django  # noqa: E402
from purchase_order_list import measure, percentile  # noqa: E402


def make_order(number: str, lines: int, actor_user) -> None:
    from decimal import Decimal

    from django.utils import timezone

    from collaboration import services
    from collaboration.actors import Actor
    from collaboration.documents import parse_purchase_order
    from collaboration.services import LineResponse, ScheduleInput

    requested = timezone.localdate() + timedelta(days=60)
    document = parse_purchase_order({
        "number": number, "revision": 1, "supplier": "BIG", "currency": "EUR", "order_date": "2026-11-01",
        "ship_to": "PLANT-1",
        "lines": [{"line": 10 * (i + 1), "item": f"ITEM-{i:04d}", "description": "Machined part", "quantity": "400",
                   "uom": "PCE", "unit_price": "2.50", "requested_date": requested.isoformat()} for i in range(lines)],
    })
    services.purchase_order_upsert(document=document, actor=Actor.system("bench", channel="erp"))
    actor = Actor.for_user(actor_user, channel="portal")
    answered = [
        LineResponse(line=10 * (i + 1), action="accept") if i % 2 == 0 else
        LineResponse(line=10 * (i + 1), action="change", schedule=(
            ScheduleInput(Decimal("150"), requested), ScheduleInput(Decimal("250"), requested + timedelta(days=7))))
        for i in range(lines // 2)
    ]
    if answered:
        services.acknowledgement_submit(number=number, revision=1, responses=answered, actor=actor)
    for i in range(lines // 2, min(lines, lines // 2 + 5)):
        services.acknowledgement_draft_save(number=number, revision=1, actor=actor,
                                            response=LineResponse(line=10 * (i + 1), action="accept"))


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--lines", type=int, default=500)
    parser.add_argument("--requests", type=int, default=300)
    args = parser.parse_args()

    print("Preparing the benchmark database ...", flush=True)
    setup_django(prepare_database())
    from django.contrib.auth import get_user_model
    from django.test import Client
    from django.urls import reverse

    from collaboration.models import Membership, Supplier

    supplier = Supplier.objects.create(code="BIG", name="Supplier BIG")
    user = get_user_model().objects.create_user("sales@big.example", password="bench-password-123")
    Membership.objects.create(user=user, supplier=supplier, role="sales")
    for number, lines in (("BIG-LARGE", args.lines), ("BIG-SMALL", 5)):
        print(f"Creating {number} with {lines} lines and answers ...", flush=True)
        make_order(number, lines, user)

    client = Client()
    client.force_login(user)
    print(f"\nPO detail page, {args.requests} requests each:")
    print(f"{'order':<20}{'p50 ms':>9}{'p95 ms':>9}{'max ms':>9}  queries")
    for number, lines in (("BIG-LARGE", args.lines), ("BIG-SMALL", 5)):
        url = reverse("collaboration:purchase-order-detail", args=[number])
        client.get(url)  # warm-up
        timings, counts = measure(client, url, [{}], args.requests)
        print(f"{f'{lines} lines':<20}{statistics.median(timings):9.1f}{percentile(timings, 0.95):9.1f}"
              f"{max(timings):9.1f}  {sorted(counts)}")


if __name__ == "__main__":
    main()
