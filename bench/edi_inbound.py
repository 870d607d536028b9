"""EDIFACT inbound: a DESADV file through the whole inbound path, next to pydifact's bare parse; ORDERS out.

1. ORDERS generated: `purchase_orders_upsert` of `--orders` new POs (batches of 250, as the
   importer does) for a supplier without a trading partner, and for one whose partner has ORDERS
   enabled (the import then queues one ORDERS interchange per PO in the same transaction); the
   difference is what ORDERS cost on top of the import. Also `order_message_body` +
   `build_interchange` alone ("build only") for the same orders.
2. `--desadv-orders` of the partner's POs are accepted through `acknowledgement_accept_remaining`.
3. A DESADV file of `--messages` messages (each: a pallet and `--cartons` cartons, every package
   with its own SSCC under the supplier's GS1 prefix, one LIN/QTY/RFF+ON/GIN+BX per carton; about
   1.6 KB a message, 8 MB for 5,000), in `--interchanges` interchange(s), CRLF after each segment.
   Timed on the same bytes in the same run: `edi.codec.parse_file` (codec alone), pydifact 0.2.3
   `Interchange.from_str` (bare parse, one interchange only) and `edi.inbound.receive_file` (decode,
   validate, map, store: one shipment per message, the interchange record, CONTRL queued, outbox
   events), with its query count. Every message must be accepted.
4. With `--profile N`: cProfile of `receive_file` on another file of N messages.

Database: SQLite (default, a file under the work directory) or PostgreSQL (`--database postgres`,
database `bench_edi_inbound` on 127.0.0.1:5432, or BENCH_DATABASE_URL), created afresh and dropped
at the end (`--keep` keeps it). Celery's broker is the settings' default (filesystem) in the work
directory, so on-commit nudges cost what they cost in the demo set-up.
Usage: python bench/edi_inbound.py [--messages 5000] [--database sqlite|postgres] [--skip-pydifact] [--profile 500]
"""
from __future__ import annotations

import argparse
import cProfile
import gc
import io
import os
import pstats
import shutil
import subprocess
import sys
import tempfile
import time
from datetime import date, datetime, timedelta
from pathlib import Path
from urllib.parse import urlparse

ROOT = Path(__file__).resolve().parent.parent
POSTGRES_URL = "postgres://postgres@127.0.0.1:5432/bench_edi_inbound"
SUPPLIER, PLAIN_SUPPLIER = "EDIBENCH", "PLAINBENCH"
SUPPLIER_PREFIX, PORTAL_PREFIX = "4099999", "4012345"  # the supplier's own GS1 prefix; the portal's
PARTNER_ID = ("4099999000008", "14")
BATCH = 250  # POs per purchase_orders_upsert call, as manage.py import_purchase_orders does


def log(text: str) -> None:
    print(text, flush=True)


# --- database ------------------------------------------------------------------------------------

def prepare_database(kind: str, work: Path) -> tuple[dict[str, str], callable]:
    """A fresh, migrated database; returns the environment for Django and a function that drops it."""
    var = work / "var"
    shutil.rmtree(var, ignore_errors=True)
    var.mkdir(parents=True)
    if kind == "sqlite":
        path = work / "bench_edi_inbound.sqlite3"
        for suffix in ("", "-wal", "-shm"):
            Path(f"{path}{suffix}").unlink(missing_ok=True)
        url = f"sqlite:///{path}"

        def drop() -> None:
            for suffix in ("", "-wal", "-shm"):
                Path(f"{path}{suffix}").unlink(missing_ok=True)
    else:
        url = os.environ.get("BENCH_DATABASE_URL", POSTGRES_URL)
        parsed = urlparse(url)
        name = parsed.path.lstrip("/")
        if name in ("test", "postgres", "template0", "template1", ""):
            raise SystemExit(f"refusing to use the database {name!r}: give BENCH_DATABASE_URL a database of its own")
        admin_url = parsed._replace(path="/postgres").geturl()
        import psycopg

        with psycopg.connect(admin_url, autocommit=True) as conn:
            conn.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
            conn.execute(f'CREATE DATABASE "{name}"')

        def drop() -> None:
            from django.db import connections

            connections.close_all()
            with psycopg.connect(admin_url, autocommit=True) as conn:
                conn.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
    env = {
        **os.environ,
        "DATABASE_URL": url,
        "ALLOWED_HOSTS": "testserver,localhost,127.0.0.1",
        "PORTAL_VAR_DIR": str(var),
        "EDI_MAILBOX_ROOT": str(work / "mailboxes"),
        "LOG_LEVEL": "WARNING",
        "GS1_COMPANY_PREFIX": PORTAL_PREFIX,
        "DJANGO_SETTINGS_MODULE": "portal.settings",
    }
    subprocess.run([sys.executable, "manage.py", "migrate", "--noinput", "-v0"], cwd=ROOT, env=env, check=True)
    return env, drop


def setup_django(env: dict[str, str]) -> None:
    os.environ.update(env)
    sys.path.insert(0, str(ROOT))
    import django

    django.setup()


class QueryCounter:
    """Counts the statements sent on the default connection (an execute wrapper: cheap). With
    `progress`, prints a line every `progress` shipments inserted (receive_file has no hook of its own)."""

    def __init__(self, progress: int = 0, total: int = 0) -> None:
        self.count = 0
        self.progress, self.total, self.shipments = progress, total, 0
        self.started = time.perf_counter()

    def __call__(self, execute, sql, params, many, context):
        self.count += 1
        if self.progress and sql.startswith('INSERT INTO "collaboration_shipment" '):
            self.shipments += 1
            if self.shipments % self.progress == 0:
                elapsed = time.perf_counter() - self.started
                log(f"    {self.shipments:,}/{self.total:,} shipments stored, {elapsed:.1f} s, "
                    f"{self.shipments / elapsed:,.0f} messages/s so far")
        return execute(sql, params, many, context)

    def __enter__(self) -> QueryCounter:
        from django.db import connection

        self._context = connection.execute_wrapper(self)
        self._context.__enter__()
        return self

    def __exit__(self, *exc) -> None:
        self._context.__exit__(*exc)


def timed(run):
    gc.collect()
    started = time.perf_counter()
    result = run()
    return time.perf_counter() - started, result


# --- documents -----------------------------------------------------------------------------------

def po_document(number: str, supplier: str, lines: int, today: date) -> dict:
    return {
        "number": number, "revision": 1, "supplier": supplier, "currency": "EUR", "order_date": today.isoformat(),
        "ship_to": "PLANT-1",
        "lines": [{"line": 10 * (k + 1), "item": f"ITM-{k + 1:05d}", "description": f"Bench part {k + 1}, zinc-plated",
                   "quantity": "10000", "uom": "PCE", "unit_price": "3.85",
                   "requested_date": (today + timedelta(days=30 + k)).isoformat()} for k in range(lines)],
    }


class DesadvWriter:
    """DESADV messages of the portal's profile, with unique SSCCs under the supplier's prefix."""

    def __init__(self, *, orders: list[str], lines_per_order: int, cartons: int, today: date) -> None:
        from collaboration.gs1 import sscc_compose

        self.sscc_compose = sscc_compose
        self.orders, self.lines_per_order, self.cartons = orders, lines_per_order, cartons
        self.despatch = today.strftime("%Y%m%d")
        self.arrival = (today + timedelta(days=2)).strftime("%Y%m%d")
        self.serial = 0
        self.asn = 0

    def sscc(self) -> str:
        self.serial += 1
        return self.sscc_compose(extension=3, prefix=SUPPLIER_PREFIX, serial=self.serial)

    def message(self) -> tuple[str, list]:
        self.asn += 1
        order = self.orders[(self.asn - 1) % len(self.orders)]
        body: list[tuple[str, list]] = [
            ("BGM", ["351", f"ASN-{self.asn:07d}", "9"]),
            ("DTM", [("11", self.despatch, "102")]),
            ("DTM", [("132", self.arrival, "102")]),
            ("RFF", [("ON", order)]),
            ("NAD", ["ST", "PLANT-1"]),
            ("TDT", ["12", "", "", "", ("DHLF", "", "", "DHL Freight GmbH")]),
            ("RFF", [("CN", f"JJD{self.asn:014d}")]),
            ("CPS", ["1"]),
            ("PAC", ["1", "", "PX"]),
            ("PCI", ["33E"]),
            ("GIN", ["BJ", self.sscc()]),
        ]
        for k in range(self.cartons):
            line = 10 * (k % self.lines_per_order + 1)
            body += [
                ("CPS", [str(k + 2), "1"]),
                ("PAC", ["1", "", "CT"]),
                ("PCI", ["33E"]),
                ("GIN", ["BJ", self.sscc()]),
                ("LIN", [str(k + 1), "", (f"ITM-{k % self.lines_per_order + 1:05d}", "BP")]),
                ("QTY", [("12", "10", "PCE")]),
                ("RFF", [("ON", order, str(line))]),
                ("GIN", ["BX", f"LOT-{self.asn:07d}-{k + 1:02d}"]),
            ]
        return "DESADV", body

    def file(self, messages: int, interchanges: int, first_ref: int) -> bytes:
        from django.conf import settings

        from edi.codec import build_interchange

        per = -(-messages // interchanges)
        chunks, made = [], 0
        for index in range(interchanges):
            count = min(per, messages - made)
            if count <= 0:
                break
            specs = []
            for number in range(1, count + 1):
                kind, body = self.message()
                specs.append((kind, "D", "96A", "UN", f"M{number}", body))
            made += count
            chunks.append(build_interchange(
                sender=PARTNER_ID, recipient=(settings.EDI_OWN_ID, settings.EDI_OWN_QUALIFIER),
                control_ref=f"DSV{first_ref + index:08d}", syntax_id="UNOC", messages=specs, una=True,
                line_breaks=True, prepared_at=datetime(2026, 11, 20, 9, 30),
            ))
        return b"".join(chunks)


# --- phases --------------------------------------------------------------------------------------

def orders_phase(args, today: date) -> dict:
    from collaboration import services
    from collaboration.actors import Actor
    from collaboration.documents import parse_purchase_order
    from collaboration.models import Channel, PurchaseOrder
    from edi.codec import build_interchange
    from edi.models import Interchange
    from edi.orders import DIRECTORIES, order_message_body
    from edi.outbound import own_party, partner_party

    erp = Actor.system("bench", channel=Channel.ERP)
    figures = {}
    documents = {supplier: [parse_purchase_order(po_document(f"PO-{tag}-{n:06d}", supplier, args.lines_per_order, today))
                            for n in range(args.orders)]
                 for supplier, tag in ((PLAIN_SUPPLIER, "P"), (SUPPLIER, "E"))}
    batches = list(range(0, args.orders, BATCH))
    seconds = {PLAIN_SUPPLIER: 0.0, SUPPLIER: 0.0}
    queries = {PLAIN_SUPPLIER: 0, SUPPLIER: 0}
    # Interleaved batches, so both suppliers meet tables of the same size.
    for start in batches:
        for supplier in (PLAIN_SUPPLIER, SUPPLIER):
            batch = documents[supplier][start:start + BATCH]
            with QueryCounter() as counter:
                elapsed, results = timed(lambda: services.purchase_orders_upsert(documents=batch, actor=erp))
            assert all(getattr(r, "outcome", None) == "created" for r in results), results[:3]
            seconds[supplier] += elapsed
            queries[supplier] += counter.count
        log(f"  {min(start + BATCH, args.orders)}/{args.orders} POs imported for each supplier")
    queued = Interchange.objects.filter(direction="out", message_types=["ORDERS"]).count()
    assert queued == args.orders, f"{queued} ORDERS queued for {args.orders} POs"
    assert not Interchange.objects.filter(direction="out", status="rejected").exists()
    figures["import"] = (seconds[PLAIN_SUPPLIER], queries[PLAIN_SUPPLIER])
    figures["import+orders"] = (seconds[SUPPLIER], queries[SUPPLIER])

    from edi.models import TradingPartner

    partner = TradingPartner.objects.get(supplier__code=SUPPLIER)
    canonical = [document.canonical for document in documents[SUPPLIER]]

    def build_all() -> int:
        size = 0
        for n, document in enumerate(canonical):
            kind, body = order_message_body(document, changes=None, syntax_id=partner.charset)
            size += len(build_interchange(
                sender=own_party(), recipient=partner_party(partner), control_ref=f"{n + 1:08d}", syntax_id=partner.charset,
                syntax_version=str(partner.syntax_version), una=True, line_breaks=True,
                messages=[(kind, *DIRECTORIES[partner.directory], "1", body)]))
        return size

    figures["build"] = min(timed(build_all)[0] for _ in range(3))
    figures["orders_bytes"] = sum(len(bytes(raw)) for raw in Interchange.objects.filter(
        direction="out", message_types=["ORDERS"]).values_list("raw", flat=True)[:100]) / min(100, args.orders)
    assert PurchaseOrder.objects.count() == 2 * args.orders
    return figures


def print_orders(args, orders: dict) -> None:
    plain_s, plain_q = orders["import"]
    with_s, with_q = orders["import+orders"]
    n = args.orders
    log(f"ORDERS out ({n:,} new POs of {args.lines_per_order} lines, {orders['orders_bytes']:,.0f} bytes per ORDERS interchange)")
    log(f"  {'step':52s} {'seconds':>8s} {'per second':>11s} {'queries':>9s}")
    log(f"  {'build only (order_message_body + build_interchange)':52s} {orders['build']:8.2f} "
        f"{n / orders['build']:11,.0f} {'':>9s}")
    log(f"  {'PO import, supplier without EDI partner':52s} {plain_s:8.2f} {n / plain_s:11,.0f} {plain_q:9,}")
    log(f"  {'PO import + ORDERS queued (partner with ORDERS)':52s} {with_s:8.2f} {n / with_s:11,.0f} {with_q:9,}")
    extra = with_s - plain_s
    log(f"  {'ORDERS on top of the import (difference)':52s} {extra:8.2f} "
        f"{(n / extra if extra > 0 else float('inf')):11,.0f} {with_q - plain_q:9,}")


def accept_orders(numbers: list[str], actor) -> float:
    from collaboration import services

    started = time.perf_counter()
    for index, number in enumerate(numbers, 1):
        services.acknowledgement_accept_remaining(number=number, actor=actor)
        if index % 100 == 0 or index == len(numbers):
            log(f"  {index}/{len(numbers)} POs accepted")
    return time.perf_counter() - started


def summarize(results) -> tuple[int, int, list[str]]:
    accepted = rejected = 0
    problems = []
    for result in results:
        for message in result.messages:
            if message.status == "accepted":
                accepted += 1
            else:
                rejected += 1
                if len(problems) < 5:
                    problems.append(f"{result.control_ref}/{message.ref}: "
                                    + "; ".join(f"[{e.code}] {e.tag}@{e.position}: {e.text}" for e in message.errors))
        if result.errors and len(problems) < 5:
            problems.append(f"{result.control_ref}: " + "; ".join(f"[{e.code}] {e.text}" for e in result.errors))
    return accepted, rejected, problems


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--messages", type=int, default=5000, help="DESADV messages in the file (default 5000)")
    parser.add_argument("--cartons", type=int, default=9, help="cartons (with a LIN each) per pallet and message")
    parser.add_argument("--interchanges", type=int, default=1, help="interchanges in the file (pydifact needs 1)")
    parser.add_argument("--orders", type=int, default=1000, help="POs imported per supplier for the ORDERS figure")
    parser.add_argument("--desadv-orders", type=int, default=500, help="POs accepted and shipped by the DESADVs")
    parser.add_argument("--lines-per-order", type=int, default=10)
    parser.add_argument("--database", choices=["sqlite", "postgres"], default="sqlite")
    parser.add_argument("--skip-pydifact", action="store_true")
    parser.add_argument("--profile", type=int, default=0, metavar="N",
                        help="also profile receive_file on a file of N further messages (0: no profile)")
    parser.add_argument("--profile-top", type=int, default=30)
    parser.add_argument("--profile-out", default="", help="write the raw cProfile stats to this file")
    parser.add_argument("--work-dir", default=str(Path(tempfile.gettempdir()) / "bench_edi_inbound"))
    parser.add_argument("--keep", action="store_true", help="keep the database afterwards")
    args = parser.parse_args()
    args.desadv_orders = min(args.desadv_orders, args.orders)

    work = Path(args.work_dir)
    work.mkdir(parents=True, exist_ok=True)
    log(f"Preparing the {args.database} database (migrate) ...")
    env, drop = prepare_database(args.database, work)
    setup_django(env)
    try:
        run(args, work)
    finally:
        if not args.keep:
            drop()


def run(args, work: Path) -> None:
    from django.conf import settings
    from django.contrib.auth import get_user_model
    from django.db import connection

    from collaboration.actors import Actor
    from collaboration.models import Membership, Package, Shipment, Supplier
    from edi import codec
    from edi.inbound import receive_file
    from edi.models import Interchange
    from edi.partners import trading_partner_add

    log(f"  {connection.vendor} {connection.Database.sqlite_version if connection.vendor == 'sqlite' else ''}"
        f"{connection.settings_dict['NAME']}, Celery broker {settings.CELERY_BROKER_URL}")
    today = date.today()
    supplier = Supplier.objects.create(code=SUPPLIER, name="EDI bench supplier", gs1_company_prefix=SUPPLIER_PREFIX)
    Supplier.objects.create(code=PLAIN_SUPPLIER, name="Bench supplier without EDI")
    user = get_user_model().objects.create_user("shipping@edibench.example")
    Membership.objects.create(user=user, supplier=supplier, role="admin")
    trading_partner_add(supplier_code=SUPPLIER, edi_id=PARTNER_ID[0], qualifier=PARTNER_ID[1],
                        mailbox=str(work / "mailboxes" / SUPPLIER),
                        message_types=["ORDERS", "ORDCHG", "ORDRSP", "DESADV", "CONTRL"])

    log(f"1. ORDERS: {args.orders:,} new POs of {args.lines_per_order} lines imported per supplier "
        f"(batches of {BATCH}), with and without an EDI partner")
    orders = orders_phase(args, today)
    print_orders(args, orders)

    numbers = [f"PO-E-{n:06d}" for n in range(args.desadv_orders)]
    log(f"2. Accepting {len(numbers)} POs (acknowledgement_accept_remaining) for the DESADVs to ship ...")
    accept_seconds = accept_orders(numbers, Actor.for_user(user, channel="portal"))
    log(f"  {len(numbers)} POs accepted in {accept_seconds:.1f} s ({len(numbers) / accept_seconds:.1f}/s)")

    log(f"3. DESADV file: {args.messages:,} messages, {args.cartons} cartons + 1 pallet each, "
        f"{args.interchanges} interchange(s)")
    writer = DesadvWriter(orders=numbers, lines_per_order=args.lines_per_order, cartons=args.cartons, today=today)
    generate_seconds, data = timed(lambda: writer.file(args.messages, args.interchanges, first_ref=1))
    mb = len(data) / 1_000_000
    segments = data.count(b"'\r\n")
    log(f"  {len(data):,} bytes ({mb:.2f} MB, {len(data) / args.messages:,.0f} bytes/message), {segments:,} segments, "
        f"{writer.serial:,} SSCCs; generated in {generate_seconds:.2f} s")

    log("  edi.codec.parse_file ...")
    codec_seconds, parsed = min((timed(lambda: codec.parse_file(data)) for _ in range(2)), key=lambda pair: pair[0])
    codec_errors = sum(len(ic.errors) for ic in parsed)
    assert codec_errors == 0, [e for ic in parsed for e in ic.errors][:5]
    assert sum(len(ic.messages) for ic in parsed) == args.messages
    del parsed

    pydifact_seconds = None
    if args.skip_pydifact:
        log("  pydifact: skipped (--skip-pydifact)")
    elif args.interchanges != 1:
        log("  pydifact: skipped (it refuses a file of several interchanges; use --interchanges 1)")
    else:
        import warnings

        warnings.simplefilter("ignore")  # pydifact warns about missing XML directories
        from pydifact.segmentcollection import Interchange as PydifactInterchange

        log("  pydifact 0.2.3 Interchange.from_str ...")

        def pydifact_parse():
            interchange = PydifactInterchange.from_str(data.decode("latin-1"))
            return len(interchange.segments), sum(1 for _ in interchange.get_messages())

        pydifact_seconds, (py_segments, py_messages) = timed(pydifact_parse)
        assert py_messages == args.messages, py_messages

    log("  edi.inbound.receive_file (decode, validate, map, store) ...")
    shipments_before = Shipment.objects.count()
    gc.collect()
    with QueryCounter(progress=max(100, args.messages // 10), total=args.messages) as counter:
        full_seconds, results = timed(lambda: receive_file(data, file_name="bench-desadv.edi"))
    accepted, rejected, problems = summarize(results)
    shipments = Shipment.objects.count() - shipments_before
    for problem in problems:
        log(f"  ! {problem}")
    statuses = sorted({r.status for r in results})

    rate = args.messages / full_seconds
    log("")
    log(f"DESADV inbound, {args.database}: {args.messages:,} messages, {mb:.2f} MB, {segments:,} segments")
    log(f"  {'step':46s} {'seconds':>8s} {'messages/s':>11s} {'MB/s':>7s} {'queries':>9s}")
    log(f"  {'edi.codec.parse_file (codec alone, best of 2)':46s} {codec_seconds:8.2f} "
        f"{args.messages / codec_seconds:11,.0f} {mb / codec_seconds:7.2f} {'':>9s}")
    if pydifact_seconds is not None:
        log(f"  {'pydifact Interchange.from_str (bare parse)':46s} {pydifact_seconds:8.2f} "
            f"{args.messages / pydifact_seconds:11,.0f} {mb / pydifact_seconds:7.2f} {'':>9s}")
    log(f"  {'edi.inbound.receive_file (whole inbound path)':46s} {full_seconds:8.2f} {rate:11,.0f} "
        f"{mb / full_seconds:7.2f} {counter.count:9,}")
    log(f"  receive_file: {len(results)} interchange(s) {statuses}, messages accepted {accepted:,}, rejected {rejected:,}; "
        f"{shipments:,} shipments stored; {counter.count / args.messages:.1f} queries/message")
    if pydifact_seconds is not None:
        ratio = full_seconds / pydifact_seconds
        log(f"  full path / pydifact bare parse = {ratio:.2f} (goal <= 1.00: "
            f"{'met' if ratio <= 1 else 'not met'}); codec / pydifact = {codec_seconds / pydifact_seconds:.3f}")
    assert accepted == args.messages and rejected == 0, f"{accepted} accepted, {rejected} rejected"
    assert shipments == args.messages
    assert Package.objects.filter(shipment__supplier=supplier).count() == args.messages * (args.cartons + 1)
    assert Interchange.objects.filter(direction="in", status="accepted").count() == len(results)

    if args.profile:
        log("")
        log(f"4. Profile of receive_file on {args.profile:,} further messages ...")
        extra_data = writer.file(args.profile, 1, first_ref=1000)
        profiler = cProfile.Profile()
        started = time.perf_counter()
        profiler.enable()
        results = receive_file(extra_data, file_name="bench-desadv-profile.edi")
        profiler.disable()
        elapsed = time.perf_counter() - started
        accepted, rejected, problems = summarize(results)
        for problem in problems:
            log(f"  ! {problem}")
        log(f"  {accepted} accepted, {rejected} rejected, {elapsed:.2f} s under the profiler "
            f"({args.profile / elapsed:,.0f} messages/s)")
        if args.profile_out:
            profiler.dump_stats(args.profile_out)
        for order in ("cumulative", "tottime"):
            stream = io.StringIO()
            pstats.Stats(profiler, stream=stream).strip_dirs().sort_stats(order).print_stats(args.profile_top)
            log(f"--- sorted by {order} ---")
            log("\n".join(line for line in stream.getvalue().splitlines() if line.strip())[:20000])


if __name__ == "__main__":
    main()
