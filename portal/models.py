"""Cross-channel API infrastructure rows."""
from django.db import models


class IdempotencyRecord(models.Model):
    """A POST answered under an Idempotency-Key: same key and body get the same answer again."""

    principal = models.CharField(max_length=60, help_text="Whose key: 'token:<id>' or 'user:<id>'.")
    key = models.CharField(max_length=255)
    fingerprint = models.CharField(max_length=64, help_text="SHA-256 of method, path and body.")
    status_code = models.PositiveSmallIntegerField(null=True, blank=True, help_text="Empty while the first request runs.")
    response_body = models.JSONField(null=True, blank=True)
    created_at = models.DateTimeField(auto_now_add=True, db_index=True)

    class Meta:
        constraints = [models.UniqueConstraint(fields=["principal", "key"], name="idempotency_unique_key")]
