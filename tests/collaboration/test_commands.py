"""create_supplier_user, create_erp_token and demo_data."""
import pytest
from django.contrib.auth import get_user_model
from django.core.management import CommandError, call_command

from collaboration.models import Membership, Supplier
from erp_bridge.models import ErpApiToken
from erp_bridge.tokens import erp_token_authenticate


def test_creates_supplier_and_user_with_role(db, capsys):
    call_command(
        "create_supplier_user", "--supplier", "NORDWERK", "--name", "Nordwerk GmbH",
        "--email", "clerk@nordwerk.example", "--role", "sales", "--password", "a-long-enough-passphrase",
    )
    membership = Membership.objects.get()
    assert membership.supplier.name == "Nordwerk GmbH" and membership.role == "sales"
    assert membership.user.check_password("a-long-enough-passphrase")
    assert "Created user clerk@nordwerk.example" in capsys.readouterr().out


def test_unknown_supplier_without_name_fails_clearly(db):
    with pytest.raises(CommandError, match="does not exist; pass --name"):
        call_command("create_supplier_user", "--supplier", "NOBODY", "--email", "a@b.example", "--role", "sales")
    assert not get_user_model().objects.exists()


def test_weak_password_and_bad_email_are_refused(db):
    Supplier.objects.create(code="NORDWERK", name="Nordwerk")
    with pytest.raises(CommandError, match="Password rejected"):
        call_command("create_supplier_user", "--supplier", "NORDWERK", "--email", "a@b.example", "--role", "sales", "--password", "123")
    with pytest.raises(CommandError, match="not a valid e-mail"):
        call_command("create_supplier_user", "--supplier", "NORDWERK", "--email", "nope", "--role", "sales")
    assert not get_user_model().objects.exists()


def test_without_password_the_user_must_reset_it(db):
    call_command("create_supplier_user", "--supplier", "X1", "--name", "X", "--email", "a@b.example", "--role", "quality")
    assert not get_user_model().objects.get().has_usable_password()


def test_unknown_role_is_refused(db):
    with pytest.raises(CommandError):
        call_command("create_supplier_user", "--supplier", "X1", "--name", "X", "--email", "a@b.example", "--role", "boss")


def test_create_erp_token_prints_it_once_and_stores_only_its_hash(db, capsys):
    call_command("create_erp_token", "main-erp")
    raw = capsys.readouterr().out.strip()
    token = ErpApiToken.objects.get()
    assert raw.startswith("erp_") and raw not in token.key_hash
    assert erp_token_authenticate(raw) == token
    with pytest.raises(CommandError, match="exists already"):
        call_command("create_erp_token", "main-erp")


def test_demo_data_loads_orders_an_asn_and_item_rules_once(db, capsys):
    from collaboration.models import ItemRule, PurchaseOrder, Shipment

    call_command("demo_data")
    call_command("demo_data")  # again: nothing new
    assert PurchaseOrder.objects.count() == 24
    shipment = Shipment.objects.get(number="DN-1001")
    assert shipment.status == "submitted" and shipment.supplier.code == "NORDWERK"
    assert {p.sscc[1:8] for p in shipment.packages.all()} == {"4012345"} and shipment.packages.count() == 3
    assert ItemRule.objects.get(item="HSG-1040").required_documents == ["material_certificate"]
    assert "dock@nordwerk.example" in capsys.readouterr().out
    from collaboration.models import Forecast, InventoryPosition, Receipt

    # Forecasts in two versions, stock at the plant (some below minimum), the ASN booked in to invoice it.
    assert Forecast.objects.count() == 6 and all(f.version == 2 and f.versions.count() == 2 for f in Forecast.objects.all())
    assert InventoryPosition.objects.count() == 6 and any(p.below_minimum for p in InventoryPosition.objects.all())
    assert Receipt.objects.get(reference="GR-DEMO-1").purchase_order == shipment.lines.get().order_line.purchase_order
    from collaboration.models import ExceptionCase

    # One proposal outside tolerance waits for the buyer in the admin (made once, though loaded twice).
    [case] = ExceptionCase.objects.filter(kind="proposal_outside_tolerance")
    assert case.status == "open" and case.supplier.code == "NORDWERK" and case.response.order_line.response_status == "proposed"
