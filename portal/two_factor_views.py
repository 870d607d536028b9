"""Pages of the second factor: give a code after the password, set an authenticator up, renew the
recovery codes, turn it off. Thin: the rules are in `portal.two_factor`."""
from __future__ import annotations

from django import forms
from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.utils.http import url_has_allowed_host_and_scheme
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy
from django.views.decorators.http import require_http_methods
from django_otp import login as otp_login
from django_otp import match_token, user_has_device

from collaboration.errors import DomainError
from portal import two_factor


class CodeForm(forms.Form):
    code = forms.CharField(max_length=16, label=gettext_lazy("Code"), widget=forms.TextInput(attrs={
        "autocomplete": "one-time-code", "inputmode": "numeric", "autofocus": True}),
        help_text=gettext_lazy("The 6 digits your authenticator app shows now, or one of your recovery codes."))


def _next(request: HttpRequest) -> str:
    target = request.POST.get("next") or request.GET.get("next") or ""
    if url_has_allowed_host_and_scheme(target, allowed_hosts={request.get_host()}, require_https=request.is_secure()):
        return target
    return "/"


@login_required
@require_http_methods(["GET", "POST"])
def verify(request: HttpRequest) -> HttpResponse:
    """After the password: a code from the app (or a recovery code, used up) marks this session verified."""
    if not user_has_device(request.user, confirmed=True) or request.user.is_verified():
        return redirect(_next(request))
    form = CodeForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        device = match_token(request.user, form.cleaned_data["code"].replace(" ", ""))
        if device is not None:
            otp_login(request, device)
            return redirect(_next(request))
        # django-otp slows guessing down: after each failure a device refuses codes for a growing time.
        form.add_error("code", _("That code is not valid (or came too soon after a wrong one). Try the current one."))
    return render(request, "registration/two_factor_verify.html", {"form": form, "next": _next(request)})


@login_required
@require_http_methods(["GET", "POST"])
def setup(request: HttpRequest) -> HttpResponse:
    """Scan the QR code (or type the key) into an app, then confirm with a code from it."""
    if user_has_device(request.user, confirmed=True) and request.method == "GET":
        return redirect("two-factor")
    device = two_factor.totp_device_pending(user=request.user)
    form = CodeForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        try:
            device, codes = two_factor.second_factor_confirm(user=request.user, code=form.cleaned_data["code"])
        except DomainError as error:
            form.add_error("code", error.message)
        else:
            otp_login(request, device)
            return render(request, "registration/two_factor_codes.html", {"codes": codes, "next": _next(request)})
    return render(request, "registration/two_factor_setup.html", {
        "form": form, "qr_code": two_factor.qr_code_data_uri(device), "secret": two_factor.secret_text(device),
        "next": _next(request), "required": two_factor.required_for(request.user),
    })


@login_required
@require_http_methods(["GET", "POST"])
def overview(request: HttpRequest) -> HttpResponse:
    """The account's second factor: on or off; renew recovery codes or turn it off (POST `action`)."""
    enabled = user_has_device(request.user, confirmed=True)
    if request.method == "POST":
        try:
            if request.POST.get("action") == "renew":
                return render(request, "registration/two_factor_codes.html", {
                    "codes": two_factor.recovery_codes_renew(user=request.user), "next": ""})
            two_factor.second_factor_remove(user=request.user)
            request.session.pop(two_factor.SESSION_KEY, None)
        except DomainError as error:
            messages.error(request, error.message)
        else:
            messages.success(request, _("Second factor turned off. Only your password protects your account now."))
        return redirect("two-factor")
    return render(request, "registration/two_factor.html", {
        "enabled": enabled, "required": two_factor.required_for(request.user),
    })
