"""Bearer tokens for the APIs: random, shown once, stored only as SHA-256 (a token has 256 bits of
entropy, so a fast hash is enough; lookup by hash needs no constant-time comparison)."""
from __future__ import annotations

import hashlib
import secrets


def token_hash(raw: str) -> str:
    return hashlib.sha256(raw.encode()).hexdigest()


def new_token(kind: str) -> tuple[str, str, str]:
    """(raw token, display prefix, hash) for a token of a kind ('erp', 'sup')."""
    raw = f"{kind}_{secrets.token_urlsafe(32)}"
    return raw, raw[:10], token_hash(raw)


def bearer(header: str, *, kind: str) -> str | None:
    """The token of an 'Authorization: Bearer <kind>_...' header, or None if it is not one of this kind."""
    parts = header.split()
    if len(parts) == 2 and parts[0] == "Bearer" and parts[1].startswith(f"{kind}_"):
        return parts[1]
    return None
