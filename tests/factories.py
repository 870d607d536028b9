"""factory_boy factories for the domain; purchase orders go through the real upsert service."""
from __future__ import annotations

from datetime import date, timedelta

import factory
from django.contrib.auth import get_user_model

from collaboration import services
from collaboration.actors import Actor
from collaboration.documents import parse_purchase_order
from collaboration.models import Channel, Membership, PurchaseOrder, Supplier

PASSWORD = "correct-horse-battery-staple"


class SupplierFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Supplier
        django_get_or_create = ("code",)

    code = factory.Sequence(lambda n: f"SUP{n:04d}")
    name = factory.LazyAttribute(lambda o: f"Supplier {o.code}")


class UserFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = get_user_model()
        django_get_or_create = ("username",)
        skip_postgeneration_save = True

    username = factory.Sequence(lambda n: f"user{n}@supplier.example")
    email = factory.LazyAttribute(lambda o: o.username)
    password = factory.PostGenerationMethodCall("set_password", PASSWORD)

    @factory.post_generation
    def persist_password(obj, create, extracted, **kwargs):
        if create:
            obj.save()


class MembershipFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Membership

    user = factory.SubFactory(UserFactory)
    supplier = factory.SubFactory(SupplierFactory)
    role = Membership.Role.SALES


def po_document(number: str = "PO-7001", *, supplier: str = "NORDWERK", revision: int = 1, line_count: int = 1,
                requested: date = date(2026, 12, 1), **overrides) -> dict:
    """A canonical PO document as the ERP sends it; line 10 is requested on `requested`, each next line a day later."""
    document = {
        "number": number,
        "revision": revision,
        "supplier": supplier,
        "currency": "EUR",
        "order_date": "2026-11-02",
        "ship_to": "PLANT-1",
        "lines": [
            {
                "line": 10 * (index + 1),
                "item": f"BRK-{2201 + index}",
                "description": "Brake caliper bracket",
                "quantity": "400",
                "uom": "PCE",
                "unit_price": "3.85",
                "requested_date": (requested + timedelta(days=index)).isoformat(),
            }
            for index in range(line_count)
        ],
    }
    document.update(overrides)
    return document


def create_purchase_order(number: str = "PO-7001", *, supplier: Supplier, **kwargs) -> PurchaseOrder:
    data = po_document(number, supplier=supplier.code, **kwargs)
    result = services.purchase_order_upsert(
        document=parse_purchase_order(data), actor=Actor.system("test", channel=Channel.ERP)
    )
    return result.purchase_order


def forecast_document(item: str = "BRK-2201", *, supplier: str = "NORDWERK", ship_to: str = "PLANT-1", version: int = 1,
                      start: date = date(2027, 1, 4), quantities=("400", "400", "300", "300"), firm: int = 2,
                      **overrides) -> dict:
    """A weekly forecast from the planning system: one bucket per quantity from `start`, the first
    `firm` of them firm."""
    return {
        "supplier": supplier, "item": item, "ship_to": ship_to, "version": version, "uom": "PCE",
        "description": "Brake caliper bracket",
        "buckets": [{"start": (start + timedelta(weeks=i)).isoformat(), "period": "week", "quantity": str(quantity),
                     "zone": "firm" if i < firm else "planned"} for i, quantity in enumerate(quantities)],
        **overrides,
    }


def create_forecast(item: str = "BRK-2201", **kwargs):
    from collaboration.documents import parse_forecast

    document = parse_forecast(forecast_document(item, **kwargs))
    return services.forecast_record(document=document, actor=Actor.system("planning", channel=Channel.ERP)).forecast
