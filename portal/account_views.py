"""A user's own settings page: the language of the portal (and links to password and second factor)."""
from __future__ import annotations

from django import forms
from django.conf import settings
from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.utils import translation
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy
from django.views.decorators.http import require_http_methods

from portal import languages


class LanguageForm(forms.Form):
    language = forms.ChoiceField(label=gettext_lazy("Language"), required=False, widget=forms.RadioSelect,
                                 choices=[("", gettext_lazy("As my browser asks"))] + list(settings.LANGUAGES))


@login_required
@require_http_methods(["GET", "POST"])
def account_settings(request: HttpRequest) -> HttpResponse:
    form = LanguageForm(request.POST or None, initial={"language": languages.chosen_language(request.user)})
    if request.method == "POST" and form.is_valid():
        language = form.cleaned_data["language"]
        languages.language_set(user=request.user, language=language, request=request)
        translation.activate(language or translation.get_language_from_request(request))
        messages.success(request, _("Settings saved."))
        return redirect("account-settings")
    return render(request, "portal/account_settings.html", {"form": form})
