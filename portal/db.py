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


def update_by_pk(model: type[models.Model], field: str, values: dict) -> None:
    """Set `field` to a value per primary key in one UPDATE. (Django's bulk_update compiles a CASE
    branch per row in Python: for the hundreds of rows of one receipt that dominated its cost.)"""
    if not values:
        return
    connection = transaction.get_connection()
    quote = connection.ops.quote_name
    table, pk = quote(model._meta.db_table), quote(model._meta.pk.column)
    column = quote(model._meta.get_field(field).column)
    rows = " UNION ALL ".join(["SELECT %s AS pk, %s AS value"] * len(values))
    # UPDATE ... FROM: PostgreSQL, and SQLite from 3.33.
    sql = f"UPDATE {table} SET {column} = v.value FROM ({rows}) AS v WHERE {table}.{pk} = v.pk"
    with connection.cursor() as cursor:
        cursor.execute(sql, [item for pair in values.items() for item in pair])
