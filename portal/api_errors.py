"""One translation of errors into JSON problems (RFC 9457 style) with a stable `code`, for every API view."""
from __future__ import annotations

from django.http import Http404
from rest_framework import exceptions
from rest_framework.response import Response
from rest_framework.views import exception_handler

from collaboration.errors import DomainError

PROBLEM_CONTENT_TYPE = "application/problem+json"

_DRF_CODES = {
    exceptions.ValidationError: "invalid",
    exceptions.ParseError: "malformed_json",
    exceptions.NotAuthenticated: "not_authenticated",
    exceptions.AuthenticationFailed: "authentication_failed",
    exceptions.PermissionDenied: "permission_denied",
    exceptions.NotFound: "not_found",
    exceptions.MethodNotAllowed: "method_not_allowed",
    exceptions.UnsupportedMediaType: "unsupported_media_type",
    exceptions.Throttled: "throttled",
}


def problem(*, status_code: int, code: str, title: str, errors: dict | list | None = None, headers=None) -> Response:
    body = {"type": "about:blank", "status": status_code, "code": code, "title": title}
    if errors:
        body["errors"] = errors
    response = Response(body, status=status_code, headers=headers)
    response.content_type = PROBLEM_CONTENT_TYPE
    return response


def problem_exception_handler(exc, context):
    if isinstance(exc, DomainError):
        return problem(status_code=exc.status, code=exc.code, title=exc.message, errors=exc.details or None)
    if isinstance(exc, Http404):
        exc = exceptions.NotFound()
    response = exception_handler(exc, context)
    if response is None:
        return None
    code = next((c for cls, c in _DRF_CODES.items() if isinstance(exc, cls)), "error")
    if isinstance(exc, exceptions.ValidationError):
        title, errors = "The request is not valid.", response.data
    else:
        title, errors = str(getattr(exc, "detail", "Error")), None
    headers = {k: v for k, v in response.items() if k in ("Retry-After", "WWW-Authenticate", "Allow")}
    result = problem(status_code=response.status_code, code=code, title=title, errors=errors, headers=headers)
    return result
