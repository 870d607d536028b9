"""Accounts: login throttling and lockout, password rules, the TOTP second factor (optional, or
mandatory for staff and supplier admins), cookie flags and the security headers."""
from __future__ import annotations

import json
import subprocess
import sys
import time

import pytest
from django.urls import reverse
from django_otp import devices_for_user
from django_otp.oath import TOTP
from django_otp.plugins.otp_static.models import StaticToken
from django_otp.plugins.otp_totp.models import TOTPDevice

from collaboration.models import AuditEvent
from tests.factories import PASSWORD, MembershipFactory, UserFactory, create_purchase_order
from tests.portal.test_health_and_settings import ROOT, production_like_environment

LOGIN = "/accounts/login/"


def log_in(client, username: str, password: str = PASSWORD, **extra):
    return client.post(LOGIN, {"username": username, "password": password}, REMOTE_ADDR=extra.get("ip", "192.0.2.10"))


def code_for(device: TOTPDevice, steps_ahead: int = 0) -> str:
    """What the user's app shows now (or `steps_ahead` periods later: a code is accepted only once)."""
    totp = TOTP(device.bin_key, device.step, device.t0, device.digits, device.drift)
    totp.time = time.time() + steps_ahead * device.step
    return f"{totp.token():06d}"


@pytest.fixture
def clerk(nordwerk):
    return MembershipFactory(user=UserFactory(username="clerk@nordwerk.example"), supplier=nordwerk, role="sales").user


@pytest.fixture
def supplier_admin(nordwerk):
    return MembershipFactory(user=UserFactory(username="boss@nordwerk.example"), supplier=nordwerk, role="admin").user


# --- Throttling and lockout (django-axes) -----------------------------------------------------------

def test_wrong_passwords_lock_the_user_name_out_from_that_address(clerk, client, settings):
    for attempt in range(settings.AXES_FAILURE_LIMIT - 1):
        assert log_in(client, clerk.username, "wrong-password").status_code == 200
    # A success before the limit resets the count.
    assert log_in(client, clerk.username).status_code == 302
    client.logout()
    for attempt in range(settings.AXES_FAILURE_LIMIT):
        log_in(client, clerk.username, "wrong-password")
    locked = log_in(client, clerk.username)
    assert locked.status_code == 429 and b"Too many failed logins" in locked.content
    assert "_auth_user_id" not in client.session
    # The admin's login is the same door.
    admin_login = client.post("/admin/login/", {"username": clerk.username, "password": PASSWORD}, REMOTE_ADDR="192.0.2.10")
    assert admin_login.status_code == 429
    # Another address, or another user name from this one, is not locked.
    assert log_in(client, clerk.username, ip="198.51.100.7").status_code == 302
    client.logout()
    other = UserFactory(username="other@nordwerk.example")
    assert log_in(client, other.username).status_code == 302


# --- Passwords ---------------------------------------------------------------------------------------

@pytest.mark.parametrize("password, reason", [
    ("Short-1", "too short"),
    ("password12345", "too common"),
    ("830274619385", "entirely numeric"),
    ("clerk.nordwerk.example", "too similar"),
])
def test_weak_new_passwords_are_refused(clerk, client, password, reason):
    client.force_login(clerk)
    response = client.post(reverse("password_change"), {
        "old_password": PASSWORD, "new_password1": password, "new_password2": password})
    assert response.status_code == 200 and reason in response.content.decode().replace("&#x27;", "'")
    clerk.refresh_from_db()
    assert clerk.check_password(PASSWORD)


def test_a_strong_new_password_is_taken(clerk, client):
    client.force_login(clerk)
    client.post(reverse("password_change"), {"old_password": PASSWORD, "new_password1": "Granite-Harbour-71",
                                             "new_password2": "Granite-Harbour-71"})
    clerk.refresh_from_db()
    assert clerk.check_password("Granite-Harbour-71")


# --- Second factor -----------------------------------------------------------------------------------

def set_up_second_factor(client, user) -> tuple[TOTPDevice, list[str]]:
    client.force_login(user)
    page = client.get(reverse("two-factor-setup"))
    assert page.status_code == 200 and b"data:image/svg+xml;base64," in page.content
    device = TOTPDevice.objects.get(user=user, confirmed=False)
    wrong = client.post(reverse("two-factor-setup"), {"code": "000000" if code_for(device) != "000000" else "111111"})
    assert b"does not match" in wrong.content and not TOTPDevice.objects.get(pk=device.pk).confirmed
    device.throttle_reset()
    done = client.post(reverse("two-factor-setup"), {"code": code_for(device)})
    codes = [code.decode() for code in __import__("re").findall(rb"<li><code>(\w+)</code></li>", done.content)]
    assert len(codes) == 10
    return TOTPDevice.objects.get(pk=device.pk), codes


def test_a_user_turns_on_the_second_factor_and_then_needs_a_code_after_the_password(clerk, nordwerk, client):
    create_purchase_order("PO-2F", supplier=nordwerk)
    device, codes = set_up_second_factor(client, clerk)
    assert device.confirmed and AuditEvent.objects.filter(action="second_factor.enabled", actor=clerk).exists()
    client.logout()
    assert log_in(client, clerk.username).status_code == 302
    orders = reverse("collaboration:purchase-order-detail", args=["PO-2F"])
    held = client.get(orders)
    assert held.status_code == 302 and held["Location"].startswith(reverse("two-factor-verify"))
    # Session API calls wait for the factor too.
    api = client.get("/api/v1/purchase-orders/")
    assert api.status_code == 403 and api.json()["code"] == "second_factor_required"
    assert b"not valid" in client.post(reverse("two-factor-verify"), {"code": "12345x", "next": orders}).content
    # django-otp throttles: right after a wrong code even the right one is refused for a moment.
    assert b"not valid" in client.post(reverse("two-factor-verify"), {"code": code_for(device, 1), "next": orders}).content
    for each in devices_for_user(clerk):
        each.throttle_reset()
    response = client.post(reverse("two-factor-verify"), {"code": code_for(device, 1), "next": orders})
    assert response.status_code == 302 and response["Location"] == orders
    assert b"PO-2F" in client.get(orders).content
    # A recovery code works once.
    client.logout()
    log_in(client, clerk.username)
    assert client.post(reverse("two-factor-verify"), {"code": codes[0]}).status_code == 302
    assert client.get(orders).status_code == 200
    client.logout()
    log_in(client, clerk.username)
    assert b"not valid" in client.post(reverse("two-factor-verify"), {"code": codes[0]}).content
    assert StaticToken.objects.filter(device__user=clerk).count() == 9


def test_the_next_address_after_the_code_stays_on_this_site(clerk, client):
    device, _ = set_up_second_factor(client, clerk)
    client.logout()
    log_in(client, clerk.username)
    response = client.post(reverse("two-factor-verify"), {"code": code_for(device, 1), "next": "https://evil.example/"})
    assert response["Location"] == "/"


def test_a_user_can_turn_it_off_unless_the_operator_requires_it(supplier_admin, client, settings):
    set_up_second_factor(client, supplier_admin)
    settings.TWO_FACTOR_REQUIRED = True
    response = client.post(reverse("two-factor"), {"action": "remove"}, follow=True)
    assert b"cannot be turned off" in response.content and TOTPDevice.objects.filter(user=supplier_admin).exists()
    settings.TWO_FACTOR_REQUIRED = False
    client.post(reverse("two-factor"), {"action": "remove"})
    assert not TOTPDevice.objects.filter(user=supplier_admin).exists()
    assert AuditEvent.objects.filter(action="second_factor.disabled").count() == 1


def test_when_mandatory_staff_and_supplier_admins_set_it_up_before_anything_else(
        supplier_admin, clerk, admin_user, client, settings):
    settings.TWO_FACTOR_REQUIRED = True
    for user, page in ((supplier_admin, reverse("collaboration:purchase-order-list")), (admin_user, "/admin/")):
        client.force_login(user)
        response = client.get(page)
        assert response.status_code == 302 and response["Location"].startswith(reverse("two-factor-setup")), user
        assert b"requires a second factor" in client.get(response["Location"]).content
        client.logout()
    # Others keep the choice.
    client.force_login(clerk)
    assert client.get(reverse("collaboration:purchase-order-list")).status_code == 200


def test_token_api_calls_need_no_second_factor(supplier_admin, nordwerk, client, settings):
    from collaboration import services
    from collaboration.actors import Actor

    settings.TWO_FACTOR_REQUIRED = True
    _, raw = services.api_token_create(supplier=nordwerk, name="ERP", scopes=["read"], expires_at=None,
                                       actor=Actor.for_user(supplier_admin, channel="portal"))
    assert client.get("/api/v1/purchase-orders/", headers={"Authorization": f"Bearer {raw}"}).status_code == 200


# --- Cookies and headers -----------------------------------------------------------------------------

def test_pages_carry_the_security_headers(clerk, client):
    client.force_login(clerk)
    response = client.get(reverse("collaboration:purchase-order-list"))
    policy = dict(part.strip().split(" ", 1) for part in response["Content-Security-Policy"].split(";"))
    assert policy["script-src"] == "'self'" and policy["style-src"] == "'self'" and policy["frame-ancestors"] == "'none'"
    assert policy["object-src"] == "'none'" and policy["form-action"] == "'self'"
    assert response["X-Frame-Options"] == "DENY" and response["X-Content-Type-Options"] == "nosniff"
    assert response["Referrer-Policy"] == "same-origin" and response["Cross-Origin-Opener-Policy"] == "same-origin"
    assert "camera=()" in response["Permissions-Policy"]
    # No page of the portal needs inline script or style.
    assert b"<script>" not in response.content and b"style=" not in response.content
    login = client.get(LOGIN)
    assert b"<script>" not in login.content


def test_cookies_are_http_only_and_same_site(clerk, client):
    response = log_in(client, clerk.username)
    session = response.cookies["sessionid"]
    assert session["httponly"] and session["samesite"] == "Lax"
    page = client.get(reverse("password_change"))
    csrf = page.cookies.get("csrftoken") or client.cookies["csrftoken"]
    assert csrf["httponly"] and csrf["samesite"] == "Lax"


def test_production_settings_use_secure_host_only_cookies(tmp_path):
    env = {**production_like_environment(), "HTTPS": "1", "PORTAL_VAR_DIR": str(tmp_path),
           "DJANGO_SETTINGS_MODULE": "portal.settings"}
    script = ("import json, django; django.setup(); from django.conf import settings as s; print(json.dumps("
              "[s.SESSION_COOKIE_NAME, s.SESSION_COOKIE_SECURE, s.CSRF_COOKIE_NAME, s.CSRF_COOKIE_SECURE, "
              "s.SECURE_SSL_REDIRECT, s.SECURE_HSTS_SECONDS]))")
    result = subprocess.run([sys.executable, "-c", script], cwd=ROOT, env=env, capture_output=True, text=True, timeout=60)
    assert json.loads(result.stdout.strip().splitlines()[-1]) == [
        "__Host-sessionid", True, "__Host-csrftoken", True, True, 31536000]
