"""`{{ amount|money:currency }}`: an amount in its currency as the page's language writes it
(1,234.50 EUR → "€1,234.50" in English, "1.234,50 €" in German); `{{ quantity|number }}` a quantity
("1,234.5" / "1.234,5"). Both through `portal.numbers` (Babel's CLDR data)."""
from __future__ import annotations

from django import template

from portal.numbers import money_text, number_text


register = template.Library()


@register.filter
def money(amount, currency: str) -> str:
    return money_text(amount, currency)


@register.filter
def number(value) -> str:
    return number_text(value)
