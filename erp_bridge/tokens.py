"""ERP API tokens: created once, shown once, stored as SHA-256, checked in constant time by hash lookup."""
from __future__ import annotations

import hashlib
import secrets

from django.db import transaction
from django.utils import timezone

from erp_bridge.models import ErpApiToken

TOKEN_PREFIX = "erp_"


def _hash(raw: str) -> str:
    return hashlib.sha256(raw.encode()).hexdigest()


def erp_token_create(*, name: str) -> tuple[ErpApiToken, str]:
    """Returns the token row and the raw token, which is never stored and cannot be shown again."""
    raw = TOKEN_PREFIX + secrets.token_urlsafe(32)
    with transaction.atomic():
        token = ErpApiToken.objects.create(name=name, prefix=raw[:10], key_hash=_hash(raw))
    return token, raw


def erp_token_authenticate(raw: str) -> ErpApiToken | None:
    token = ErpApiToken.objects.filter(key_hash=_hash(raw), revoked_at__isnull=True).first()
    if token is not None:
        ErpApiToken.objects.filter(pk=token.pk).update(last_used_at=timezone.now())
    return token


def erp_token_revoke(*, token: ErpApiToken) -> None:
    ErpApiToken.objects.filter(pk=token.pk, revoked_at__isnull=True).update(revoked_at=timezone.now())
