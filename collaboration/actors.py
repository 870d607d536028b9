"""Who is acting: a user or a system, through which channel. Services take one explicitly."""
from __future__ import annotations

from dataclasses import dataclass, field

from django.contrib.auth.models import AbstractBaseUser

from collaboration.models import Channel, Membership


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
        memberships = dict(Membership.objects.filter(user=user).values_list("supplier_id", "role"))
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

    @property
    def supplier_ids(self) -> list[int]:
        return list(self.memberships)

    def role_for(self, supplier_id: int) -> str | None:
        return self.memberships.get(supplier_id)
