"""Database helpers shared by the apps."""
from __future__ import annotations

from django.db import models, transaction


def locked_row(model: type[models.Model], **key):
    """The row of `model` with these (unique) field values, created with defaults if missing, and
    locked until the caller's transaction ends: concurrent callers for the same row queue up here.
    Insert-if-missing never fails on a race (the conflict is ignored), then the row is read locked."""
    if not transaction.get_connection().in_atomic_block:
        raise RuntimeError("locked_row must run inside a transaction")
    model.objects.bulk_create([model(**key)], ignore_conflicts=True)
    return model.objects.select_for_update().get(**key)
