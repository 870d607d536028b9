"""`{{ label|in_sentence }}`: a choice label as it reads inside a sentence (lower-cased in English,
kept in German, whose nouns are capitalised). The one rule lives in `collaboration.errors`."""
from __future__ import annotations

from django import template

from collaboration.errors import in_sentence as _in_sentence


register = template.Library()


@register.filter
def in_sentence(label) -> str:
    return _in_sentence(label)
