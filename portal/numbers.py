"""Numbers and amounts on the portal's pages, as the page's language writes them: "48.2" and
"€48.20" in English, "48,2" and "48,20 €" in German. Canonical documents, files and APIs keep their
own fixed spelling (`collaboration.documents.decimal_text`); these are for people.
"""
from __future__ import annotations

from decimal import Decimal, InvalidOperation

from babel.numbers import format_currency
from django.utils import formats, translation


def _locale() -> str:
    return translation.to_locale(translation.get_language() or "en")


def _decimal(value) -> Decimal | None:
    if value is None or value == "":
        return None
    try:
        return Decimal(str(value))
    except InvalidOperation:
        return None


def number_text(value) -> str:
    """A quantity with the decimals it has (no trailing zeros), with the decimal separator of the
    page's language and, like `floatformat` elsewhere on the pages, no grouping."""
    number = _decimal(value)
    if number is None:
        return "" if value is None else str(value)
    text = format(number, "f")
    return formats.number_format(Decimal(text.rstrip("0").rstrip(".") if "." in text else text))


def money_text(amount, currency: str) -> str:
    """An amount in its currency (CLDR's pattern for the language); unit prices of small parts keep
    the decimals they have beyond the currency's minor unit."""
    number = _decimal(amount)
    if number is None:
        return "" if amount is None else str(amount)
    return format_currency(number, currency, locale=_locale(), decimal_quantization=False)
