"""Supplier API tokens: a supplier's admin creates (seen once) and revokes them; only hashes are stored."""
from __future__ import annotations

from datetime import datetime

from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from collaboration.actors import Actor
from collaboration.audit import audit_record
from collaboration.errors import InvalidDocument, NotFound, PermissionDenied
from collaboration.models import Membership, Supplier, SupplierApiToken
from portal.api_tokens import new_token, token_hash

TOKEN_KIND = "sup"


def _require_admin(actor: Actor, supplier_id: int) -> None:
    if actor.role_for(supplier_id) != Membership.Role.ADMIN:
        raise PermissionDenied(_("Only the supplier's admin users manage API tokens."))


def api_token_create(
    *, supplier: Supplier, name: str, scopes: list[str], expires_at: datetime | None, actor: Actor
) -> tuple[SupplierApiToken, str]:
    """Returns the token and its raw value, which cannot be shown again."""
    _require_admin(actor, supplier.pk)
    errors = {}
    if not name.strip():
        errors["name"] = [_("Give the token a name (e.g. the system that uses it).")]
    unknown = set(scopes) - set(SupplierApiToken.Scope.values)
    if not scopes or unknown:
        errors["scopes"] = [_("Choose scopes from: %(scopes)s.") % {"scopes": ", ".join(SupplierApiToken.Scope.values)}]
    if expires_at is not None and expires_at <= timezone.now():
        errors["expires_at"] = [_("The expiry must lie in the future.")]
    if errors:
        raise InvalidDocument(_("The token cannot be created."), details=errors)
    raw, prefix, key_hash = new_token(TOKEN_KIND)
    with transaction.atomic():
        token = SupplierApiToken.objects.create(
            supplier=supplier, name=name.strip(), prefix=prefix, key_hash=key_hash, scopes=sorted(set(scopes)),
            created_by=actor.user, expires_at=expires_at,
        )
        audit_record(actor=actor, action="api_token.created", obj=token, supplier=supplier,
                     after={"name": token.name, "scopes": token.scopes, "prefix": prefix})
    return token, raw


def api_token_revoke(*, token_id: int, actor: Actor) -> SupplierApiToken:
    with transaction.atomic():
        token = SupplierApiToken.objects.select_for_update().filter(pk=token_id, supplier_id__in=actor.supplier_ids).first()
        if token is None:
            raise NotFound(_("Token not found."))
        _require_admin(actor, token.supplier_id)
        if token.revoked_at is None:
            token.revoked_at = timezone.now()
            token.save(update_fields=["revoked_at"])
            audit_record(actor=actor, action="api_token.revoked", obj=token, supplier=token.supplier,
                         after={"name": token.name, "prefix": token.prefix})
        return token


def api_token_authenticate(raw: str) -> SupplierApiToken | None:
    """The active token with this value (recording its use), or None: revoked and expired tokens fail at once."""
    token = SupplierApiToken.objects.select_related("supplier").filter(key_hash=token_hash(raw)).first()
    if token is None or not token.is_active or not token.supplier.is_active:
        return None
    SupplierApiToken.objects.filter(pk=token.pk).update(last_used_at=timezone.now())
    return token
