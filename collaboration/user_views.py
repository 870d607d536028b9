"""A supplier admin's user management: invite users, change their role, deactivate and reactivate them."""
from __future__ import annotations

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.utils.translation import gettext as _
from django.views.decorators.http import require_http_methods, require_POST

from collaboration import selectors
from collaboration.actors import Actor
from collaboration.errors import DomainError, InvalidDocument, NotFound
from collaboration.forms import SupplierUserInviteForm
from collaboration.models import Channel, Membership
from collaboration.services import supplier_users


def _actor(request: HttpRequest) -> Actor:
    return Actor.for_user(request.user, channel=Channel.PORTAL)


@login_required
@require_http_methods(["GET", "POST"])
def supplier_user_list(request: HttpRequest) -> HttpResponse:
    actor = _actor(request)
    suppliers = selectors.suppliers_administered(actor=actor)
    form = SupplierUserInviteForm(request.POST or None, suppliers=suppliers)
    if request.method == "POST" and form.is_valid():
        data = form.cleaned_data
        try:
            membership = supplier_users.supplier_user_invite(
                supplier=data["supplier"], email=data["email"], name=data["name"], role=data["role"], actor=actor,
            )
        except InvalidDocument as error:
            form.add_service_errors(error.details)
        except DomainError as error:
            form.add_error(None, error.message)
        else:
            messages.success(request, _("%(email)s invited as %(role)s; they received an e-mail to choose a password.")
                             % {"email": membership.user.email, "role": membership.get_role_display()})
            return redirect("collaboration:supplier-user-list")
    return render(request, "collaboration/supplier_users.html", {
        "form": form, "suppliers": suppliers, "memberships": selectors.supplier_users_for_actor(actor=actor),
        "roles": Membership.Role.choices,
    })


def _change(request: HttpRequest, change) -> HttpResponse:
    try:
        membership = change(actor=_actor(request))
    except NotFound:
        raise Http404 from None
    except DomainError as error:
        messages.error(request, error.message)
    else:
        text = _("%(user)s: %(role)s, active.") if membership.is_active else _("%(user)s: %(role)s, deactivated.")
        messages.success(request, text % {"user": membership.user.get_username(), "role": membership.get_role_display()})
    return redirect("collaboration:supplier-user-list")


@login_required
@require_POST
def supplier_user_role(request: HttpRequest, membership_id: int) -> HttpResponse:
    role = request.POST.get("role", "")
    return _change(request, lambda actor: supplier_users.supplier_user_set_role(
        membership_id=membership_id, role=role, actor=actor))


@login_required
@require_POST
def supplier_user_access(request: HttpRequest, membership_id: int) -> HttpResponse:
    active = request.POST.get("active") == "1"
    return _change(request, lambda actor: supplier_users.supplier_user_set_active(
        membership_id=membership_id, active=active, actor=actor))
