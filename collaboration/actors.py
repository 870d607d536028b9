"""Who is acting: a user or a system, through which channel. Services take one explicitly."""
from __future__ import annotations

from dataclasses import dataclass, field

from django.contrib.auth.models import AbstractBaseUser

from collaboration.models import Channel, Membership


TOKEN_ROLE = "api-token"


@dataclass(frozen=True)
class Actor:
    channel: str
    label: str
    user: AbstractBaseUser | None = None
    # Supplier id -> role, for supplier users; empty for staff and systems.
    memberships: dict[int, str] = field(default_factory=dict)
    is_staff: bool = False

    @classmethod
    def for_user(cls, user: AbstractBaseUser, *, channel: str) -> Actor:
        memberships = dict(Membership.objects.filter(user=user, is_active=True).values_list("supplier_id", "role"))
        return cls(
            channel=channel,
            label=user.get_username(),
            user=user,
            memberships=memberships,
            is_staff=bool(user.is_staff),
        )

    @classmethod
    def system(cls, label: str, *, channel: str = Channel.SYSTEM) -> Actor:
        return cls(channel=channel, label=label)

    # API tokens act for a supplier with scopes instead of a role.
    scopes: frozenset[str] = frozenset()

    @classmethod
    def for_token(cls, token) -> Actor:
        return cls(
            channel=Channel.API,
            label=f"api-token:{token.prefix}",
            user=None,
            memberships={token.supplier_id: TOKEN_ROLE},
            scopes=frozenset(token.scopes),
        )

    @property
    def supplier_ids(self) -> list[int]:
        return list(self.memberships)

    def role_for(self, supplier_id: int) -> str | None:
        return self.memberships.get(supplier_id)

    def can_acknowledge(self, supplier_id: int) -> bool:
        role = self.memberships.get(supplier_id)
        if role == TOKEN_ROLE:
            return "acknowledge" in self.scopes
        return role in (Membership.Role.ADMIN, Membership.Role.SALES)

    def can_ship(self, supplier_id: int) -> bool:
        """Create and change shipment notices: admin, logistics or sales users; tokens with 'ship'."""
        role = self.memberships.get(supplier_id)
        if role == TOKEN_ROLE:
            return "ship" in self.scopes
        return role in (Membership.Role.ADMIN, Membership.Role.LOGISTICS, Membership.Role.SALES)

    def can_commit_forecast(self, supplier_id: int) -> bool:
        """Capacity commitments against forecasts: admin or sales users; tokens with 'plan'."""
        role = self.memberships.get(supplier_id)
        if role == TOKEN_ROLE:
            return "plan" in self.scopes
        return role in (Membership.Role.ADMIN, Membership.Role.SALES)

    def can_invoice(self, supplier_id: int) -> bool:
        """Invoices: admin or sales users; tokens with 'invoice'."""
        role = self.memberships.get(supplier_id)
        if role == TOKEN_ROLE:
            return "invoice" in self.scopes
        return role in (Membership.Role.ADMIN, Membership.Role.SALES)

    def can_manage_quality(self, supplier_id: int) -> bool:
        """Quality documents and incident answers: admin or quality users; tokens with 'quality'."""
        role = self.memberships.get(supplier_id)
        if role == TOKEN_ROLE:
            return "quality" in self.scopes
        return role in (Membership.Role.ADMIN, Membership.Role.QUALITY)
