"""How supplier systems reach API v1: bearer tokens with scopes, and a request rate per token."""
from __future__ import annotations

from django.conf import settings
from drf_spectacular.extensions import OpenApiAuthenticationExtension
from rest_framework import authentication, exceptions, permissions, throttling

from collaboration.models import SupplierApiToken
from collaboration.services import api_token_authenticate
from collaboration.services.api_tokens import TOKEN_KIND
from portal.api_tokens import bearer


class TokenUser:
    """request.user for a token: authenticated, not a person, not staff."""

    is_authenticated = True
    is_staff = False
    is_active = True
    pk = None

    def __init__(self, token: SupplierApiToken) -> None:
        self.token = token

    def get_username(self) -> str:
        return f"api-token:{self.token.prefix}"


class SupplierTokenAuthentication(authentication.BaseAuthentication):
    def authenticate(self, request):
        raw = bearer(authentication.get_authorization_header(request).decode(errors="replace"), kind=TOKEN_KIND)
        if raw is None:
            return None
        token = api_token_authenticate(raw)
        if token is None:
            raise exceptions.AuthenticationFailed("Unknown, expired or revoked API token.")
        return TokenUser(token), token

    def authenticate_header(self, request) -> str:
        return "Bearer"


class SupplierTokenScheme(OpenApiAuthenticationExtension):
    target_class = SupplierTokenAuthentication
    name = "supplierToken"

    def get_security_definition(self, auto_schema):
        return {"type": "http", "scheme": "bearer",
                "description": "A supplier API token (created by the supplier's admin in the portal)."}


class TokenScopes(permissions.BasePermission):
    """Reads need the 'read' scope (or one a view names in `token_read_scopes`, e.g. 'quality' for
    quality documents); writes are checked by the services ('acknowledge')."""

    message = "This API token lacks the 'read' scope."

    def has_permission(self, request, view) -> bool:
        token = request.auth
        if not isinstance(token, SupplierApiToken) or request.method not in permissions.SAFE_METHODS:
            return True
        allowed = getattr(view, "token_read_scopes", (SupplierApiToken.Scope.READ,))
        return any(scope in token.scopes for scope in allowed)


class SupplierRateThrottle(throttling.SimpleRateThrottle):
    """Requests per token (or per logged-in user); 429 with Retry-After beyond API_THROTTLE_RATE."""

    scope = "supplier_api"

    def get_rate(self) -> str:
        return settings.API_THROTTLE_RATE

    def get_cache_key(self, request, view):
        if isinstance(request.auth, SupplierApiToken):
            ident = f"token-{request.auth.pk}"
        elif request.user and request.user.is_authenticated:
            ident = f"user-{request.user.pk}"
        else:
            ident = self.get_ident(request)
        return self.cache_format % {"scope": self.scope, "ident": ident}
