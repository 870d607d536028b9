"""A local Tryton ERP for development, the demo and tests: template database, server, simulated receipts.

Runs INSIDE the Tryton venv (`.venv-tryton/bin/python erp_bridge/tryton/demo_erp.py ...`), never in
the portal's venv: it imports trytond and proteus, Tryton's own scripting library.
"""
from __future__ import annotations

import argparse
import datetime as dt
import json
import os
import shutil
import sqlite3
import subprocess
import sys
import time
from decimal import Decimal
from pathlib import Path

TEMPLATE_DB = "template"
BUILD_DB = "template-build"
MODULES = ["purchase", "stock", "purchase_amendment"]
ADMIN_PASSWORD = "tryton-demo-admin"  # local demo only; the portal uses the application key
PORTAL_LOGIN = "portal"

SUPPLIERS = [
    ("NORDWERK", "Nordwerk Metallteile GmbH", "Stuttgart"),
    ("ALPENGUSS", "Alpenguss AG", "Innsbruck"),
    ("FOUNDRY-X", "Foundry X Ltd", "Sheffield"),
]
PRODUCTS = [
    ("BRK-2201", "Brake caliper bracket", "3.85"),
    ("BRK-2202", "Brake caliper bracket, left", "3.95"),
    ("HSG-3100", "Gearbox housing, cast", "48.50"),
    ("SHF-4410", "Drive shaft blank", "12.20"),
    ("FLG-5120", "Mounting flange", "6.75"),
    ("CVR-6001", "Pump cover, die cast", "9.40"),
]
# (supplier, [(product, quantity, days from today until delivery)])
PURCHASES = [
    ("NORDWERK", [("BRK-2201", 400, 21), ("BRK-2202", 250, 21), ("FLG-5120", 1000, 35)]),
    ("NORDWERK", [("SHF-4410", 120, 28), ("FLG-5120", 500, 42)]),
    ("ALPENGUSS", [("HSG-3100", 60, 30), ("CVR-6001", 300, 30)]),
    ("ALPENGUSS", [("CVR-6001", 800, 45), ("HSG-3100", 40, 60), ("BRK-2201", 200, 25)]),
    ("FOUNDRY-X", [("SHF-4410", 90, 20), ("BRK-2202", 150, 40)]),
]


def say(message: str) -> None:
    """Progress for the long steps; stderr so stdout stays machine-readable."""
    print(f"[demo-erp] {message}", file=sys.stderr, flush=True)


def conf_path(directory: Path) -> Path:
    return directory / "trytond.conf"


def ensure_conf(directory: Path) -> Path:
    path = conf_path(directory)
    return path if path.exists() else write_conf(directory)


def write_conf(directory: Path) -> Path:
    """SQLite databases live as DIR/<name>.sqlite; [web] listen is left to `serve` (TRYTOND_WEB__LISTEN)."""
    directory.mkdir(parents=True, exist_ok=True)
    (directory / "attachments").mkdir(exist_ok=True)
    path = conf_path(directory)
    path.write_text(
        "[database]\n"
        "uri = sqlite://\n"
        f"path = {directory}\n"
        "language = en\n"
        "\n"
        "[attachment]\n"
        f"path = {directory / 'attachments'}\n"
    )
    return path


def tryton_bin(name: str) -> str:
    return str(Path(sys.executable).with_name(name))


# --- proteus session -----------------------------------------------------------------------------


def connect(directory: Path, database: str):
    """Open an in-process proteus session as admin with the company context loaded."""
    from proteus import Model, config

    cfg = config.set_trytond(database=database, user="admin", config_file=str(conf_path(directory)))
    User = Model.get("res.user")
    cfg._context = User.get_preferences(True, {})
    return cfg


def find_one(model: str, domain: list):
    from proteus import Model

    records = Model.get(model).find(domain)
    if len(records) != 1:
        raise SystemExit(f"expected one {model} for {domain}, found {len(records)}")
    return records[0]


# --- build-template ------------------------------------------------------------------------------


def build_template(directory: Path, force: bool = False) -> Path:
    """Build DIR/template.sqlite once: module activation (slow) and demo data. Idempotent."""
    directory = directory.resolve()
    template = directory / f"{TEMPLATE_DB}.sqlite"
    key_file = directory / "api-key.txt"
    script_mtime = Path(__file__).stat().st_mtime
    if not force and template.exists() and key_file.exists() and template.stat().st_mtime > script_mtime:
        say(f"template is up to date: {template}")
        return template

    conf = write_conf(directory)
    building = directory / f"{BUILD_DB}.sqlite"
    remove_database(building)
    building.touch()  # trytond-admin only initialises an existing SQLite file
    passfile = directory / "admin-password.txt"
    passfile.write_text(ADMIN_PASSWORD + "\n")

    say(f"activating {', '.join(MODULES)} (about a minute on SQLite)...")
    started = time.monotonic()
    subprocess.run(
        [tryton_bin("trytond-admin"), "-c", str(conf), "-d", BUILD_DB, "--all", "-u", *MODULES,
         "--activate-dependencies", "--email", "admin@buyer.example"],
        check=True,
        env={**os.environ, "TRYTONPASSFILE": str(passfile)},
        stdin=subprocess.DEVNULL,
    )
    say(f"modules activated in {time.monotonic() - started:.1f} s")

    started = time.monotonic()
    say("creating company, suppliers, products, purchases and the portal user...")
    # A child process, so that all of trytond's SQLite connections are closed before the checkpoint.
    key = subprocess.run(
        [sys.executable, str(Path(__file__).resolve()), "demo-data", "--dir", str(directory), "--db", BUILD_DB],
        check=True, stdout=subprocess.PIPE, text=True,
    ).stdout.strip()
    say(f"demo data created in {time.monotonic() - started:.1f} s")

    checkpoint(building)
    key_file.write_text(key + "\n")
    building.replace(template)  # last, so a half-built template is never taken for a good one
    say(f"template ready: {template}")
    return template


def _create_demo_data(directory: Path, database: str) -> str:
    connect(directory, database)
    company = _create_company()
    connect(directory, database)  # reload the context, now with the company
    _create_accounting(company)
    _create_masters()
    for supplier, lines in PURCHASES:
        number = create_purchase(supplier, lines)
        say(f"  purchase {number} for {supplier} confirmed")
    return _create_portal_user(company)


def _create_company():
    from proteus import Model

    Currency = Model.get("currency.currency")
    Party = Model.get("party.party")
    Company = Model.get("company.company")
    User = Model.get("res.user")

    eur = Currency(name="Euro", code="EUR", symbol="€", rounding=Decimal("0.01"), digits=2)
    eur.save()
    party = Party(name="Plant Buyer Corp", code="PLANT-BUYER")
    party.addresses[0].city = "Linz"
    party.save()
    company = Company(party=party, currency=eur, timezone="Europe/Vienna")
    company.save()
    admin, = User.find([("login", "=", "admin")])
    admin.companies.append(Company(company.id))
    admin.company = company
    admin.save()
    return company


def _create_accounting(company) -> None:
    """A minimal chart of accounts (Tryton's English template), this year's fiscal year with monthly
    periods and its invoice sequences: enough for supplier invoices to be filed as drafts."""
    from dateutil.relativedelta import relativedelta
    from proteus import Model, Wizard
    from proteus.config import get_config

    AccountTemplate = Model.get("account.account.template")
    Account = Model.get("account.account")
    FiscalYear = Model.get("account.fiscalyear")
    SequenceType = Model.get("ir.sequence.type")
    StrictSequence = Model.get("ir.sequence.strict")

    ModelData = Model.get("ir.model.data")
    root = AccountTemplate(ModelData.get_id("account.account_template_root_en", get_config().context))
    wizard = Wizard("account.create_chart")
    wizard.execute("account")
    wizard.form.account_template = root
    wizard.form.company = company
    wizard.execute("create_account")
    payable, = Account.find([("type.payable", "=", True), ("party_required", "=", True), ("company", "=", company.id)], limit=1)
    receivable, = Account.find([("type.receivable", "=", True), ("party_required", "=", True), ("company", "=", company.id)],
                               limit=1)
    expense, = Account.find([("type.expense", "=", True), ("closed", "!=", True), ("company", "=", company.id)], limit=1)
    wizard.form.account_payable = payable
    wizard.form.account_receivable = receivable
    if hasattr(wizard.form, "category_account_expense"):
        wizard.form.category_account_expense = expense
    wizard.execute("create_properties")

    today = dt.date.today()
    year = FiscalYear(name=str(today.year), company=company,
                      start_date=today - relativedelta(months=6, day=1), end_date=today + relativedelta(months=6, day=31))
    move_type, = SequenceType.find([("name", "=", "Account Move")], limit=1)
    year.move_sequence = StrictSequence(name=f"Moves {today.year}", sequence_type=move_type, company=company)
    year.move_sequence.save()
    invoice_type, = SequenceType.find([("name", "=", "Invoice")], limit=1)
    invoices = StrictSequence(name=f"Invoices {today.year}", sequence_type=invoice_type, company=company)
    invoices.save()
    numbering, = year.invoice_sequences
    numbering.in_invoice_sequence = numbering.in_credit_note_sequence = invoices
    numbering.out_invoice_sequence = numbering.out_credit_note_sequence = invoices
    year.save()
    year.click("create_period")


def _create_masters() -> None:
    from proteus import Model

    Party = Model.get("party.party")
    Location = Model.get("stock.location")
    Category = Model.get("product.category")
    Uom = Model.get("product.uom")
    Template = Model.get("product.template")
    PurchaseConfiguration = Model.get("purchase.configuration")

    warehouse, = Location.find([("type", "=", "warehouse")])
    warehouse.name = "Plant 1"
    warehouse.code = "PLANT-1"
    warehouse.save()

    # Supplier invoices come from the portal (filed as drafts against the purchase lines), not from Tryton.
    configuration = PurchaseConfiguration(1)
    configuration.purchase_invoice_method = "manual"
    configuration.save()
    sequence = configuration.purchase_sequence
    sequence.prefix = "PO-"
    sequence.number_next = 7001
    sequence.save()

    for code, name, city in SUPPLIERS:
        party = Party(name=name, code=code)
        party.addresses[0].city = city
        party.save()

    # accounting=True with no supplier taxes lets purchase lines compute (empty) taxes; invoice lines
    # are booked to the chart's expense account.
    Account = Model.get("account.account")
    expense, = Account.find([("type.expense", "=", True)], limit=1)
    category = Category(name="Purchased components", accounting=True, account_expense=expense)
    category.save()
    unit, = Uom.find([("name", "=", "Unit")])
    for code, name, price in PRODUCTS:
        template = Template(
            name=name, code=code, type="goods", default_uom=unit, purchasable=True,
            account_category=category, list_price=Decimal(price) * 2,
        )
        template.products[0].cost_price = Decimal(price)
        template.save()


def _create_portal_user(company) -> str:
    """A dedicated user with the Purchase and Stock groups; returns its REST application key."""
    from proteus import Model

    User = Model.get("res.user")
    Group = Model.get("res.group")
    Company = Model.get("company.company")
    Application = Model.get("res.user.application")

    portal = User(name="Supplier portal", login=PORTAL_LOGIN)
    for name in ("Purchase", "Purchase Amendment", "Stock", "Accounting"):
        group, = Group.find([("name", "=", name)])
        portal.groups.append(Group(group.id))
    portal.companies.append(Company(company.id))
    portal.company = Company(company.id)
    portal.save()
    application = Application(user=portal, application="rest")
    application.save()
    return application.key


def create_purchase(supplier: str, lines: list[tuple[str, float, int]]) -> str:
    """Create a purchase, quote and confirm it; Tryton's queued `process` moves it to processing."""
    from proteus import Model

    Purchase = Model.get("purchase.purchase")
    party = find_one("party.party", [("code", "=", supplier)])
    today = dt.date.today()
    purchase = Purchase(party=party, reference=f"DEMO-{supplier}-{len(Purchase.find([])) + 1}")
    for product_code, quantity, days in lines:
        product = find_one("product.product", [("code", "=", product_code)])
        line = purchase.lines.new()
        line.product = product
        line.quantity = float(quantity)
        line.unit_price = product.cost_price
        line.delivery_date_edit = True
        line.delivery_date = today + dt.timedelta(days=days)
    purchase.save()
    purchase.click("quote")
    purchase.click("confirm")
    purchase.reload()
    return purchase.number


def remove_database(database: Path) -> None:
    for path in (database, Path(f"{database}-wal"), Path(f"{database}-shm")):
        path.unlink(missing_ok=True)


def checkpoint(database: Path) -> None:
    """Fold trytond's write-ahead log into the file, so that copying the one .sqlite file is enough."""
    connection = sqlite3.connect(database)
    try:
        connection.execute("PRAGMA wal_checkpoint(TRUNCATE)")
        connection.execute("PRAGMA journal_mode = DELETE")
    finally:
        connection.close()


# --- database copies and the server --------------------------------------------------------------


def ensure_database(directory: Path, database: str) -> Path:
    """Copy the template to DIR/<database>.sqlite unless that database already exists."""
    directory = directory.resolve()
    ensure_conf(directory)
    target = directory / f"{database}.sqlite"
    if not target.exists():
        remove_database(target)  # a stale write-ahead log must not be replayed onto the copy
        template = directory / f"{TEMPLATE_DB}.sqlite"
        if not template.exists():
            raise SystemExit(f"no template at {template}: run build-template --dir {directory} first")
        shutil.copyfile(template, target)
        say(f"database {database} copied from the template")
    return target


def serve(directory: Path, database: str, host: str, port: int) -> None:
    directory = directory.resolve()
    ensure_database(directory, database)
    env = {**os.environ, "TRYTOND_WEB__LISTEN": f"{host}:{port}"}
    say(f"serving http://{host}:{port}/{database}/ (REST: /{database}/rest/model/<model>)")
    argv = [tryton_bin("trytond"), "-c", str(conf_path(directory)), "-d", database]
    os.execve(argv[0], argv, env)


# --- receive / add-purchase ----------------------------------------------------------------------


def receive(directory: Path, database: str, number: str | None, quantity: float | None, line_id: int | None,
            asn: str | None = None) -> list[dict]:
    """Receive the pending incoming moves of a purchase through a new supplier shipment, or the draft
    supplier shipment the portal filed for an ASN (`asn`: its number), done at once."""
    from proteus import Model

    ensure_database(directory, database)
    connect(directory.resolve(), database)
    Move = Model.get("stock.move")
    Shipment = Model.get("stock.shipment.in")
    if asn:
        shipment = find_one("stock.shipment.in", [("reference", "=", asn), ("state", "=", "draft")])
        return _receive(shipment)
    purchase = find_one("purchase.purchase", [("number", "=", number)])
    domain = [
        ("origin.purchase", "=", purchase.id, "purchase.line"),
        ("state", "=", "draft"),
        ("shipment", "=", None),
        ("from_location.type", "=", "supplier"),
    ]
    if line_id is not None:
        domain.append(("origin", "=", f"purchase.line,{line_id}"))
    moves = Move.find(domain)
    if not moves:
        raise SystemExit(f"purchase {number} has no pending incoming moves")
    shipment = Shipment(supplier=purchase.party, warehouse=purchase.warehouse, reference=f"RCV-{number}")
    for move in moves:
        incoming = Move(move.id)
        if quantity is not None:
            incoming.quantity = min(float(quantity), incoming.quantity)
        shipment.incoming_moves.append(incoming)
    shipment.save()
    return _receive(shipment)


def _receive(shipment) -> list[dict]:
    shipment.click("receive")
    shipment.click("do")
    shipment.reload()
    return [
        {"move": move.id, "line": move.origin.id, "product": move.product.code,
         "quantity": move.quantity, "effective_date": str(move.effective_date)}
        for move in shipment.incoming_moves
    ]


def parse_line(text: str) -> tuple[str, float, int]:
    """PRODUCT:QUANTITY[:DAYS] — DAYS until delivery, default 30."""
    product, quantity, *rest = text.split(":")
    return product, float(quantity), int(rest[0]) if rest else 30


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    commands = parser.add_subparsers(dest="command", required=True)

    build = commands.add_parser("build-template", help="activate modules and create demo data once")
    build.add_argument("--dir", type=Path, required=True)
    build.add_argument("--force", action="store_true", help="rebuild even if the template is current")

    srv = commands.add_parser("serve", help="run trytond in the foreground on a copy of the template")
    srv.add_argument("--dir", type=Path, required=True)
    srv.add_argument("--db", required=True)
    srv.add_argument("--port", type=int, required=True)
    srv.add_argument("--host", default="127.0.0.1")

    rcv = commands.add_parser("receive", help="receive the pending incoming moves of a purchase")
    rcv.add_argument("--dir", type=Path, required=True)
    rcv.add_argument("--db", required=True)
    target = rcv.add_mutually_exclusive_group(required=True)
    target.add_argument("--purchase", help="purchase number")
    target.add_argument("--asn", help="receive the draft supplier shipment filed for this ASN number")
    rcv.add_argument("--quantity", type=float, help="receive at most this quantity per move")
    rcv.add_argument("--line", type=int, help="only this purchase line id")

    add = commands.add_parser("add-purchase", help="create and confirm one more purchase")
    add.add_argument("--dir", type=Path, required=True)
    add.add_argument("--db", required=True)
    add.add_argument("--supplier", required=True, help="supplier party code")
    add.add_argument("--line", action="append", type=parse_line, dest="lines",
                     help="PRODUCT:QUANTITY[:DAYS], repeatable (default BRK-2201:100:30)")

    data = commands.add_parser("demo-data", help="(internal step of build-template)")
    data.add_argument("--dir", type=Path, required=True)
    data.add_argument("--db", required=True)

    args = parser.parse_args(argv)
    if args.command == "demo-data":
        print(_create_demo_data(args.dir.resolve(), args.db))
    elif args.command == "build-template":
        build_template(args.dir, force=args.force)
    elif args.command == "serve":
        serve(args.dir, args.db, args.host, args.port)
    elif args.command == "receive":
        print(json.dumps(receive(args.dir, args.db, args.purchase, args.quantity, args.line, args.asn)))
    elif args.command == "add-purchase":
        ensure_database(args.dir, args.db)
        connect(args.dir.resolve(), args.db)
        number = create_purchase(args.supplier, args.lines or [("BRK-2201", 100, 30)])
        print(json.dumps({"number": number}))


if __name__ == "__main__":
    main()
