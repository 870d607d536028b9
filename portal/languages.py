"""The language of the pages: the user's own choice (kept in the session from login on, so pages cost
no query for it), else the browser's through Django's LocaleMiddleware."""
from __future__ import annotations

from django.conf import settings
from django.contrib.auth.signals import user_logged_in
from django.dispatch import receiver
from django.http import HttpRequest
from django.utils import translation

from portal.models import AccountSettings

SESSION_KEY = "account_language"


def chosen_language(user) -> str:
    return AccountSettings.objects.filter(user=user).values_list("language", flat=True).first() or ""


@receiver(user_logged_in)
def _keep_the_users_language(sender, request, user, **kwargs) -> None:
    if request is not None and hasattr(request, "session"):
        request.session[SESSION_KEY] = chosen_language(user)


def language_set(*, user, language: str, request: HttpRequest | None = None) -> AccountSettings:
    """Stores the user's language ("" for the browser's); with a request, applies it to this session."""
    if language and language not in dict(settings.LANGUAGES):
        raise ValueError(f"Unknown language {language!r}")
    account, _ = AccountSettings.objects.update_or_create(user=user, defaults={"language": language})
    if request is not None:
        request.session[SESSION_KEY] = language
    return account


class UserLanguageMiddleware:
    """After LocaleMiddleware (browser) and authentication: a logged-in user's own choice wins."""

    def __init__(self, get_response) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest):
        language = request.session.get(SESSION_KEY) if request.user.is_authenticated else None
        if language:
            translation.activate(language)
            request.LANGUAGE_CODE = language
        return self.get_response(request)
