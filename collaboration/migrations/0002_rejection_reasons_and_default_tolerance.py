"""The maintained list of rejection reasons and a default tolerance policy, editable in the admin."""
from decimal import Decimal

from django.db import migrations

REASONS = [
    ("capacity", "No capacity", False),
    ("discontinued", "Item discontinued", False),
    ("price", "Price not acceptable", False),
    ("lead_time", "Lead time too short", False),
    ("other", "Other", True),
]


def seed(apps, schema_editor):
    RejectionReason = apps.get_model("collaboration", "RejectionReason")
    TolerancePolicy = apps.get_model("collaboration", "TolerancePolicy")
    for code, label, needs_text in REASONS:
        RejectionReason.objects.get_or_create(code=code, defaults={"label": label, "needs_text": needs_text})
    if not TolerancePolicy.objects.filter(supplier=None, item="").exists():
        TolerancePolicy.objects.create(
            quantity_under_pct=Decimal("0"), quantity_over_pct=Decimal("0"),
            days_earlier=3, days_later=0, price_under_pct=Decimal("0"), price_over_pct=Decimal("0"),
        )


class Migration(migrations.Migration):
    dependencies = [("collaboration", "0001_initial")]
    operations = [migrations.RunPython(seed, migrations.RunPython.noop)]
