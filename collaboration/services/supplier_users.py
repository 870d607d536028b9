"""A supplier admin's own users: invite (an account and a link to choose a password), change role,
deactivate and reactivate. Only the supplier's admins may, never on their own access."""
from __future__ import annotations

from django.conf import settings
from django.contrib.auth import get_user_model
from django.contrib.auth.tokens import default_token_generator
from django.core.exceptions import ValidationError
from django.core.mail import send_mail
from django.core.validators import validate_email
from django.db import transaction
from django.db.models import Q
from django.template.loader import render_to_string
from django.urls import reverse
from django.utils.encoding import force_bytes
from django.utils.http import urlsafe_base64_encode
from django.utils.translation import gettext as _

from collaboration.actors import Actor
from collaboration.audit import audit_record
from collaboration.errors import Conflict, InvalidDocument, NotFound, PermissionDenied
from collaboration.models import Membership, Supplier


def _require_admin(actor: Actor, supplier_id: int) -> None:
    if actor.role_for(supplier_id) != Membership.Role.ADMIN:
        raise PermissionDenied(_("Only the supplier's admin users manage its users."))


def _lock_as_admin(actor: Actor, supplier_id: int) -> None:
    """Serialises user management per supplier and checks the actor's admin role as it stands now, not as
    it stood when the request began: two admins removing each other at once leave one of them."""
    _require_admin(actor, supplier_id)
    Supplier.objects.select_for_update().filter(pk=supplier_id).exists()
    still_admin = Membership.objects.filter(user_id=getattr(actor.user, "pk", None), supplier_id=supplier_id,
                                            role=Membership.Role.ADMIN, is_active=True, user__is_active=True)
    if not still_admin.exists():
        raise PermissionDenied(_("Only the supplier's admin users manage its users."))


def _membership_for_admin(membership_id: int, actor: Actor) -> Membership:
    """The membership, locked, if it belongs to a supplier the actor is in; other suppliers' are not found.
    No one changes their own: another admin does, so a supplier always keeps one."""
    supplier_id = Membership.objects.filter(pk=membership_id, supplier_id__in=actor.supplier_ids).values_list(
        "supplier_id", flat=True).first()
    if supplier_id is None:
        raise NotFound(_("User not found."))
    _lock_as_admin(actor, supplier_id)
    membership = Membership.objects.select_for_update().select_related("user", "supplier").get(pk=membership_id)
    if membership.user_id == getattr(actor.user, "pk", None):
        raise Conflict(_("You cannot change or deactivate your own access; ask another admin of your company."))
    return membership


def invitation_url(user) -> str:
    path = reverse("password_reset_confirm", kwargs={
        "uidb64": urlsafe_base64_encode(force_bytes(user.pk)), "token": default_token_generator.make_token(user),
    })
    return settings.PORTAL_BASE_URL.rstrip("/") + path


def supplier_user_invite(*, supplier: Supplier, email: str, name: str, role: str, actor: Actor) -> Membership:
    """A new account for `email` in the supplier with `role`; it receives a link to choose its password."""
    _require_admin(actor, supplier.pk)
    email = email.strip().lower()
    errors: dict[str, list[str]] = {}
    try:
        validate_email(email)
    except ValidationError:
        errors["email"] = [_("Enter a valid e-mail address.")]
    if role not in Membership.Role.values:
        errors["role"] = [_("Choose a role from: %(roles)s.") % {"roles": ", ".join(Membership.Role.values)}]
    User = get_user_model()
    if not errors and User.objects.filter(Q(username__iexact=email) | Q(email__iexact=email)).exists():
        # Accounts are never shared between suppliers by invitation: another company's user could be taken over.
        errors["email"] = [_("This e-mail address already has an account. Ask the buyer's portal operator to add it.")]
    if errors:
        raise InvalidDocument(_("The user cannot be invited."), details=errors)
    first_name, _space, last_name = name.strip().partition(" ")
    with transaction.atomic():
        _lock_as_admin(actor, supplier.pk)
        user = User(username=email, email=email, first_name=first_name[:150], last_name=last_name[:150])
        user.set_unusable_password()
        user.save()
        membership = Membership.objects.create(user=user, supplier=supplier, role=role)
        audit_record(actor=actor, action="supplier_user.invited", obj=membership, supplier=supplier,
                     after={"user": email, "role": role})
        message = render_to_string("emails/supplier_user_invited.txt", {
            "supplier": supplier, "user": user, "role": membership.get_role_display(), "url": invitation_url(user),
            "invited_by": actor.label,
        })
        subject = _("Your access to the supplier portal for %(supplier)s") % {"supplier": supplier.name}
        transaction.on_commit(lambda: send_mail(subject, message, settings.DEFAULT_FROM_EMAIL, [email]))
    return membership


def supplier_user_set_role(*, membership_id: int, role: str, actor: Actor) -> Membership:
    with transaction.atomic():
        membership = _membership_for_admin(membership_id, actor)
        if role not in Membership.Role.values:
            raise InvalidDocument(_("Choose a role from: %(roles)s.") % {"roles": ", ".join(Membership.Role.values)})
        if membership.role == role:
            return membership
        before = membership.role
        membership.role = role
        membership.save(update_fields=["role"])
        audit_record(actor=actor, action="supplier_user.role_changed", obj=membership, supplier=membership.supplier,
                     before={"user": membership.user.get_username(), "role": before},
                     after={"user": membership.user.get_username(), "role": role})
    return membership


def supplier_user_set_active(*, membership_id: int, active: bool, actor: Actor) -> Membership:
    """Deactivating ends the user's access to this supplier at once (the next request); an account with
    no other active membership is switched off, so it can no longer log in."""
    with transaction.atomic():
        membership = _membership_for_admin(membership_id, actor)
        if membership.is_active == active:
            return membership
        membership.is_active = active
        membership.save(update_fields=["is_active"])
        user = membership.user
        if not user.is_staff:
            keeps_access = Membership.objects.filter(user=user, is_active=True).exists()
            if user.is_active != keeps_access:
                user.is_active = keeps_access
                user.save(update_fields=["is_active"])
        audit_record(actor=actor, action="supplier_user.reactivated" if active else "supplier_user.deactivated",
                     obj=membership, supplier=membership.supplier,
                     before={"user": user.get_username(), "active": not active},
                     after={"user": user.get_username(), "active": active})
    return membership
