"""International suppliers: every marked text has a German translation (and the compiled catalogue is
current); a user's own language, else the browser's, chooses the pages' language; dates, numbers and
amounts follow it."""
from __future__ import annotations

import shutil
import subprocess
import sys
from datetime import date
from decimal import Decimal
from pathlib import Path

import polib
import pytest
from django.template import Context, Template
from django.urls import reverse
from django.utils import translation
from django.utils.text import capfirst
from django.utils.translation import gettext, ngettext

from collaboration import services
from collaboration.actors import Actor
from collaboration.models import ExceptionCase, QualityIncident, Shipment
from collaboration.services import LineResponse
from portal.models import AccountSettings
from portal.numbers import money_text
from tests.factories import create_purchase_order

ROOT = Path(__file__).resolve().parents[2]
CATALOGUE = ROOT / "locale" / "de" / "LC_MESSAGES" / "django.po"


def german(text: str) -> str:
    with translation.override("de"):
        translated = gettext(text)
    assert translated != text, f"no German for {text!r}"
    return translated


@pytest.fixture(scope="module")
def extracted(tmp_path_factory) -> polib.POFile:
    """The messages the code marks today, extracted as `makemessages` does, in a copy of the project."""
    if not shutil.which("xgettext"):
        pytest.fail("needs GNU gettext (apt-get install gettext) to extract the messages")
    copy = tmp_path_factory.mktemp("project")
    for name in ("manage.py", "portal", "collaboration", "erp_bridge", "edi", "templates"):
        source = ROOT / name
        (shutil.copytree if source.is_dir() else shutil.copy)(source, copy / name)
    (copy / "locale").mkdir()
    subprocess.run([sys.executable, "manage.py", "makemessages", "-l", "de", "--no-location"], cwd=copy, check=True,
                   capture_output=True, text=True, timeout=300)
    return polib.pofile(str(copy / "locale" / "de" / "LC_MESSAGES" / "django.po"))


def test_every_marked_text_has_a_german_translation(extracted):
    committed = {(entry.msgctxt, entry.msgid): entry for entry in polib.pofile(str(CATALOGUE))}
    missing = [entry.msgid for entry in extracted if (entry.msgctxt, entry.msgid) not in committed]
    assert missing == [], f"{len(missing)} texts not in locale/de (run `make messages`): {missing[:10]}"
    untranslated = [entry.msgid for entry in committed.values() if not entry.translated() or entry.fuzzy]
    assert untranslated == [], f"{len(untranslated)} texts without a German translation: {untranslated[:10]}"
    assert len(extracted) > 300  # the portal's pages, forms and messages, not a handful


def test_the_compiled_catalogue_is_current(tmp_path):
    compiled = tmp_path / "django.mo"
    subprocess.run(["msgfmt", "--check", "-o", str(compiled), str(CATALOGUE)], check=True, timeout=60)
    assert compiled.read_bytes() == CATALOGUE.with_suffix(".mo").read_bytes(), "run `make messages`"


def test_a_user_who_chose_german_gets_german_pages_dates_and_numbers(nordwerk, nordwerk_sales, client):
    create_purchase_order("PO-DE1", supplier=nordwerk, line_count=1)
    AccountSettings.objects.create(user=nordwerk_sales, language="de")
    client.post("/accounts/login/", {"username": nordwerk_sales.username, "password": "correct horse battery staple"})
    client.force_login(nordwerk_sales)
    page = client.get(reverse("collaboration:purchase-order-detail", args=["PO-DE1"]))
    text = page.content.decode()
    assert page["Content-Language"] == "de" and '<html lang="de">' in text
    assert german("Purchase orders") in text and german("Your answer") in text and german("Revision history") in text
    po = nordwerk.purchase_orders.get()
    assert po.order_date.strftime("%d.%m.%Y") in text and po.order_date.isoformat() not in text
    assert f"{po.lines.get().quantity:.0f}".replace(".", ",") in text
    line = po.lines.get()
    with translation.override("de"):
        price = money_text(line.unit_price, po.currency)
    assert price == "3,85\xa0€" and f'<td class="num">{price}</td>' in text  # unit price as German writes it


def test_the_shipment_quality_and_incident_pages_are_german_too(nordwerk, nordwerk_sales, client):
    shipment = Shipment.objects.create(supplier=nordwerk, number="LS-1", status="submitted", ship_to="PLANT-1",
                                       despatch_date=date(2027, 3, 1), expected_arrival=date(2027, 3, 3))
    QualityIncident.objects.create(reference="QI-1", supplier=nordwerk, item="BRK-1", quantity_on_hold=5,
                                   description="scratches", hold_status="on_hold", opened_channel="admin")
    AccountSettings.objects.create(user=nordwerk_sales, language="de")
    client.force_login(nordwerk_sales)
    pages = {
        reverse("collaboration:shipment-list"): ["Shipments", "New shipment from open lines", "Expected arrival"],
        reverse("collaboration:shipment-detail", args=[shipment.number]): ["Receipt", "Packing list (PDF)", "Serial numbers",
                                                                             "Not packed: the goods travel loose."],
        reverse("collaboration:shipment-new"): ["New shipment"],
        reverse("collaboration:shipment-upload"): ["Shipment from a spreadsheet", "Columns:"],
        reverse("collaboration:incident-list"): ["Quality incidents", "Next step due"],
        reverse("collaboration:incident-detail", args=["QI-1"]): ["Quantity on hold", "Non-conformance", "Your answer, step by step"],
        reverse("collaboration:quality-document-list"): ["Quality documents", "Validity", "No quality documents yet."],
        reverse("collaboration:quality-document-upload"): ["Upload a quality document"],
        reverse("collaboration:forecast-list"): ["Forecasts", "No forecasts yet: they appear when your customer's planning system publishes them."],
        reverse("collaboration:inventory-list"): ["Inventory", "Below minimum only"],
        reverse("collaboration:invoice-list"): ["Invoices", "No invoices yet. Start one from a purchase order or a shipment."],
    }
    for url, texts in pages.items():
        text = client.get(url).content.decode()
        for english in texts:
            assert german(english) in text, (url, english)
            assert f">{english}<" not in text, (url, english)
    assert "01.03.2027" in client.get(reverse("collaboration:shipment-list")).content.decode()


def test_the_browser_language_applies_until_the_user_chooses(nordwerk_sales, client):
    login = client.get("/accounts/login/", headers={"Accept-Language": "de-DE,de;q=0.9,en;q=0.5"})
    assert german("Log in") in login.content.decode()
    client.force_login(nordwerk_sales)
    assert german("Purchase orders") in client.get(reverse("collaboration:purchase-order-list"),
                                                   headers={"Accept-Language": "de"}).content.decode()
    # The user's choice wins over the browser's, from this request on and at every later login.
    client.post(reverse("account-settings"), {"language": "en"}, headers={"Accept-Language": "de"})
    assert AccountSettings.objects.get(user=nordwerk_sales).language == "en"
    page = client.get(reverse("collaboration:purchase-order-list"), headers={"Accept-Language": "de"})
    assert "Purchase orders" in page.content.decode() and page["Content-Language"] == "en"
    client.logout()
    client.force_login(nordwerk_sales)
    assert client.get(reverse("collaboration:purchase-order-list"), headers={"Accept-Language": "de"})["Content-Language"] == "en"
    # Back to the browser's.
    client.post(reverse("account-settings"), {"language": ""})
    assert client.get(reverse("collaboration:purchase-order-list"), headers={"Accept-Language": "de"})["Content-Language"] == "de"


def test_an_unknown_language_is_refused(nordwerk_sales, client):
    client.force_login(nordwerk_sales)
    response = client.post(reverse("account-settings"), {"language": "xx"})
    assert response.status_code == 200 and not AccountSettings.objects.filter(user=nordwerk_sales).exists()


@pytest.mark.parametrize("language, expected", [
    ("en", ["€1,234.50", "€0.1234", "¥1,500", "2026-11-30", "1,234.5000"]),
    ("de", ["1.234,50\xa0€", "0,1234\xa0€", "1.500\xa0¥", "30.11.2026", "1.234,5000"]),
])
def test_amounts_dates_and_numbers_follow_the_language(language, expected):
    template = Template('{% load money humanize %}{{ a|money:"EUR" }}|{{ b|money:"EUR" }}|{{ c|money:"JPY" }}|'
                        '{{ d|date:"SHORT_DATE_FORMAT" }}|{{ e|floatformat:"-4g" }}')
    with translation.override(language):
        rendered = template.render(Context({"a": Decimal("1234.5"), "b": Decimal("0.1234"), "c": Decimal("1500"),
                                            "d": date(2026, 11, 30), "e": Decimal("1234.5")}))
    assert rendered.split("|") == expected


def test_the_login_page_switches_language_before_anyone_logs_in(client):
    page = client.get("/accounts/login/")
    assert 'action="/i18n/setlang/"' in page.content.decode() and "Deutsch" in page.content.decode()
    client.post("/i18n/setlang/", {"language": "de", "next": "/accounts/login/"})
    assert german("Log in") in client.get("/accounts/login/").content.decode()


def test_a_buyer_who_chose_german_gets_the_admin_in_german(nordwerk, nordwerk_sales, client, django_user_model):
    create_purchase_order("PO-DE2", supplier=nordwerk, line_count=1)
    services.acknowledgement_submit(number="PO-DE2", revision=1, actor=Actor.for_user(nordwerk_sales, channel="portal"),
                                    responses=[LineResponse(line=10, action="change", quantity=Decimal("50"))])
    case = ExceptionCase.objects.get()
    buyer = django_user_model.objects.create_superuser("buyer@plant.example", "buyer@plant.example", "x-buyer-password")
    AccountSettings.objects.create(user=buyer, language="de")
    client.force_login(buyer)

    def page(url: str, *english: str) -> str:
        text = client.get(url).content.decode()
        for phrase in english:
            assert german(phrase) in text, (url, phrase)
        return text

    index = page(reverse("admin:index"), "Supplier collaboration", "ERP bridge", "Supplier portal: buyers' administration")
    assert capfirst(german("exception cases")) in index and capfirst(german("outbox messages")) in index
    listing = page(reverse("admin:collaboration_exceptioncase_changelist"), "Approve selected proposals")
    assert capfirst(german("kind")) in listing and ">Approve selected proposals<" not in listing
    detail = page(reverse("admin:collaboration_exceptioncase_change", args=[case.pk]), "Decision", "Ordered", "Proposed",
                  "Approve proposal", "Comment to the supplier")
    assert "Approve proposal" not in detail and capfirst(german("purchase order")) in detail
    page(reverse("admin:collaboration_qualityincident_add"), "Open incident", "Quantity on hold",
         "What is wrong with the goods. The supplier reads this.")
    page(reverse("admin:collaboration_purchaseorder_changelist"), "Committed later than requested")

    decided = client.post(reverse("admin:collaboration_exceptioncase_changelist"),
                          {"action": "approve_selected", "_selected_action": [case.pk]}, follow=True)
    with translation.override("de"):
        approved = ngettext("%(count)s case approved.", "%(count)s cases approved.", 1) % {"count": 1}
    assert approved != "1 case approved." and approved in decided.content.decode()
    case.refresh_from_db()
    assert case.status == "approved"
