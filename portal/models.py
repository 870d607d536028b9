"""Cross-channel infrastructure rows: API idempotency records, users' own settings."""
from django.conf import settings
from django.db import models
from django.utils.translation import gettext_lazy as _


class IdempotencyRecord(models.Model):
    """A POST answered under an Idempotency-Key: same key and body get the same answer again."""

    principal = models.CharField(
        verbose_name=_("principal"), max_length=60, help_text=_("Whose key: 'token:<id>' or 'user:<id>'."),
    )
    key = models.CharField(verbose_name=_("key"), max_length=255)
    fingerprint = models.CharField(verbose_name=_("fingerprint"), max_length=64, help_text=_("SHA-256 of method, path and body."))
    status_code = models.PositiveSmallIntegerField(
        verbose_name=_("status code"), null=True, blank=True, help_text=_("Empty while the first request runs."),
    )
    response_body = models.JSONField(verbose_name=_("response body"), null=True, blank=True)
    created_at = models.DateTimeField(verbose_name=_("created at"), auto_now_add=True, db_index=True)

    class Meta:
        verbose_name = _("idempotency record")
        verbose_name_plural = _("idempotency records")
        constraints = [models.UniqueConstraint(fields=["principal", "key"], name="idempotency_unique_key")]


class AccountSettings(models.Model):
    """A user's own choices: the language of the portal's pages (empty: the browser's)."""

    user = models.OneToOneField(
        settings.AUTH_USER_MODEL, verbose_name=_("user"), on_delete=models.CASCADE, related_name="account_settings",
    )
    language = models.CharField(verbose_name=_("language"), max_length=10, blank=True,
                                help_text=_("Language code of the portal's pages (one of LANGUAGES); empty follows the browser."))
    updated_at = models.DateTimeField(verbose_name=_("updated at"), auto_now=True)

    class Meta:
        verbose_name = _("account settings")
        verbose_name_plural = _("account settings")

    def __str__(self) -> str:
        return f"{self.user}: {self.language or 'browser'}"
