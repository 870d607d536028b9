"""The second factor at login (django-otp): a TOTP app, with one-time recovery codes for a lost phone.

A user with a confirmed device is asked for a code after the password, on every page until given.
With TWO_FACTOR_REQUIRED, staff and supplier admins without one are sent to set it up first.
"""
from __future__ import annotations

import base64
import io
from urllib.parse import quote

import qrcode
import qrcode.image.svg
from django.conf import settings
from django.contrib.auth.signals import user_logged_in
from django.db import transaction
from django.dispatch import receiver
from django.http import HttpRequest, JsonResponse
from django.shortcuts import redirect
from django.urls import reverse
from django.utils.translation import gettext as _
from django_otp import user_has_device
from django_otp.plugins.otp_static.models import StaticDevice, StaticToken
from django_otp.plugins.otp_totp.models import TOTPDevice

from collaboration.actors import Actor
from collaboration.audit import audit_record
from collaboration.errors import Conflict, InvalidDocument
from collaboration.models import Channel, Membership

RECOVERY_CODE_COUNT = 10
# Where a user who still owes a second factor may go: the factor's own pages, logging out, the
# password pages, the login pages and the probes.
EXEMPT_VIEWS = {
    "two-factor", "two-factor-verify", "two-factor-setup", "logout", "login", "admin:login", "admin:logout",
    "password_reset", "password_reset_done", "password_reset_confirm", "password_reset_complete",
    "healthz", "readyz", "metrics", "set_language",
}


def required_for(user) -> bool:
    """Whether the operator made a second factor mandatory for this user (staff and supplier admins)."""
    if not settings.TWO_FACTOR_REQUIRED:
        return False
    return user.is_staff or Membership.objects.filter(user=user, role=Membership.Role.ADMIN, is_active=True).exists()


SESSION_KEY = "two_factor_owed"


def _owed_by(user) -> str:
    if user_has_device(user, confirmed=True):
        return "two-factor-verify"
    return "two-factor-setup" if required_for(user) else ""


@receiver(user_logged_in)
def _note_what_the_session_owes(sender, request, user, **kwargs) -> None:
    if request is not None and hasattr(request, "session"):
        request.session[SESSION_KEY] = _owed_by(user)


def owed(request: HttpRequest) -> str:
    """The page a session still owes ("two-factor-verify", "two-factor-setup") or "": worked out at login
    and kept in the (server-side) session, so pages cost no query for it. A factor set up elsewhere, or
    an obligation switched on, applies from the next login."""
    target = request.session.get(SESSION_KEY)
    if target is None:  # a session opened before this was deployed
        target = request.session[SESSION_KEY] = _owed_by(request.user)
    return target


class TwoFactorMiddleware:
    """Holds a logged-in user who owes a second factor at the code page (or, when mandatory, the setup
    page); an API call on such a session gets a 403 problem. Token-authenticated API calls have no
    session user here and pass: their tokens are their factor."""

    def __init__(self, get_response) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest):
        return self.get_response(request)

    def process_view(self, request: HttpRequest, view_func, view_args, view_kwargs):
        user = request.user
        if not user.is_authenticated or user.is_verified() or request.resolver_match.view_name in EXEMPT_VIEWS:
            return None
        target = owed(request)
        if not target:
            return None
        if request.path.startswith("/api/"):
            return JsonResponse({"code": "second_factor_required", "title": _("Give your second factor in the portal first."),
                                 "status": 403}, status=403, content_type="application/problem+json")
        return redirect(f"{reverse(target)}?next={quote(request.get_full_path())}")


def _actor(user) -> Actor:
    return Actor.for_user(user, channel=Channel.PORTAL)


def totp_device_pending(*, user) -> TOTPDevice:
    """The user's authenticator being set up (made on first call, the same key until confirmed)."""
    device = TOTPDevice.objects.filter(user=user, confirmed=False).order_by("id").first()
    return device or TOTPDevice.objects.create(user=user, name="Authenticator app", confirmed=False)


def qr_code_data_uri(device: TOTPDevice) -> str:
    """The device's otpauth:// address as an SVG QR code, for an <img> (the policy allows data: images)."""
    out = io.BytesIO()
    qrcode.make(device.config_url, image_factory=qrcode.image.svg.SvgPathImage, border=2).save(out)
    return "data:image/svg+xml;base64," + base64.b64encode(out.getvalue()).decode()


def secret_text(device: TOTPDevice) -> str:
    """The key in base32 groups of four, for typing into an app that cannot scan."""
    key = base64.b32encode(device.bin_key).decode().rstrip("=")
    return " ".join(key[i:i + 4] for i in range(0, len(key), 4))


def _new_recovery_codes(user) -> list[str]:
    StaticDevice.objects.filter(user=user).delete()
    device = StaticDevice.objects.create(user=user, name="Recovery codes", confirmed=True)
    codes = [StaticToken.random_token() for _ in range(RECOVERY_CODE_COUNT)]
    StaticToken.objects.bulk_create(StaticToken(device=device, token=code) for code in codes)
    return codes


def second_factor_confirm(*, user, code: str) -> tuple[TOTPDevice, list[str]]:
    """Confirms the pending authenticator with a code from it; returns it and fresh recovery codes (shown once)."""
    with transaction.atomic():
        device = totp_device_pending(user=user)
        if not device.verify_token(code.replace(" ", "")):
            raise InvalidDocument(_("That code does not match. Check the time on your phone and enter the current code."))
        device.confirmed = True
        device.save(update_fields=["confirmed"])
        TOTPDevice.objects.filter(user=user).exclude(pk=device.pk).delete()
        codes = _new_recovery_codes(user)
        audit_record(actor=_actor(user), action="second_factor.enabled", obj=device, supplier=None,
                     after={"device": device.name})
    return device, codes


def recovery_codes_renew(*, user) -> list[str]:
    if not user_has_device(user, confirmed=True):
        raise Conflict(_("Set up an authenticator app first."))
    with transaction.atomic():
        codes = _new_recovery_codes(user)
        audit_record(actor=_actor(user), action="second_factor.recovery_codes_renewed", obj=user, supplier=None)
    return codes


def second_factor_remove(*, user) -> None:
    """Turns the second factor off, unless the operator made it mandatory for this user."""
    if required_for(user):
        raise Conflict(_("Your portal operator requires a second factor for your account; it cannot be turned off."))
    with transaction.atomic():
        TOTPDevice.objects.filter(user=user).delete()
        StaticDevice.objects.filter(user=user).delete()
        audit_record(actor=_actor(user), action="second_factor.disabled", obj=user, supplier=None)
