"""Cross-channel infrastructure rows: API idempotency records, users' own settings."""
from django.conf import settings
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


class AccountSettings(models.Model):
    """A user's own choices: the language of the portal's pages (empty: the browser's)."""

    user = models.OneToOneField(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="account_settings")
    language = models.CharField(max_length=10, blank=True,
                                help_text="Language code of the portal's pages (one of LANGUAGES); empty follows the browser.")
    updated_at = models.DateTimeField(auto_now=True)

    def __str__(self) -> str:
        return f"{self.user}: {self.language or 'browser'}"
