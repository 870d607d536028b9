"""The main pages checked in Chromium with axe-core (WCAG 2.1 A/AA rules and best practices): no
serious or critical violation; and no page breaks the Content Security Policy. The figures per page
are printed (bench/RESULTS.md keeps the latest)."""
from __future__ import annotations

import re
from collections import Counter

import pytest
from axe_playwright_python.sync_playwright import Axe
from django.urls import reverse
from playwright.sync_api import Error as PlaywrightError

from collaboration import services
from collaboration.actors import Actor
from collaboration.documents import parse_inventory_position
from tests.browser.test_accept_purchase_order import log_in
from tests.factories import UserFactory
from tests.portal.test_isolation import supplier_objects

pytestmark = pytest.mark.browser

AXE_OPTIONS = {"resultTypes": ["violations"],
               "runOnly": {"type": "tag", "values": ["wcag2a", "wcag2aa", "wcag21a", "wcag21aa", "best-practice"]}}
BLOCKING = {"serious", "critical"}


def supplier_pages(objects) -> dict[str, str]:
    return {
        "Purchase orders": reverse("collaboration:purchase-order-list"),
        "Purchase order (open)": reverse("collaboration:purchase-order-detail", args=[objects.open_order]),
        "Line answer form": reverse("collaboration:line-respond", args=[objects.open_order, 20]),
        "Shipments": reverse("collaboration:shipment-list"),
        "Shipment": reverse("collaboration:shipment-detail", args=[objects.shipment]),
        "New shipment": reverse("collaboration:shipment-new"),
        "Quality documents": reverse("collaboration:quality-document-list"),
        "Upload a quality document": reverse("collaboration:quality-document-upload"),
        "Incidents": reverse("collaboration:incident-list"),
        "Incident": reverse("collaboration:incident-detail", args=[objects.incident]),
        "Forecasts": reverse("collaboration:forecast-list"),
        "Forecast": reverse("collaboration:forecast-detail", args=[objects.forecast]),
        "Inventory": reverse("collaboration:inventory-list"),
        "Invoices": reverse("collaboration:invoice-list"),
        "Invoice": reverse("collaboration:invoice-detail", args=[objects.invoice]),
        "New invoice": reverse("collaboration:invoice-new") + f"?po={objects.order}",
        "Scorecard": reverse("collaboration:scorecards"),
        "Users": reverse("collaboration:supplier-user-list"),
        "API tokens": reverse("collaboration:api-tokens"),
        "Second factor setup": reverse("two-factor-setup"),
        "Change password": reverse("password_change"),
        "Settings": reverse("account-settings"),
    }


STAFF_PAGES = {
    "Control tower": "/control-tower/",
    "Overdue answers": "/control-tower/acknowledgement-overdue/",
}


def check(page, axe: Axe, name: str, path: str, report: dict, csp_errors: list) -> None:
    page.goto(path)
    page.locator("main").wait_for()
    results = axe.run(page, options=AXE_OPTIONS).response
    report[name] = [(v["id"], v["impact"], len(v["nodes"])) for v in results["violations"]]
    assert not csp_errors, (name, csp_errors)


def test_main_pages_have_no_serious_accessibility_violations_and_keep_the_csp(
        page, transactional_db, nordwerk, settings, capsys):
    settings.GS1_COMPANY_PREFIX = "4012345"
    objects = supplier_objects(nordwerk, "A")
    services.inventory_position_record(actor=Actor.system("erp", channel="erp"), document=parse_inventory_position({
        "supplier": "NORDWERK", "item": "BRK-2201", "site": "PLANT-1", "uom": "PCE", "as_of": "2027-01-04T06:00:00Z",
        "on_hand": "10", "min_level": "100"}))  # below its minimum: the highlighted row is checked too
    UserFactory(username="buyer@plant.example", is_staff=True, is_superuser=True)
    csp_errors: list[str] = []
    page.on("console", lambda message: csp_errors.append(message.text)
            if "Content Security Policy" in message.text else None)
    axe, report = Axe(), {}

    page.goto("/accounts/login/")
    report["Log in"] = [(v["id"], v["impact"], len(v["nodes"])) for v in axe.run(page, options=AXE_OPTIONS).response["violations"]]
    log_in(page, objects.users["admin"].username)
    for name, path in supplier_pages(objects).items():
        check(page, axe, name, path, report, csp_errors)
    # Swagger UI runs under the policy too (its start-up script is a file; only its style is inline).
    page.goto("/api/docs/")
    page.get_by_text("Supplier collaboration portal API").first.wait_for()
    assert not csp_errors, csp_errors
    page.context.clear_cookies()
    log_in(page, "buyer@plant.example")
    for name, path in STAFF_PAGES.items():
        check(page, axe, name, path, report, csp_errors)

    # The instruments themselves: an image without a text alternative is found, an inline script is refused.
    page.evaluate("document.querySelector('main').insertAdjacentHTML('beforeend', '<img src=\"/static/none.png\">')")
    assert "image-alt" in {v["id"] for v in axe.run(page, options=AXE_OPTIONS).response["violations"]}
    with pytest.raises(PlaywrightError, match="Content Security Policy"):
        page.add_script_tag(content="document.body.dataset.inline = 'ran'")
    assert page.evaluate("document.body.dataset.inline") is None
    assert any("script-src" in error for error in csp_errors), csp_errors

    by_impact = Counter(impact for violations in report.values() for _, impact, _ in violations)
    with capsys.disabled():
        print(f"\naxe-core {re.search(r'axe v([0-9.]+)', axe.axe_script).group(1)} on {len(report)} pages: "
              + (", ".join(f"{impact} {count}" for impact, count in sorted(by_impact.items())) or "no violations"))
        for name, violations in report.items():
            print(f"  {name}: " + (", ".join(f"{rule} ({impact}, {nodes})" for rule, impact, nodes in violations) or "none"))
    blocking = {name: [v for v in violations if v[1] in BLOCKING] for name, violations in report.items()}
    assert {name: v for name, v in blocking.items() if v} == {}
