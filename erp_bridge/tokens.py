"""ERP API tokens: created once, shown once, stored as SHA-256, checked in constant time by hash lookup."""
from __future__ import annotations

from django.db import transaction
from django.utils import timezone

from erp_bridge.models import ErpApiToken
from portal.api_tokens import new_token, token_hash

TOKEN_KIND = "erp"


def erp_token_create(*, name: str) -> tuple[ErpApiToken, str]:
    """Returns the token row and the raw token, which is never stored and cannot be shown again."""
    raw, prefix, key_hash = new_token(TOKEN_KIND)
    with transaction.atomic():
        token = ErpApiToken.objects.create(name=name, prefix=prefix, key_hash=key_hash)
    return token, raw


def erp_token_authenticate(raw: str) -> ErpApiToken | None:
    token = ErpApiToken.objects.filter(key_hash=token_hash(raw), revoked_at__isnull=True).first()
    if token is not None:
        ErpApiToken.objects.filter(pk=token.pk).update(last_used_at=timezone.now())
    return token


def erp_token_revoke(*, token: ErpApiToken) -> None:
    ErpApiToken.objects.filter(pk=token.pk, revoked_at__isnull=True).update(revoked_at=timezone.now())
