"""`{{ amount|money:currency }}`: an amount in its currency as the page's language writes it
(1,234.50 EUR → "€1,234.50" in English, "1.234,50 €" in German), through Babel's CLDR data."""
from __future__ import annotations

from decimal import Decimal, InvalidOperation

from babel.numbers import format_currency
from django import template
from django.utils import translation


register = template.Library()


@register.filter
def money(amount, currency: str) -> str:
    if amount is None or amount == "":
        return ""
    try:
        value = Decimal(str(amount))
    except InvalidOperation:
        return str(amount)
    locale = translation.to_locale(translation.get_language() or "en")
    # Unit prices of small parts may carry more decimals than the currency's minor unit: keep them.
    return format_currency(value, currency, locale=locale, decimal_quantization=False)
