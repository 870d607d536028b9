"""A supplier admin invites, re-roles, deactivates and reactivates the supplier's own users."""
from __future__ import annotations

import re

import pytest
from django.contrib.auth import get_user_model
from django.urls import reverse

from collaboration.actors import Actor
from collaboration.errors import Conflict, InvalidDocument, NotFound, PermissionDenied
from collaboration.models import AuditEvent, Membership
from collaboration.services.supplier_users import supplier_user_invite, supplier_user_set_active, supplier_user_set_role
from tests.factories import PASSWORD, MembershipFactory, UserFactory, create_purchase_order

User = get_user_model()


@pytest.fixture
def admin(nordwerk):
    return MembershipFactory(user=UserFactory(username="admin@nordwerk.example"), supplier=nordwerk, role="admin").user


def actor(user) -> Actor:
    return Actor.for_user(user, channel="portal")


def invite(nordwerk, admin, email="new.clerk@nordwerk.example", role="sales", name="Nina Clerk") -> Membership:
    return supplier_user_invite(supplier=nordwerk, email=email, name=name, role=role, actor=actor(admin))


def logs_in(client, username: str, password: str) -> bool:
    """Through the login form, as a person does (the lockout guard wants the request)."""
    return client.post("/accounts/login/", {"username": username, "password": password}).status_code == 302


def state() -> list:
    return sorted(Membership.objects.values_list("user__username", "supplier__code", "role", "is_active", "user__is_active"))


def test_an_invited_user_chooses_a_password_from_the_mail_and_sees_the_supplier(
        nordwerk, admin, client, mailoutbox, settings, django_capture_on_commit_callbacks):
    settings.PORTAL_BASE_URL = "https://portal.example.com"
    create_purchase_order("PO-U1", supplier=nordwerk)
    with django_capture_on_commit_callbacks(execute=True):
        membership = invite(nordwerk, admin, email="New.Clerk@Nordwerk.example")
    user = membership.user
    assert (user.username, user.email, user.first_name, user.last_name) == (
        "new.clerk@nordwerk.example", "new.clerk@nordwerk.example", "Nina", "Clerk")
    assert not user.has_usable_password() and membership.role == "sales"
    audit = AuditEvent.objects.get(action="supplier_user.invited")
    assert audit.actor == admin and audit.after == {"user": user.email, "role": "sales"}
    [mail] = mailoutbox
    assert mail.to == [user.email] and "Nordwerk Metallteile GmbH" in mail.subject and "as Sales" in mail.body
    link = re.search(r"https://portal\.example\.com(/accounts/reset/\S+)", mail.body).group(1)
    form_page = client.get(link, follow=True)
    assert form_page.status_code == 200 and b"new_password1" in form_page.content
    client.post(form_page.redirect_chain[-1][0], {"new_password1": "Quartz-Lantern-83", "new_password2": "Quartz-Lantern-83"})
    assert logs_in(client, user.username, "Quartz-Lantern-83")
    assert b"PO-U1" in client.get(reverse("collaboration:purchase-order-list")).content
    # The link works once.
    client.logout()
    assert b"new_password1" not in client.get(link, follow=True).content


@pytest.mark.parametrize("email, role, field", [
    ("not-an-address", "sales", "email"),
    ("x@nordwerk.example", "owner", "role"),
    ("sales@alpenguss.example", "sales", "email"),  # another supplier's user: never joined by invitation
    ("ADMIN@nordwerk.example", "sales", "email"),
])
def test_a_bad_invitation_is_refused_and_creates_nothing(nordwerk, admin, alpenguss_sales, email, role, field, mailoutbox):
    before, users = state(), User.objects.count()
    with pytest.raises(InvalidDocument) as error:
        invite(nordwerk, admin, email=email, role=role)
    assert list(error.value.details) == [field]
    assert state() == before and User.objects.count() == users and mailoutbox == []


def test_only_the_suppliers_admins_invite_and_manage(nordwerk, alpenguss, admin, nordwerk_sales, alpenguss_sales):
    before = state()
    with pytest.raises(PermissionDenied):
        invite(nordwerk, nordwerk_sales)
    with pytest.raises(PermissionDenied):
        invite(alpenguss, admin)
    sales_membership = nordwerk_sales.memberships.get()
    with pytest.raises(PermissionDenied):
        supplier_user_set_role(membership_id=admin.memberships.get().pk, role="sales", actor=actor(nordwerk_sales))
    # Another supplier's user is not found at all, so an admin learns nothing about it.
    with pytest.raises(NotFound):
        supplier_user_set_active(membership_id=alpenguss_sales.memberships.get().pk, active=False, actor=actor(admin))
    assert state() == before and sales_membership.role == "sales"


def test_deactivated_users_lose_access_at_once_and_reactivation_restores_it(nordwerk, admin, nordwerk_sales, client):
    create_purchase_order("PO-U2", supplier=nordwerk)
    client.force_login(nordwerk_sales)
    assert client.get(reverse("collaboration:purchase-order-detail", args=["PO-U2"])).status_code == 200
    membership = supplier_user_set_active(membership_id=nordwerk_sales.memberships.get().pk, active=False, actor=actor(admin))
    nordwerk_sales.refresh_from_db()
    assert not membership.is_active and not nordwerk_sales.is_active
    # The open session ends with the next request, and the password no longer logs in.
    assert client.get(reverse("collaboration:purchase-order-detail", args=["PO-U2"])).status_code == 302
    assert not logs_in(client, nordwerk_sales.username, PASSWORD)
    assert actor(nordwerk_sales).supplier_ids == []
    assert AuditEvent.objects.filter(action="supplier_user.deactivated").count() == 1
    supplier_user_set_active(membership_id=membership.pk, active=True, actor=actor(admin))
    assert logs_in(client, nordwerk_sales.username, PASSWORD)
    assert client.get(reverse("collaboration:purchase-order-detail", args=["PO-U2"])).status_code == 200


def test_a_user_of_two_suppliers_keeps_the_other(nordwerk, alpenguss, admin, nordwerk_sales):
    MembershipFactory(user=nordwerk_sales, supplier=alpenguss, role="logistics")
    supplier_user_set_active(membership_id=nordwerk_sales.memberships.get(supplier=nordwerk).pk, active=False, actor=actor(admin))
    nordwerk_sales.refresh_from_db()
    assert nordwerk_sales.is_active and actor(nordwerk_sales).memberships == {alpenguss.pk: "logistics"}


def test_no_one_changes_their_own_access_so_a_supplier_keeps_an_admin(nordwerk, admin):
    second = MembershipFactory(user=UserFactory(username="second@nordwerk.example"), supplier=nordwerk, role="admin")
    with pytest.raises(Conflict, match="your own access"):
        supplier_user_set_active(membership_id=admin.memberships.get().pk, active=False, actor=actor(admin))
    with pytest.raises(Conflict, match="your own access"):
        supplier_user_set_role(membership_id=admin.memberships.get().pk, role="sales", actor=actor(admin))
    # Two admins removing each other at once: each request's actor was read before the other's change.
    admin_then, second_then = actor(admin), actor(second.user)
    supplier_user_set_active(membership_id=second.pk, active=False, actor=admin_then)
    with pytest.raises(PermissionDenied):
        supplier_user_set_active(membership_id=admin.memberships.get().pk, active=False, actor=second_then)
    assert Membership.objects.filter(supplier=nordwerk, role="admin", is_active=True).get().user == admin


def test_the_users_page_invites_and_changes_users(nordwerk, admin, nordwerk_sales, client, django_assert_max_num_queries,
                                                   django_capture_on_commit_callbacks, mailoutbox):
    client.force_login(admin)
    page = client.get(reverse("collaboration:supplier-user-list"))
    assert page.status_code == 200 and b"sales@nordwerk.example" in page.content and b"Send invitation" in page.content
    with django_capture_on_commit_callbacks(execute=True):
        response = client.post(reverse("collaboration:supplier-user-list"),
                               {"supplier": nordwerk.pk, "email": "dock@nordwerk.example", "name": "", "role": "logistics"}, follow=True)
    assert b"dock@nordwerk.example invited as Logistics" in response.content and len(mailoutbox) == 1
    response = client.post(reverse("collaboration:supplier-user-list"),
                           {"supplier": nordwerk.pk, "email": "dock@nordwerk.example", "role": "logistics"})
    assert b"already has an account" in response.content
    sales = nordwerk_sales.memberships.get()
    client.post(reverse("collaboration:supplier-user-role", args=[sales.pk]), {"role": "quality"})
    response = client.post(reverse("collaboration:supplier-user-access", args=[sales.pk]), {"active": "0"}, follow=True)
    sales.refresh_from_db()
    assert (sales.role, sales.is_active) == ("quality", False) and b"Reactivate" in response.content
    response = client.post(reverse("collaboration:supplier-user-access", args=[admin.memberships.get().pk]), {"active": "0"}, follow=True)
    assert b"your own access" in response.content
    for index in range(10):
        MembershipFactory(user=UserFactory(username=f"u{index}@nordwerk.example"), supplier=nordwerk)
    with django_assert_max_num_queries(8):
        client.get(reverse("collaboration:supplier-user-list"))


def test_users_of_other_roles_are_told_who_manages_users(nordwerk_sales, client):
    client.force_login(nordwerk_sales)
    page = client.get(reverse("collaboration:supplier-user-list"))
    assert b"Only a supplier's admin users manage its users" in page.content and b"Send invitation" not in page.content
