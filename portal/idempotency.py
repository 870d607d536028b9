"""`Idempotency-Key` on API writes (Stripe's semantics): the same key with the same request gets the
stored response again; the same key with another request is refused (422); a key whose first
request is still running is refused (409). Server errors are not stored, so a retry runs again."""
from __future__ import annotations

import functools
import hashlib
import json

from django.db import IntegrityError, transaction
from rest_framework.renderers import JSONRenderer
from rest_framework.response import Response

from portal.api_errors import problem
from portal.models import IdempotencyRecord

HEADER = "Idempotency-Key"
MAX_KEY_LENGTH = 255


def _principal(request) -> str:
    if request.auth is not None and hasattr(request.auth, "pk"):
        return f"{type(request.auth).__name__.lower()}:{request.auth.pk}"
    return f"user:{request.user.pk}"


def request_fingerprint(request) -> str:
    """Of the method, the path and the raw body: for JSON requests."""
    return hashlib.sha256(b"\n".join([request.method.encode(), request.path.encode(), request.body])).hexdigest()


def multipart_fingerprint(request) -> str:
    """Of the method, the path, the form fields and each file's name and SHA-256: a multipart body's
    boundary changes with every attempt, so the raw bytes would never match a retry."""
    digest = hashlib.sha256(b"\n".join([request.method.encode(), request.path.encode()]))
    for name in sorted(request.POST):
        for value in request.POST.getlist(name):
            digest.update(json.dumps(["field", name, value]).encode())
    for name in sorted(request.FILES):
        for upload in request.FILES.getlist(name):
            content = hashlib.sha256()
            for chunk in upload.chunks():
                content.update(chunk)
            upload.seek(0)
            digest.update(json.dumps(["file", name, upload.name, content.hexdigest()]).encode())
    return digest.hexdigest()


def idempotent(handler=None, *, fingerprint=request_fingerprint):
    """Decorate an APIView `post` (or `put`) method; `@idempotent(fingerprint=multipart_fingerprint)`
    for file uploads."""
    if handler is None:
        return functools.partial(idempotent, fingerprint=fingerprint)

    @functools.wraps(handler)
    def wrapper(view, request, *args, **kwargs):
        key = request.headers.get(HEADER)
        if not key:
            return handler(view, request, *args, **kwargs)
        if len(key) > MAX_KEY_LENGTH:
            return problem(status_code=400, code="idempotency_key_invalid", title=f"{HEADER} is longer than {MAX_KEY_LENGTH} characters.")
        principal, digest = _principal(request), fingerprint(request)
        try:
            with transaction.atomic():
                record = IdempotencyRecord.objects.create(principal=principal, key=key, fingerprint=digest)
        except IntegrityError:
            record = IdempotencyRecord.objects.get(principal=principal, key=key)
            if record.fingerprint != digest:
                return problem(status_code=422, code="idempotency_key_reused",
                               title=f"This {HEADER} was used with a different request.")
            if record.status_code is None:
                return problem(status_code=409, code="idempotency_request_in_progress",
                               title=f"A request with this {HEADER} is still being processed; retry later.")
            response = Response(record.response_body, status=record.status_code)
            response["Idempotent-Replayed"] = "true"
            return response
        try:
            response = handler(view, request, *args, **kwargs)
        except Exception as exc:
            response = view.handle_exception(exc)
        if response.status_code >= 500:
            record.delete()
            return response
        record.status_code = response.status_code
        record.response_body = json.loads(JSONRenderer().render(response.data) or b"null")
        record.save(update_fields=["status_code", "response_body"])
        return response

    return wrapper
